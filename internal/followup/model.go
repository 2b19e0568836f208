// Package followup is follow-up records (跟进记录 / 沟通记录): when, how,
// what, the result and the next step of contacting a customer, kept in step
// with the customer's last and next follow-up times.
package followup

import (
	"github.com/dingcrm/crm/internal/patch"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("followup.not_found")
	ErrStale    = errs.Conflict("followup.stale_version")
)

// Permissions of the module.
const (
	PermView   auth.Perm = "followup.view"
	PermCreate auth.Perm = "followup.create"
	PermEdit   auth.Perm = "followup.edit"
	PermDelete auth.Perm = "followup.delete"
)

// Methods are how a follow-up happened: stable codes whose labels are
// "option.followup_method.<code>" in the i18n catalogue.
var Methods = []string{"phone", "visit", "wechat", "email", "other"}

// Followup is one follow-up record as shown to a person.
type Followup struct {
	ID            int64      `json:"id" db:"id"`
	CustomerID    int64      `json:"customer_id" db:"customer_id"`
	CustomerName  string     `json:"customer_name" db:"customer_name"`
	OpportunityID *int64     `json:"opportunity_id" db:"opportunity_id"`
	OwnerID       int64      `json:"owner_id" db:"owner_id"`
	OwnerName     string     `json:"owner_name" db:"owner_name"`
	DepartmentID  int64      `json:"department_id" db:"department_id"`
	FollowedAt    time.Time  `json:"followed_at" db:"followed_at"`
	Method        string     `json:"method" db:"method"`
	Content       string     `json:"content" db:"content"`
	Result        string     `json:"result" db:"result"`
	NextStep      string     `json:"next_step" db:"next_step"`
	NextFollowAt  *time.Time `json:"next_follow_at" db:"next_follow_at"`
	CreatedBy     int64      `json:"created_by" db:"created_by"`
	CreatedAt     time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at" db:"updated_at"`
	Version       int        `json:"version" db:"version"`
}

// auditFields are what the operation log records, and what the customer's
// timeline shows of a follow-up.
func (f *Followup) auditFields() map[string]any {
	return map[string]any{
		"followed_at": f.FollowedAt, "method": f.Method, "content": f.Content, "result": f.Result,
		"next_step": f.NextStep, "next_follow_at": f.NextFollowAt, "opportunity_id": f.OpportunityID,
	}
}

// Opt is a field that can be absent, null (clear it) or a value.
type Opt[T any] = patch.Opt[T]

// Input is a create or a partial edit: nil fields are left as they are.
// Times are RFC 3339 text, parsed during validation so a malformed time is
// a field error rather than a malformed request.
type Input struct {
	CustomerID    *int64      `json:"customer_id"`
	OpportunityID Opt[int64]  `json:"opportunity_id"`
	FollowedAt    *string     `json:"followed_at"`
	Method        *string     `json:"method"`
	Content       *string     `json:"content"`
	Result        *string     `json:"result"`
	NextStep      *string     `json:"next_step"`
	NextFollowAt  Opt[string] `json:"next_follow_at"`
	Version       *int        `json:"version"`
}

// Filter narrows a follow-up list.
type Filter struct {
	CustomerID   int64
	OwnerID      int64
	DepartmentID int64
	// DepartmentIDs limits to follow-ups filed under any of these
	// departments (a report's department with its sub-departments), so a
	// report's follow-up count drills down to exactly its records.
	DepartmentIDs []int64
	Method        string
	From, To      *time.Time
	Page          int
	PageSize      int
}
