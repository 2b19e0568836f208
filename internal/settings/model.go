// Package settings is 系统设置: the company's basic information, language,
// time zone, currency display, working days, quiet hours, logo and the
// option lists people pick from. Settings are cached in each instance and
// the cache is checked against a version counter (in kv when Redis is
// configured, else in the database) on every read, so a change applies at
// once on every instance.
package settings

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNoLogo         = errs.NotFound("setting.no_logo")
	ErrUnknownList    = errs.NotFound("setting.unknown_list")
	ErrOptionNotFound = errs.NotFound("setting.option_not_found")
)

// Permission to change settings.
const permManage = "setting.manage"

// Logo limits.
const (
	MaxLogoBytes = 512 << 10
)

// LogoTypes are the image types a logo may be.
var LogoTypes = []string{"image/png", "image/jpeg", "image/webp"}

// Company is the company's settings. Other modules read it through
// Service.Company (reminders use the quiet hours, reports the currency).
type Company struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Email   string `json:"email"`
	Address string `json:"address"`
	// Lang is the default language (zh-CN | en); a person's own choice wins.
	Lang string `json:"lang"`
	// Timezone is an IANA zone name, e.g. Asia/Shanghai.
	Timezone string `json:"timezone"`
	// Currency is the ISO 4217 code (CNY); CurrencySymbol what is shown (¥)
	// and CurrencyPosition where: "before" (¥100) or "after" (100 元).
	Currency         string `json:"currency"`
	CurrencySymbol   string `json:"currency_symbol"`
	CurrencyPosition string `json:"currency_position"`
	// WorkingDays are ISO weekdays, 1 = Monday … 7 = Sunday, ascending.
	WorkingDays []int `json:"working_days"`
	// QuietStart and QuietEnd ("22:00", "08:00") bound the quiet hours in
	// the company zone; start after end wraps past midnight, equal means none.
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
	// LogoURL is where the logo is served ("" when there is none); it
	// changes with the logo, so browsers may cache it.
	LogoURL string `json:"logo_url"`
	// Version counts changes to settings and option lists.
	Version int64 `json:"version"`
}

// Input changes company settings; absent fields are left as they are.
type Input struct {
	Name             *string `json:"name"`
	Phone            *string `json:"phone"`
	Email            *string `json:"email"`
	Address          *string `json:"address"`
	Lang             *string `json:"lang"`
	Timezone         *string `json:"timezone"`
	Currency         *string `json:"currency"`
	CurrencySymbol   *string `json:"currency_symbol"`
	CurrencyPosition *string `json:"currency_position"`
	WorkingDays      *[]int  `json:"working_days"`
	QuietStart       *string `json:"quiet_start"`
	QuietEnd         *string `json:"quiet_end"`
}

// Location is the company's time zone (UTC if the stored name is unknown,
// which validation prevents).
func (c Company) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Working reports whether t falls on a working day in the company zone.
func (c Company) Working(t time.Time) bool {
	wd := int(t.In(c.Location()).Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, d := range c.WorkingDays {
		if d == wd {
			return true
		}
	}
	return false
}

// InQuiet reports whether t is within the quiet hours and, if so, when they
// end (the first moment notifications may go out again).
func (c Company) InQuiet(t time.Time) (bool, time.Time) {
	start, ok1 := minutes(c.QuietStart)
	end, ok2 := minutes(c.QuietEnd)
	if !ok1 || !ok2 || start == end {
		return false, time.Time{}
	}
	loc := c.Location()
	lt := t.In(loc)
	now := lt.Hour()*60 + lt.Minute()
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	at := func(d time.Time, m int) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), m/60, m%60, 0, 0, loc)
	}
	if start < end { // e.g. 12:00–14:00 on the same day
		if now >= start && now < end {
			return true, at(day, end)
		}
		return false, time.Time{}
	}
	// wraps past midnight, e.g. 22:00–08:00
	switch {
	case now >= start:
		return true, at(day.AddDate(0, 0, 1), end)
	case now < end:
		return true, at(day, end)
	}
	return false, time.Time{}
}

// FormatFen shows an amount in fen with the company's currency display:
// 1234567 → "¥12,345.67" (or "12,345.67 元" with the symbol after).
func (c Company) FormatFen(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	yuan := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, r := range yuan {
		if i > 0 && (len(yuan)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	num := fmt.Sprintf("%s.%02d", b.String(), fen%100)
	if neg {
		num = "-" + num
	}
	if c.CurrencyPosition == "after" {
		return num + " " + c.CurrencySymbol
	}
	return c.CurrencySymbol + num
}

// minutes parses "HH:MM" (00:00–23:59) into minutes after midnight.
func minutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' {
		return 0, false
	}
	return h*60 + m, true
}

// fields is the audited form of the settings.
func (c Company) fields() map[string]any {
	return map[string]any{"name": c.Name, "phone": c.Phone, "email": c.Email, "address": c.Address,
		"lang": c.Lang, "timezone": c.Timezone, "currency": c.Currency, "currency_symbol": c.CurrencySymbol,
		"currency_position": c.CurrencyPosition, "working_days": c.WorkingDays,
		"quiet_start": c.QuietStart, "quiet_end": c.QuietEnd}
}

// Option is one entry of an option list: a stable code (stored on records)
// with a label in each language, an order and an active flag.
type Option struct {
	Code    string `json:"code" db:"code"`
	LabelZh string `json:"label_zh" db:"label_zh"`
	LabelEn string `json:"label_en" db:"label_en"`
	Sort    int    `json:"sort" db:"sort"`
	Active  bool   `json:"active" db:"active"`
}

// Label is the option's label in lang.
func (o Option) Label(lang string) string {
	if lang == "en" {
		return o.LabelEn
	}
	return o.LabelZh
}

// OptionInput adds or edits one option; absent fields are left as they are.
type OptionInput struct {
	Code    *string `json:"code"`
	LabelZh *string `json:"label_zh"`
	LabelEn *string `json:"label_en"`
	Active  *bool   `json:"active"`
}

// ListInput replaces a whole list (order = position in Items).
type ListInput struct {
	Items *[]OptionInput `json:"items"`
}

// OrderInput reorders a list: every code once, in the new order.
type OrderInput struct {
	Codes *[]string `json:"codes"`
}
