package customer

import (
	"regexp"
	"strings"

	"unicode"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/paging"
)

// Limits on field lengths, in characters.
const (
	maxName    = 100
	maxCompany = 100
	maxAddress = 200
	maxNote    = 2000
	maxTags    = 10
	maxTag     = 20
	maxPhone   = 20
)

// A phone is a mainland mobile (optionally +86), a landline with area code
// and optional extension, or a 400/800 service number.
var (
	mobilePattern   = regexp.MustCompile(`^(?:\+?86)?(1[3-9]\d{9})$`)
	landlinePattern = regexp.MustCompile(`^(?:0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|[48]00-?\d{3}-?\d{4})$`)
)

// NormalizePhone accepts what people type ("139 1234 5678", "+86-139…",
// "021-6888 8888") and stores one canonical form: a mobile as its 11 digits,
// a landline with its dashes. ok is false for anything else.
func NormalizePhone(p string) (string, bool) {
	compact := strings.NewReplacer(" ", "", "\u3000", "", "(", "", ")", "").Replace(p)
	if m := mobilePattern.FindStringSubmatch(strings.ReplaceAll(compact, "-", "")); m != nil {
		return m[1], true
	}
	if landlinePattern.MatchString(compact) {
		return compact, true
	}
	return p, false
}

func validText(v *errs.Invalid, field, s string, max int, required bool) string {
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

func validOption(v *errs.Invalid, field, s string, list []string) string {
	s = strings.TrimSpace(s)
	if s != "" && !inList(list, s) {
		v.Add(field, "validation.not_an_option")
	}
	return s
}

// Lists are the company's current option lists a customer is checked
// against (settings); a retired code stays valid on a customer that has it.
type Lists struct {
	Sources, Industries, Levels option.Set
}

// DefaultLists are the built-in lists.
func DefaultLists() Lists {
	return Lists{Sources: option.Fixed(Sources), Industries: option.Fixed(Industries), Levels: option.Fixed(Levels)}
}

// apply validates in and writes its set fields onto c. It reports every
// problem at once. Option fields must be offered by lists, or be the value
// c already has.
func apply(c *Customer, in Input, lists Lists) error {
	var v errs.Invalid
	if in.Name != nil {
		c.Name = validText(&v, "name", *in.Name, maxName, true)
	}
	if in.Phone != nil {
		p := strings.TrimSpace(*in.Phone)
		if utf8.RuneCountInString(p) > maxPhone {
			v.Add("phone", "validation.too_long", "max", maxPhone)
		} else if p != "" {
			var ok bool
			if p, ok = NormalizePhone(p); !ok {
				v.Add("phone", "validation.phone")
			}
		}
		c.Phone = p
	}
	if in.Company != nil {
		c.Company = validText(&v, "company", *in.Company, maxCompany, false)
	}
	if in.Address != nil {
		c.Address = validText(&v, "address", *in.Address, maxAddress, false)
	}
	if in.Note != nil {
		c.Note = validText(&v, "note", *in.Note, maxNote, false)
	}
	if in.Industry != nil {
		c.Industry = lists.Industries.Check(&v, "industry", strings.TrimSpace(*in.Industry), c.Industry)
	}
	if in.Source != nil {
		c.Source = lists.Sources.Check(&v, "source", strings.TrimSpace(*in.Source), c.Source)
	}
	if in.Level != nil {
		c.Level = lists.Levels.Check(&v, "level", strings.TrimSpace(*in.Level), c.Level)
	}
	if in.Status != nil {
		c.Status = validOption(&v, "status", *in.Status, Statuses)
	}
	if in.tagsSet || in.Tags != nil {
		c.Tags = validTags(&v, in.Tags)
	}
	if in.NextFollowAt.Set {
		if t := in.NextFollowAt.Value; t != nil && (t.Year() < 2000 || t.Year() > 2100) {
			v.Add("next_follow_at", "validation.date_range")
		}
		c.NextFollowAt = in.NextFollowAt.Value
	}
	return v.Err()
}

func validTags(v *errs.Invalid, tags []string) []string {
	if len(tags) > maxTags {
		v.Add("tags", "validation.too_many", "max", maxTags)
		return nil
	}
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if utf8.RuneCountInString(t) > maxTag || strings.ContainsAny(t, "\"\\") {
			v.Add("tags", "validation.tag", "max", maxTag)
			return nil
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

// validFilter checks the list parameters a person can get wrong; with
// lists, option filters must name a known code (retired ones included).
func validFilter(f *Filter, lists *Lists) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if f.Sort == "" {
		f.Sort = "-updated_at"
	}
	if _, ok := SortFields[strings.TrimPrefix(f.Sort, "-")]; !ok {
		v.Add("sort", "validation.sort")
	}
	if utf8.RuneCountInString(f.Q) > 100 {
		v.Add("q", "validation.too_long", "max", 100)
	}
	if f.Status != "" && !inList(Statuses, f.Status) {
		v.Add("status", "validation.not_an_option")
	}
	if lists != nil {
		for field, c := range map[string]struct {
			val string
			set option.Set
		}{"level": {f.Level, lists.Levels}, "source": {f.Source, lists.Sources}, "industry": {f.Industry, lists.Industries}} {
			if c.val != "" && !c.set.Known(c.val) {
				v.Add(field, "validation.not_an_option")
			}
		}
	}
	if f.CreatedFrom != nil && f.CreatedTo != nil && f.CreatedTo.Before(*f.CreatedFrom) {
		v.Add("created_to", "validation.range_order")
	}
	if f.NextFollowFrom != nil && f.NextFollowTo != nil && f.NextFollowTo.Before(*f.NextFollowFrom) {
		v.Add("next_follow_to", "validation.range_order")
	}
	return v.Err()
}
