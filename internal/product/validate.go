package product

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
)

// Limits on field lengths, in characters.
const (
	maxName = 100
	maxCode = 32
	maxUnit = 16
)

// Text checks a free-text field and returns it trimmed (shared by the sale
// and deal packages, which validate their text the same way).
func Text(v *errs.Invalid, field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		v.Add(field, "validation.required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "validation.too_long", "max", max)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		v.Add(field, "validation.control_chars")
	}
	return s
}

// apply validates in and writes its set fields onto p, reporting every
// problem at once.
func apply(p *Product, in Input) error {
	var v errs.Invalid
	if in.Name != nil {
		p.Name = Text(&v, "name", *in.Name, maxName, true)
	}
	if in.Code != nil {
		p.Code = Text(&v, "code", *in.Code, maxCode, false)
	}
	if in.Unit != nil {
		p.Unit = Text(&v, "unit", *in.Unit, maxUnit, false)
	}
	if in.UnitPriceFen != nil {
		CheckFen(&v, "unit_price_fen", *in.UnitPriceFen)
		p.UnitPriceFen = *in.UnitPriceFen
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	return v.Err()
}

func validFilter(f *Filter) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 100 {
		v.Add("q", "validation.too_long", "max", 100)
	}
	return v.Err()
}
