package followup

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/option"
	"github.com/dingcrm/crm/internal/paging"
)

// Limits on field lengths, in characters.
const (
	maxContent  = 2000
	maxResult   = 500
	maxNextStep = 500
)

// maxAhead is how far past now a follow-up may be dated. A follow-up
// records something that happened, but people log a call made "tomorrow
// morning" in another time zone, or fix a date late at night; a day's
// allowance covers those and still refuses typos like 2062 for 2026.
const maxAhead = 24 * time.Hour

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

// apply validates in and writes its set fields onto f, adding every
// problem to v; now bounds how far ahead followed_at may be.
func apply(v *errs.Invalid, f *Followup, in Input, now time.Time, methods option.Set) {
	if in.FollowedAt != nil {
		if t, ok := v.Time("followed_at", *in.FollowedAt, "followup.bad_time"); ok {
			if t.After(now.Add(maxAhead)) {
				v.Add("followed_at", "followup.too_far_ahead")
			}
			f.FollowedAt = t
		}
	}
	if in.Method != nil {
		m := strings.TrimSpace(*in.Method)
		if m == "" {
			v.Add("method", "validation.required")
		} else {
			methods.Check(v, "method", m, f.Method)
		}
		f.Method = m
	}
	if in.Content != nil {
		f.Content = validText(v, "content", *in.Content, maxContent, true)
	}
	if in.Result != nil {
		f.Result = validText(v, "result", *in.Result, maxResult, false)
	}
	if in.NextStep != nil {
		f.NextStep = validText(v, "next_step", *in.NextStep, maxNextStep, false)
	}
	if in.NextFollowAt.Set {
		f.NextFollowAt = nil
		if p := in.NextFollowAt.Value; p != nil && strings.TrimSpace(*p) != "" {
			if t, ok := v.Time("next_follow_at", *p, "followup.bad_time"); ok {
				f.NextFollowAt = &t
			}
		}
	}
	if in.OpportunityID.Set {
		f.OpportunityID = in.OpportunityID.Value
		if p := f.OpportunityID; p != nil && *p < 1 {
			v.Add("opportunity_id", "validation.number")
		}
	}
	if f.NextFollowAt != nil && !v.Has("followed_at") && !f.NextFollowAt.After(f.FollowedAt) {
		v.Add("next_follow_at", "followup.next_not_after")
	}
}

// validFilter checks the list parameters a person can get wrong.
func validFilter(f *Filter, methods option.Set) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if f.Method != "" && !methods.Known(f.Method) {
		v.Add("method", "validation.not_an_option")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		v.Add("to", "validation.range_order")
	}
	return v.Err()
}

// preview is the start of a follow-up's content, its name in the log.
func preview(s string) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= 50 {
		return string(r)
	}
	return string(r[:50]) + "…"
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
