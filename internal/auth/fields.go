package auth

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// FieldMode is how a role sees one sensitive field.
type FieldMode string

// The field modes, most permissive first.
const (
	FieldVisible FieldMode = "visible"
	FieldMasked  FieldMode = "masked"
	FieldHidden  FieldMode = "hidden"
)

// FieldModes in order from most to least permissive.
var FieldModes = []FieldMode{FieldVisible, FieldMasked, FieldHidden}

// Fields are the fields whose visibility a role can restrict, as
// "module.field". The catalogue is fixed in code, like the permissions.
var Fields = []string{
	"customer.phone", "customer.address",
	"contact.phone", "contact.email", "contact.wechat",
	"sale.amount", "opportunity.amount",
}

// ValidField reports whether f is in the Fields catalogue.
func ValidField(f string) bool { return contains(Fields, f) }

// ValidFieldMode reports whether m is a known mode.
func ValidFieldMode(m FieldMode) bool {
	for _, x := range FieldModes {
		if x == m {
			return true
		}
	}
	return false
}

func (m FieldMode) rank() int {
	switch m {
	case FieldHidden:
		return 2
	case FieldMasked:
		return 1
	default:
		return 0
	}
}

// FieldPolicy is how a person sees the sensitive fields: field → mode, an
// absent field being visible. It is built with the Actor from the person's
// roles, the most permissive role winning for each field, so every service,
// export, report and bot answer masks the same way.
type FieldPolicy map[string]FieldMode

// Mode is the mode of field (visible when the policy says nothing).
func (v FieldPolicy) Mode(field string) FieldMode {
	if m, ok := v[field]; ok && ValidFieldMode(m) {
		return m
	}
	return FieldVisible
}

// Visible reports whether field is shown in full.
func (v FieldPolicy) Visible(field string) bool { return v.Mode(field) == FieldVisible }

// Mask returns value as the policy shows field: whole when visible, "" when
// hidden, and masked otherwise (a phone as 138****1234, an e-mail as
// a***@x.com, an amount as ***, anything else keeping its first character).
func (v FieldPolicy) Mask(field, value string) string {
	switch v.Mode(field) {
	case FieldVisible:
		return value
	case FieldHidden:
		return ""
	}
	return MaskValue(field, value)
}

// MaskList masks each value of a list field (a contact's phones).
func (v FieldPolicy) MaskList(field string, values []string) []string {
	if v.Visible(field) || values == nil {
		return values
	}
	out := make([]string, 0, len(values))
	for _, x := range values {
		if m := v.Mask(field, x); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// MaskValue masks value the way field's kind is masked.
func MaskValue(field, value string) string {
	if value == "" {
		return ""
	}
	_, name, _ := strings.Cut(field, ".")
	switch {
	case strings.Contains(name, "phone") || name == "mobile":
		return maskPhone(value)
	case name == "email":
		return maskEmail(value)
	case name == "amount":
		return "***"
	default:
		r, _ := utf8.DecodeRuneInString(value)
		return string(r) + "***"
	}
}

// maskPhone keeps the first three and last four digits of a number long
// enough to have them: 13812341234 → 138****1234; shorter ones keep less.
func maskPhone(p string) string {
	rs := []rune(p)
	switch n := len(rs); {
	case n >= 8:
		return string(rs[:3]) + "****" + string(rs[n-4:])
	case n >= 3:
		return string(rs[:1]) + "****" + string(rs[n-1:])
	default:
		return "****"
	}
}

// maskEmail keeps the first character of the local part and the domain:
// alice@x.com → a***@x.com.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return maskPhone(e)
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}

// ParseFieldPolicy reads the JSON stored with a role, dropping unknown
// fields and modes (a field dropped from the catalogue grants nothing).
func ParseFieldPolicy(s string) FieldPolicy {
	raw := map[string]string{}
	if s != "" {
		json.Unmarshal([]byte(s), &raw)
	}
	out := FieldPolicy{}
	for f, m := range raw {
		if ValidField(f) && ValidFieldMode(FieldMode(m)) && FieldMode(m) != FieldVisible {
			out[f] = FieldMode(m)
		}
	}
	return out
}

// FormatFieldPolicy is the stored form: only the restricted fields.
func FormatFieldPolicy(v FieldPolicy) string {
	out := map[string]string{}
	for f, m := range v {
		if m != FieldVisible && ValidField(f) && ValidFieldMode(m) {
			out[f] = string(m)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// MostPermissive merges the policies of a person's roles: each field gets
// the most permissive mode any role gives it (a role that says nothing about
// a field shows it).
func MostPermissive(policies []FieldPolicy) FieldPolicy {
	out := FieldPolicy{}
	if len(policies) == 0 {
		return out
	}
	for _, f := range Fields {
		best := FieldHidden
		for _, p := range policies {
			if m := p.Mode(f); m.rank() < best.rank() {
				best = m
			}
		}
		if best != FieldVisible {
			out[f] = best
		}
	}
	return out
}
