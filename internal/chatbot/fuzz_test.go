package chatbot

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseWhen reads arbitrary text as the start of a reminder: it never
// panics, and a time it accepts is in the future, within maxDaysAhead, and
// leaves as the rest a valid tail of what was typed (the content of the
// reminder, stored and shown to the person).
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"今天 16:00 回电话", "明天 9：05 全角冒号", "3天后 跟进合同", "in 2 days 10:00 call",
		"下周一 10:00 拜访", "next FRIDAY 08:15 demo", "2026-12-01 10:00 签约", "2026-02-30 10:00 x",
		"99999999999999999999天后", "next frİday x", "ǅ", "today 24:00", "\xff明天 10:00", "明天 10:00\xff"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, loc)
	f.Fuzz(func(t *testing.T, s string) {
		at, rest, err := ParseWhen(s, now, loc)
		if err != nil {
			if !errors.Is(err, ErrNoTime) && !errors.Is(err, ErrBadTime) && !errors.Is(err, ErrPastTime) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !at.After(now) || at.After(now.AddDate(0, 0, maxDaysAhead)) {
			t.Fatalf("%q: time %v out of range", s, at)
		}
		norm := strings.TrimSpace(strings.ReplaceAll(s, "：", ":"))
		if !strings.HasSuffix(norm, rest) || len(rest) >= len(norm) {
			t.Fatalf("%q: rest %q is not a tail of the input", s, rest)
		}
		if utf8.ValidString(s) && !utf8.ValidString(rest) {
			t.Fatalf("%q: rest %q cut a character", s, rest)
		}
	})
}
