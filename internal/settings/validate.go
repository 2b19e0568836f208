package settings

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones are validated the same on every machine
	"unicode"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/errs"
)

// Field limits, in characters.
const (
	maxName    = 100
	maxPhone   = 30
	maxEmail   = 100
	maxAddress = 200
	maxSymbol  = 4
	maxLabel   = 50
	maxOptions = 200
)

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	phonePattern    = regexp.MustCompile(`^[0-9+\-() ]{3,30}$`)
	codePattern     = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
)

func text(v *errs.Invalid, field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		v.Add(field, "validation.required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "validation.too_long", "max", max)
	case strings.ContainsFunc(s, unicode.IsControl):
		v.Add(field, "validation.control_chars")
	}
	return s
}

// apply validates in and writes it onto c, reporting every problem at once.
func apply(c *Company, in Input) error {
	var v errs.Invalid
	if in.Name != nil {
		c.Name = text(&v, "name", *in.Name, maxName, true)
	}
	if in.Phone != nil {
		c.Phone = text(&v, "phone", *in.Phone, maxPhone, false)
		if c.Phone != "" && !v.Has("phone") && !phonePattern.MatchString(c.Phone) {
			v.Add("phone", "validation.phone")
		}
	}
	if in.Email != nil {
		c.Email = text(&v, "email", *in.Email, maxEmail, false)
		if c.Email != "" && !v.Has("email") {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || !strings.Contains(c.Email, ".") {
				v.Add("email", "validation.email")
			}
		}
	}
	if in.Address != nil {
		c.Address = text(&v, "address", *in.Address, maxAddress, false)
	}
	if in.Lang != nil {
		c.Lang = strings.TrimSpace(*in.Lang)
		if c.Lang != "zh-CN" && c.Lang != "en" {
			v.Add("lang", "validation.not_an_option")
		}
	}
	if in.Timezone != nil {
		c.Timezone = strings.TrimSpace(*in.Timezone)
		if !validZone(c.Timezone) {
			v.Add("timezone", "setting.unknown_timezone", "zone", c.Timezone)
		}
	}
	if in.Currency != nil {
		c.Currency = strings.ToUpper(strings.TrimSpace(*in.Currency))
		if !currencyPattern.MatchString(c.Currency) {
			v.Add("currency", "setting.bad_currency")
		}
	}
	if in.CurrencySymbol != nil {
		c.CurrencySymbol = text(&v, "currency_symbol", *in.CurrencySymbol, maxSymbol, true)
	}
	if in.CurrencyPosition != nil {
		c.CurrencyPosition = strings.TrimSpace(*in.CurrencyPosition)
		if c.CurrencyPosition != "before" && c.CurrencyPosition != "after" {
			v.Add("currency_position", "validation.not_an_option")
		}
	}
	if in.WorkingDays != nil {
		c.WorkingDays = workingDays(&v, *in.WorkingDays)
	}
	if in.QuietStart != nil {
		c.QuietStart = strings.TrimSpace(*in.QuietStart)
	}
	if in.QuietEnd != nil {
		c.QuietEnd = strings.TrimSpace(*in.QuietEnd)
	}
	checkQuiet(&v, c.QuietStart, c.QuietEnd)
	return v.Err()
}

// validZone accepts IANA names only (not "Local", not "").
func validZone(name string) bool {
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

func workingDays(v *errs.Invalid, days []int) []int {
	out := []int{}
	for _, d := range days {
		if d < 1 || d > 7 {
			v.Add("working_days", "setting.bad_weekday")
			return days
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		v.Add("working_days", "setting.no_working_days")
	}
	slices.Sort(out)
	return out
}

// checkQuiet: both times empty (no quiet hours) or both valid HH:MM and
// different.
func checkQuiet(v *errs.Invalid, start, end string) {
	if start == "" && end == "" {
		return
	}
	s, ok1 := minutes(start)
	e, ok2 := minutes(end)
	if !ok1 {
		v.Add("quiet_start", "setting.bad_time")
	}
	if !ok2 {
		v.Add("quiet_end", "setting.bad_time")
	}
	if ok1 && ok2 && s == e {
		v.Add("quiet_end", "setting.quiet_same")
	}
}

// applyOption validates one option's input onto o; create demands code and
// both labels.
func applyOption(v *errs.Invalid, prefix string, o *Option, in OptionInput, create bool) {
	if create || in.Code != nil {
		code := ""
		if in.Code != nil {
			code = strings.TrimSpace(*in.Code)
		}
		switch {
		case code == "":
			v.Add(prefix+"code", "validation.required")
		case !codePattern.MatchString(code):
			v.Add(prefix+"code", "setting.bad_code")
		}
		o.Code = code
	}
	if create || in.LabelZh != nil {
		s := ""
		if in.LabelZh != nil {
			s = *in.LabelZh
		}
		o.LabelZh = text(v, prefix+"label_zh", s, maxLabel, true)
	}
	if create || in.LabelEn != nil {
		s := ""
		if in.LabelEn != nil {
			s = *in.LabelEn
		}
		o.LabelEn = text(v, prefix+"label_en", s, maxLabel, true)
	}
	if in.Active != nil {
		o.Active = *in.Active
	} else if create {
		o.Active = true
	}
}

// checkList validates a whole list after an edit: not empty, at least one
// active option, codes and labels unique, no option of before removed
// (retire an option instead: records may carry its code).
func checkList(v *errs.Invalid, before, after []Option) {
	if len(after) == 0 {
		v.Add("items", "setting.empty_list")
		return
	}
	if len(after) > maxOptions {
		v.Add("items", "validation.too_many", "max", maxOptions)
		return
	}
	codes, zh, en := map[string]bool{}, map[string]bool{}, map[string]bool{}
	active := 0
	for _, o := range after {
		if o.Code != "" && codes[o.Code] {
			v.Add("items", "setting.duplicate_code", "code", o.Code)
		}
		if o.LabelZh != "" && zh[o.LabelZh] {
			v.Add("items", "setting.duplicate_label", "label", o.LabelZh)
		}
		if o.LabelEn != "" && en[strings.ToLower(o.LabelEn)] {
			v.Add("items", "setting.duplicate_label", "label", o.LabelEn)
		}
		codes[o.Code], zh[o.LabelZh], en[strings.ToLower(o.LabelEn)] = true, true, true
		if o.Active {
			active++
		}
	}
	if active == 0 {
		v.Add("items", "setting.no_active_option")
	}
	for _, o := range before {
		if !codes[o.Code] {
			v.Add("items", "setting.option_removed", "code", o.Code)
			break
		}
	}
}
