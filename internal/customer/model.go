// Package customer is the customer record (客户): its fields, validation,
// keyword search, data-scoped storage, recycle bin and audit trail.
package customer

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("customer.not_found")
	ErrStale    = errs.Conflict("customer.stale_version")
)

// Customer is one customer as shown to a person.
type Customer struct {
	ID             int64      `json:"id" db:"id"`
	Name           string     `json:"name" db:"name"`
	Phone          string     `json:"phone" db:"phone"`
	Company        string     `json:"company" db:"company"`
	Address        string     `json:"address" db:"address"`
	Industry       string     `json:"industry" db:"industry"`
	Source         string     `json:"source" db:"source"`
	Level          string     `json:"level" db:"level"`
	Status         string     `json:"status" db:"status"`
	Tags           []string   `json:"tags" db:"-"`
	RawTags        string     `json:"-" db:"tags"`
	Note           string     `json:"note" db:"note"`
	OwnerID        int64      `json:"owner_id" db:"owner_id"`
	OwnerName      string     `json:"owner_name" db:"owner_name"`
	DepartmentID   int64      `json:"department_id" db:"department_id"`
	DepartmentName string     `json:"department_name" db:"department_name"`
	NextFollowAt   *time.Time `json:"next_follow_at" db:"next_follow_at"`
	LastFollowAt   *time.Time `json:"last_follow_at" db:"last_follow_at"`
	CreatedBy      int64      `json:"created_by" db:"created_by"`
	CreatedByName  string     `json:"created_by_name" db:"created_by_name"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at" db:"updated_at"`
	Version        int        `json:"version" db:"version"`
	DeletedAt      *time.Time `json:"deleted_at" db:"deleted_at"`
	DeletedByName  *string    `json:"deleted_by_name" db:"deleted_by_name"`
}

// auditFields are the fields whose changes the operation log records.
func (c *Customer) auditFields() map[string]any {
	return map[string]any{
		"name": c.Name, "phone": c.Phone, "company": c.Company, "address": c.Address,
		"industry": c.Industry, "source": c.Source, "level": c.Level, "status": c.Status,
		"tags": c.Tags, "note": c.Note, "owner_id": c.OwnerID, "next_follow_at": c.NextFollowAt,
	}
}

func (c *Customer) decodeTags() {
	c.Tags = []string{}
	if c.RawTags != "" {
		json.Unmarshal([]byte(c.RawTags), &c.Tags)
	}
}

func encodeTags(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// Input is a create or a partial edit: nil fields are left as they are.
type Input struct {
	Name         *string  `json:"name"`
	Phone        *string  `json:"phone"`
	Company      *string  `json:"company"`
	Address      *string  `json:"address"`
	Industry     *string  `json:"industry"`
	Source       *string  `json:"source"`
	Level        *string  `json:"level"`
	Status       *string  `json:"status"`
	Tags         []string `json:"tags"`
	Note         *string  `json:"note"`
	NextFollowAt OptTime  `json:"next_follow_at"`
	OwnerID      *int64   `json:"owner_id"`
	// Version is the version the editor saw; required on edit.
	Version *int `json:"version"`
	// tagsSet tells "tags": [] (clear) from no tags key at all.
	tagsSet bool
}

// UnmarshalJSON records whether "tags" was present.
func (in *Input) UnmarshalJSON(b []byte) error {
	type plain Input
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	// Decoded again strictly: a custom UnmarshalJSON would otherwise lose
	// the caller's DisallowUnknownFields.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(in)); err != nil {
		return err
	}
	_, in.tagsSet = raw["tags"]
	return nil
}

// SetTags sets the tags (for callers building an Input in Go).
func (in *Input) SetTags(tags []string) { in.Tags, in.tagsSet = tags, true }

// OptTime is a time field that can be absent, null (clear it) or a value.
type OptTime struct {
	Set   bool
	Value *time.Time
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *OptTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	t = t.UTC().Truncate(time.Millisecond)
	o.Value = &t
	return nil
}

// Filter narrows a customer list.
//
// A new field that narrows the rows must also be checked in planPostings.
type Filter struct {
	Q              string
	OwnerID        int64
	DepartmentID   int64
	Level          string
	Status         string
	Source         string
	Industry       string
	Tag            string
	CreatedFrom    *time.Time
	CreatedTo      *time.Time
	NextFollowFrom *time.Time
	NextFollowTo   *time.Time
	Sort           string
	Page           int
	PageSize       int
	// Pool lists the public pool (customers without an owner) instead of
	// owned customers; only the pool service sets it.
	Pool bool
	// DepartmentIDs limits to customers filed under any of these
	// departments (a report's department with its sub-departments).
	DepartmentIDs []int64
	// SegmentCond, when set, is an extra SQL condition on customers c with
	// its arguments: the RFM segment filter (built by package rfm).
	SegmentCond string
	SegmentArgs []any
}

// SortFields are the columns a list may be sorted by.
var SortFields = map[string]string{
	"created_at": "c.created_at", "updated_at": "c.updated_at", "name": "c.name",
	"next_follow_at": "c.next_follow_at", "last_follow_at": "c.last_follow_at",
}
