package settings

import (
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

func TestInQuiet(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, sh) }
	tests := []struct {
		name       string
		start, end string
		t          time.Time
		quiet      bool
		until      time.Time
	}{
		{"wrap: late evening", "22:00", "08:00", at(23, 30), true, time.Date(2026, 11, 28, 8, 0, 0, 0, sh)},
		{"wrap: at start", "22:00", "08:00", at(22, 0), true, time.Date(2026, 11, 28, 8, 0, 0, 0, sh)},
		{"wrap: early morning", "22:00", "08:00", at(7, 59), true, at(8, 0)},
		{"wrap: at end", "22:00", "08:00", at(8, 0), false, time.Time{}},
		{"wrap: day", "22:00", "08:00", at(12, 0), false, time.Time{}},
		{"same day: inside", "12:00", "14:00", at(13, 0), true, at(14, 0)},
		{"same day: before", "12:00", "14:00", at(11, 59), false, time.Time{}},
		{"none", "", "", at(23, 0), false, time.Time{}},
		{"UTC instant in the company zone", "22:00", "08:00", time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), true, time.Date(2026, 11, 28, 8, 0, 0, 0, sh)},
	}
	for _, tc := range tests {
		c := Company{Timezone: "Asia/Shanghai", QuietStart: tc.start, QuietEnd: tc.end}
		q, until := c.InQuiet(tc.t)
		if q != tc.quiet || !until.Equal(tc.until) {
			t.Errorf("%s: InQuiet(%s) = %v, %s; want %v, %s", tc.name, tc.t, q, until, tc.quiet, tc.until)
		}
	}
}

func TestCompanyHelpers(t *testing.T) {
	c := Company{Timezone: "Asia/Shanghai", CurrencySymbol: "¥", CurrencyPosition: "before", WorkingDays: []int{1, 2, 3, 4, 5}}
	for fen, want := range map[int64]string{0: "¥0.00", 5: "¥0.05", 123456789: "¥1,234,567.89", -1050: "¥-10.50"} {
		if got := c.FormatFen(fen); got != want {
			t.Errorf("FormatFen(%d) = %q, want %q", fen, got, want)
		}
	}
	c.CurrencySymbol, c.CurrencyPosition = "元", "after"
	if got := c.FormatFen(100000); got != "1,000.00 元" {
		t.Errorf("after: %q", got)
	}
	// Friday 2026-11-27 23:30 UTC is Saturday in Shanghai.
	if c.Working(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)) {
		t.Error("Saturday in Shanghai counted as a working day")
	}
	if !c.Working(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)) {
		t.Error("Friday not a working day")
	}
	if c.Location().String() != "Asia/Shanghai" || (Company{Timezone: "Nope/Nope"}).Location() != time.UTC {
		t.Error("Location")
	}
}

func TestApplyRefusesNonsense(t *testing.T) {
	s := func(v string) *string { return &v }
	days := func(d ...int) *[]int { return &d }
	tests := []struct {
		in    Input
		field string
	}{
		{Input{Timezone: s("Mars/Olympus")}, "timezone"},
		{Input{Timezone: s("Local")}, "timezone"},
		{Input{WorkingDays: days()}, "working_days"},
		{Input{WorkingDays: days(1, 9)}, "working_days"},
		{Input{QuietStart: s("24:00")}, "quiet_start"},
		{Input{QuietStart: s("+1:00")}, "quiet_start"},
		{Input{QuietEnd: s("08:5")}, "quiet_end"},
		{Input{QuietStart: s("08:00"), QuietEnd: s("08:00")}, "quiet_end"},
		{Input{Currency: s("RMB1")}, "currency"},
		{Input{CurrencyPosition: s("left")}, "currency_position"},
		{Input{Lang: s("de")}, "lang"},
		{Input{Email: s("a@b")}, "email"},
		{Input{Phone: s("call me")}, "phone"},
		{Input{Name: s("")}, "name"},
	}
	for _, tc := range tests {
		c := Company{QuietStart: "22:00", QuietEnd: "08:00"}
		err := apply(&c, tc.in)
		var e *errs.Error
		if err == nil || !errorsAs(err, &e) || e.Fields[tc.field].Key == "" {
			t.Errorf("%+v: got %v, want a problem with %s", tc.in, err, tc.field)
		}
	}
	c := Company{}
	if err := apply(&c, Input{WorkingDays: days(7, 1, 1, 3), Timezone: s("Europe/Paris"), QuietStart: s(""), QuietEnd: s("")}); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	if len(c.WorkingDays) != 3 || c.WorkingDays[0] != 1 || c.WorkingDays[2] != 7 {
		t.Errorf("working days not normalized: %v", c.WorkingDays)
	}
}

func TestCheckList(t *testing.T) {
	a := Option{Code: "a", LabelZh: "甲", LabelEn: "A", Active: true}
	b := Option{Code: "b", LabelZh: "乙", LabelEn: "B", Active: true}
	tests := []struct {
		name          string
		before, after []Option
		ok            bool
	}{
		{"same", []Option{a, b}, []Option{b, a}, true},
		{"empty", []Option{a}, nil, false},
		{"duplicate code", nil, []Option{a, {Code: "a", LabelZh: "丙", LabelEn: "C", Active: true}}, false},
		{"duplicate label in English, any case", nil, []Option{a, {Code: "c", LabelZh: "丙", LabelEn: "a", Active: true}}, false},
		{"removed", []Option{a, b}, []Option{a}, false},
		{"none active", nil, []Option{{Code: "a", LabelZh: "甲", LabelEn: "A"}}, false},
	}
	for _, tc := range tests {
		var v errs.Invalid
		checkList(&v, tc.before, tc.after)
		if (v.Err() == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, v.Err())
		}
	}
}
