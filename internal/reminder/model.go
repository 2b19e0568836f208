// Package reminder is 提醒: reminders on a customer or one of its
// opportunities, for oneself or (for managers) for people in one's scope,
// once or repeating. Each pending reminder has its notification waiting in
// the outbox, written in the same transaction, so a reminder and its
// notification can never disagree.
package reminder

import (
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/patch"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("reminder.not_found")
	ErrStale    = errs.Conflict("reminder.stale_version")
	ErrClosed   = errs.Conflict("reminder.closed")
)

// Permissions of the module.
const (
	PermView   auth.Perm = "reminder.view"
	PermCreate auth.Perm = "reminder.create"
	PermEdit   auth.Perm = "reminder.edit"
	PermDelete auth.Perm = "reminder.delete"
	PermAssign auth.Perm = "reminder.assign"
)

// Repeats and statuses.
var (
	Repeats  = []string{"none", "daily", "weekly", "monthly"}
	Statuses = []string{"pending", "done", "cancelled"}
	// Whens are the "my reminders" views.
	Whens = []string{"", "today", "overdue", "upcoming", "all"}
)

// Sources of reminders.
const (
	SourceManual   = "manual"
	SourceFollowup = "followup"
)

// Limits.
const (
	maxContent    = 500
	maxRecipients = 20
	maxSnooze     = 7 * 24 * 60 // minutes
)

// Person is a recipient.
type Person struct {
	ID   int64  `json:"id" db:"id"`
	Name string `json:"name" db:"name"`
}

// Reminder is one reminder as shown to a person.
type Reminder struct {
	ID              int64      `json:"id" db:"id"`
	CustomerID      int64      `json:"customer_id" db:"customer_id"`
	CustomerName    string     `json:"customer_name" db:"customer_name"`
	OpportunityID   *int64     `json:"opportunity_id" db:"opportunity_id"`
	OpportunityName string     `json:"opportunity_name" db:"opportunity_name"`
	RemindAt        time.Time  `json:"remind_at" db:"remind_at"`
	Content         string     `json:"content" db:"content"`
	Repeat          string     `json:"repeat" db:"repeat_rule"`
	Status          string     `json:"status" db:"status"`
	Source          string     `json:"source" db:"source"`
	OwnerID         int64      `json:"owner_id" db:"owner_id"`
	OwnerName       string     `json:"owner_name" db:"owner_name"`
	DepartmentID    int64      `json:"department_id" db:"department_id"`
	Recipients      []Person   `json:"recipients" db:"-"`
	CreatedAt       time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at" db:"updated_at"`
	DoneAt          *time.Time `json:"done_at" db:"done_at"`
	Version         int        `json:"version" db:"version"`
	Rolled          bool       `json:"-" db:"rolled"`
}

func (r *Reminder) auditFields() map[string]any {
	ids := make([]int64, len(r.Recipients))
	for i, p := range r.Recipients {
		ids[i] = p.ID
	}
	return map[string]any{"remind_at": r.RemindAt, "content": r.Content, "repeat": r.Repeat, "status": r.Status,
		"opportunity_id": r.OpportunityID, "recipient_ids": ids}
}

// Opt is a field that can be absent, null or a value.
type Opt[T any] = patch.Opt[T]

// Input is a create or a partial edit: nil fields are left as they are.
// RemindAt is RFC 3339 text. RecipientIDs defaults to the Actor alone;
// anyone else needs reminder.assign and must be in the Actor's scope.
type Input struct {
	CustomerID    *int64     `json:"customer_id"`
	OpportunityID Opt[int64] `json:"opportunity_id"`
	RemindAt      *string    `json:"remind_at"`
	Content       *string    `json:"content"`
	Repeat        *string    `json:"repeat"`
	RecipientIDs  *[]int64   `json:"recipient_ids"`
	Version       *int       `json:"version"`
}

// SnoozeInput moves a pending reminder later: to Until (RFC 3339) or by
// Minutes from now (1 to 7 days' worth).
type SnoozeInput struct {
	Until   *string `json:"until"`
	Minutes *int    `json:"minutes"`
}

// Filter narrows a list of the Actor's own reminders (those they receive).
type Filter struct {
	When          string // "" (pending), today, overdue, upcoming, all
	CustomerID    int64
	OpportunityID int64
}
