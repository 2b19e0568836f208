package errs

import (
	"strings"
	"time"
)

// Time reads an RFC 3339 time the way the CRM stores it (UTC, whole
// milliseconds, years 2000–2100). A malformed value is reported on field
// with badKey, one out of range with validation.date_range.
func (v *Invalid) Time(field, s, badKey string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		v.Add(field, badKey)
		return time.Time{}, false
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 2000 || t.Year() > 2100 {
		v.Add(field, "validation.date_range")
		return time.Time{}, false
	}
	return t, true
}
