package contact

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
)

// Limits on field lengths, in characters.
const (
	maxName   = 100
	maxTitle  = 100
	maxPhones = 5
	maxPhone  = 20
	maxEmail  = 200
	maxWeChat = 64
	maxNotes  = 2000
	maxQuery  = 100
)

// emailPattern is deliberately loose (something@domain.tld, no spaces): the
// address is for people to read and copy, not for the CRM to send to.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)

// earliestBirthday bounds birthdays to the plausible.
var earliestBirthday = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

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

// apply validates in and writes its set fields onto c, adding every
// problem to v. The customer and the primary flag are the service's.
func apply(v *errs.Invalid, c *Contact, in Input) {
	if in.Name != nil {
		c.Name = validText(v, "name", *in.Name, maxName, true)
	}
	if in.Title != nil {
		c.Title = validText(v, "title", *in.Title, maxTitle, false)
	}
	if in.Phones != nil {
		c.Phones = validPhones(v, *in.Phones)
	}
	if in.Email != nil {
		c.Email = validText(v, "email", *in.Email, maxEmail, false)
		if c.Email != "" && !v.Has("email") && !emailPattern.MatchString(c.Email) {
			v.Add("email", "validation.email")
		}
	}
	if in.WeChat != nil {
		// A WeChat id (微信号) is 6–20 letters, digits, _ and -, but people
		// also write the phone number they added each other with; so only
		// length and whitespace are checked.
		c.WeChat = validText(v, "wechat", *in.WeChat, maxWeChat, false)
		if strings.IndexFunc(c.WeChat, unicode.IsSpace) >= 0 {
			v.Add("wechat", "contact.wechat_spaces")
		}
	}
	if in.Birthday.Set {
		c.Birthday = validBirthday(v, in.Birthday.Value)
	}
	if in.Notes != nil {
		c.Notes = validText(v, "notes", *in.Notes, maxNotes, false)
	}
}

// validPhones normalizes each number as a customer's phone is normalized,
// dropping blanks and repeats.
func validPhones(v *errs.Invalid, phones []string) []string {
	out := []string{}
	for _, p := range phones {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if utf8.RuneCountInString(p) > maxPhone {
			v.Add("phones", "validation.too_long", "max", maxPhone)
			return nil
		}
		n, ok := customer.NormalizePhone(p)
		if !ok {
			v.Add("phones", "validation.phone")
			return nil
		}
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) > maxPhones {
		v.Add("phones", "validation.too_many", "max", maxPhones)
		return nil
	}
	return out
}

func validBirthday(v *errs.Invalid, s *string) *Date {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	t, err := time.Parse(dateLayout, strings.TrimSpace(*s))
	if err != nil {
		v.Add("birthday", "contact.birthday_format")
		return nil
	}
	// A day's slack: "today" in China starts before it does in UTC.
	if t.Before(earliestBirthday) || t.After(time.Now().Add(24*time.Hour)) {
		v.Add("birthday", "validation.date_range")
		return nil
	}
	d := Date(t.Format(dateLayout))
	return &d
}

// validFilter checks the list parameters a person can get wrong.
func validFilter(f *Filter) error {
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if utf8.RuneCountInString(f.Q) > maxQuery {
		v.Add("q", "validation.too_long", "max", maxQuery)
	}
	return v.Err()
}

// searchFields are what the customer's keyword search matches for these
// contacts: each name and each phone's digits.
func searchFields(contacts []Contact) []string {
	var out []string
	for _, c := range contacts {
		out = append(out, c.Name)
		for _, p := range c.Phones {
			out = append(out, digits(p))
		}
	}
	return out
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
