package sale

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

// Date is a calendar date ("2026-11-27") in the company's time zone: a
// sale's date, an opportunity's expected close date. It has no time and no
// zone, and is stored as DATE on MySQL and the same text on SQLite, so
// "sales on the 27th" means the company's 27th on every engine.
type Date string

// dateLayout is the one accepted form.
const dateLayout = "2006-01-02"

// ParseDate checks a date a person typed; ok is false for anything that is
// not a real day between 2000 and 2100.
func ParseDate(s string) (Date, bool) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return "", false
	}
	return Date(t.Format(dateLayout)), true
}

// CheckDate records a problem with field unless s is a date.
func CheckDate(v *errs.Invalid, field, s string) Date {
	d, ok := ParseDate(s)
	if !ok {
		v.Add(field, "sale.date")
	}
	return d
}

// Today is the current date in loc (the company's time zone).
func Today(loc *time.Location) Date { return Date(time.Now().In(loc).Format(dateLayout)) }

// Value implements driver.Valuer: dates go to the database as text, which
// both engines compare correctly.
func (d Date) Value() (driver.Value, error) { return string(d), nil }

// Scan implements sql.Scanner for what either driver returns for a DATE.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = Date(v.Format(dateLayout))
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("sale: cannot scan %T into a date", src)
	}
	return nil
}

func (d *Date) parse(s string) error {
	if len(s) < len(dateLayout) {
		return fmt.Errorf("sale: bad stored date %q", s)
	}
	*d = Date(s[:len(dateLayout)])
	return nil
}
