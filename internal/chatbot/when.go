package chatbot

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The time grammar of 提醒 / remind, read at the start of the text:
//
//	今天 HH:MM, 明天 HH:MM, 后天 HH:MM      today / tomorrow HH:MM
//	N天后 [HH:MM]                         in N days [HH:MM]
//	下周一 [HH:MM] … 下周日               next monday [HH:MM] … next sunday
//	YYYY-MM-DD HH:MM
//
// in the company's time zone. Without a time of day the day's 09:00 is
// meant. "下周X" and "next X" are that day of next week (weeks start on
// Monday), so on a Wednesday "next monday" is five days later.

// Errors of ParseWhen.
var (
	ErrNoTime   = errors.New("chatbot: no time recognized")
	ErrBadTime  = errors.New("chatbot: no such time")
	ErrPastTime = errors.New("chatbot: time is in the past")
)

const defaultHour = 9

// maxDaysAhead bounds "N天后" and dates.
const maxDaysAhead = 366 * 2

var (
	reDate    = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})\s*(\d{1,2}):(\d{2})`)
	reDayWord = regexp.MustCompile(`^(今天|明天|后天|today|tomorrow)\s*(\d{1,2}):(\d{2})`)
	reNDays   = regexp.MustCompile(`^(?:(\d+)\s*天后|in\s+(\d+)\s+days?)(?:\s*(\d{1,2}):(\d{2}))?`)
	reNext    = regexp.MustCompile(`^(?:下周|下星期|next\s+)(一|二|三|四|五|六|日|天|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)(?:\s*(\d{1,2}):(\d{2}))?`)
)

var weekdays = map[string]int{ // days after Monday
	"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
	"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
	"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}

// ParseWhen reads a time at the start of s (relative to now, in loc) and
// returns it with the rest of s.
func ParseWhen(s string, now time.Time, loc *time.Location) (time.Time, string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "：", ":"))
	lower := strings.ToLower(s)
	now = now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var day time.Time
	var hh, mm string
	var m []string
	switch {
	case reDate.MatchString(lower):
		m = reDate.FindStringSubmatch(lower)
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		day = time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
		if day.Year() != y || int(day.Month()) != mo || day.Day() != d {
			return time.Time{}, s, ErrBadTime // 2026-02-30
		}
		hh, mm = m[4], m[5]
	case reDayWord.MatchString(lower):
		m = reDayWord.FindStringSubmatch(lower)
		add := map[string]int{"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}[m[1]]
		day, hh, mm = today.AddDate(0, 0, add), m[2], m[3]
	case reNDays.MatchString(lower):
		m = reNDays.FindStringSubmatch(lower)
		n, err := strconv.Atoi(m[1] + m[2])
		if err != nil || n < 1 || n > maxDaysAhead {
			return time.Time{}, s, ErrBadTime
		}
		day, hh, mm = today.AddDate(0, 0, n), m[3], m[4]
	case reNext.MatchString(lower):
		m = reNext.FindStringSubmatch(lower)
		monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		day, hh, mm = monday.AddDate(0, 0, 7+weekdays[m[1]]), m[2], m[3]
	default:
		return time.Time{}, s, ErrNoTime
	}
	h, mi := defaultHour, 0
	if hh != "" {
		h, _ = strconv.Atoi(hh)
		mi, _ = strconv.Atoi(mm)
		if h > 23 || mi > 59 {
			return time.Time{}, s, ErrBadTime
		}
	}
	at := time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, loc)
	if !at.After(now) {
		return time.Time{}, s, ErrPastTime
	}
	if at.After(now.AddDate(0, 0, maxDaysAhead)) {
		return time.Time{}, s, ErrBadTime
	}
	return at, strings.TrimSpace(afterLowered(s, len(m[0]))), nil
}

// afterLowered returns what follows the part of s whose lower-cased form
// is n bytes long. The patterns match the lower-cased text, and lowering
// can change a character's length: "İ" (2 bytes) becomes "i", the Kelvin
// sign (3 bytes) "k", so cutting s at n would split a character or drop
// the start of the reminder's text ("next frİday" matched "next friday").
func afterLowered(s string, n int) string {
	i := 0
	for n > 0 && i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		n -= utf8.RuneLen(unicode.ToLower(r))
		i += size
	}
	return s[i:]
}
