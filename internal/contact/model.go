// Package contact is a customer's contacts (联系人): several per customer,
// exactly one of them primary. A contact is visible exactly when its
// customer is, and a customer is found by its contacts' names and phones.
package contact

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"github.com/dingcrm/crm/internal/patch"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("contact.not_found")
	ErrStale    = errs.Conflict("contact.stale_version")
	// ErrConcurrent answers the rare write that lost a race for the primary
	// flag (the database allows one live primary per customer).
	ErrConcurrent = errs.Conflict("contact.concurrent_change")
)

// Permissions of the module.
const (
	PermView   auth.Perm = "contact.view"
	PermCreate auth.Perm = "contact.create"
	PermEdit   auth.Perm = "contact.edit"
	PermDelete auth.Perm = "contact.delete"
)

// Contact is one contact person of a customer.
type Contact struct {
	ID            int64     `json:"id" db:"id"`
	CustomerID    int64     `json:"customer_id" db:"customer_id"`
	CustomerName  string    `json:"customer_name" db:"customer_name"`
	Name          string    `json:"name" db:"name"`
	Title         string    `json:"title" db:"title"`
	Phones        []string  `json:"phones" db:"-"`
	RawPhones     string    `json:"-" db:"phones"`
	Email         string    `json:"email" db:"email"`
	WeChat        string    `json:"wechat" db:"wechat"`
	Birthday      *Date     `json:"birthday" db:"birthday"`
	Notes         string    `json:"notes" db:"notes"`
	IsPrimary     bool      `json:"is_primary" db:"is_primary"`
	CreatedBy     int64     `json:"created_by" db:"created_by"`
	CreatedByName string    `json:"created_by_name" db:"created_by_name"`
	CreatedAt     time.Time `json:"created_at" db:"created_at"`
	UpdatedAt     time.Time `json:"updated_at" db:"updated_at"`
	Version       int       `json:"version" db:"version"`
}

// auditFields are the fields whose changes the operation log records.
func (c *Contact) auditFields() map[string]any {
	return map[string]any{
		"name": c.Name, "title": c.Title, "phones": c.Phones, "email": c.Email, "wechat": c.WeChat,
		"birthday": c.Birthday, "notes": c.Notes, "is_primary": c.IsPrimary,
	}
}

func (c *Contact) decodePhones() {
	c.Phones = []string{}
	if c.RawPhones != "" {
		json.Unmarshal([]byte(c.RawPhones), &c.Phones)
	}
}

func encodePhones(phones []string) string {
	if len(phones) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(phones)
	return string(b)
}

// Date is a calendar date without time or zone (a birthday): "2006-01-02"
// in JSON and in the database, so it never shifts by a time zone.
type Date string

const dateLayout = "2006-01-02"

// Value implements driver.Valuer.
func (d Date) Value() (driver.Value, error) { return string(d), nil }

// Scan implements sql.Scanner: MySQL returns a DATE as a time, SQLite as
// text (or a time, depending on the driver's parsing).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = Date(v.Format(dateLayout))
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	default:
		return fmt.Errorf("contact: cannot read %T as a date", src)
	}
	return nil
}

func (d *Date) scanText(s string) error {
	if len(s) < len(dateLayout) {
		return fmt.Errorf("contact: bad stored date %q", s)
	}
	*d = Date(s[:len(dateLayout)])
	return nil
}

// Opt is a field that can be absent, null (clear it) or a value.
type Opt[T any] = patch.Opt[T]

// Input is a create or a partial edit: nil fields are left as they are.
type Input struct {
	CustomerID *int64    `json:"customer_id"`
	Name       *string   `json:"name"`
	Title      *string   `json:"title"`
	Phones     *[]string `json:"phones"`
	Email      *string   `json:"email"`
	WeChat     *string   `json:"wechat"`
	// Birthday is "2006-01-02"; null clears it. It is read as text so a
	// malformed date is a field error, not a malformed request.
	Birthday Opt[string] `json:"birthday"`
	Notes    *string     `json:"notes"`
	// IsPrimary true makes the contact the primary one (demoting the old);
	// false is refused on the primary, since a customer always has one.
	IsPrimary *bool `json:"is_primary"`
	// Version is the version the editor saw; required on edit.
	Version *int `json:"version"`
}

// Filter narrows a contact list.
type Filter struct {
	CustomerID int64
	Q          string
	Page       int
	PageSize   int
}
