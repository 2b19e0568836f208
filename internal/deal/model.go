// Package deal is opportunities (销售机会), the company's configurable
// stages and the pipeline (销售管道): every stage change is kept in a
// history and the operation log, and a won opportunity becomes its sales
// record in one step.
package deal

import (
	"time"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("deal.not_found")
	ErrStale    = errs.Conflict("deal.stale_version")
	ErrNotWon   = errs.Conflict("deal.not_won")
	ErrHasSale  = errs.Conflict("deal.sale_exists")
)

// Statuses follow the stage's kind: an opportunity in the won stage is won.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// LostReasons are the codes of 输单原因; labels are option.lost_reason.<code>.
var LostReasons = []string{"price", "competitor", "no_budget", "no_decision", "timing", "other"}

// Opportunity is one opportunity as shown to a person.
type Opportunity struct {
	ID           int64  `json:"id" db:"id"`
	CustomerID   int64  `json:"customer_id" db:"customer_id"`
	CustomerName string `json:"customer_name" db:"customer_name"`
	Title        string `json:"title" db:"title"`
	AmountFen    int64  `json:"amount_fen" db:"amount_fen"`
	Amount       string `json:"amount" db:"-"`
	// AmountHidden: the reader's role may not see amounts (字段权限).
	AmountHidden      bool           `json:"amount_hidden,omitempty" db:"-"`
	ExpectedCloseDate *sale.Date     `json:"expected_close_date" db:"expected_close_date"`
	OwnerID           int64          `json:"owner_id" db:"owner_id"`
	OwnerName         string         `json:"owner_name" db:"owner_name"`
	DepartmentID      int64          `json:"department_id" db:"department_id"`
	DepartmentName    string         `json:"department_name" db:"department_name"`
	StageID           int64          `json:"stage_id" db:"stage_id"`
	StageCode         string         `json:"stage_code" db:"stage_code"`
	StageName         string         `json:"stage_name" db:"stage_name"`
	StageKind         string         `json:"-" db:"stage_kind"`
	Probability       int            `json:"probability" db:"probability"`
	Status            string         `json:"status" db:"status"`
	LostReason        string         `json:"lost_reason" db:"lost_reason"`
	Notes             string         `json:"notes" db:"notes"`
	ClosedAt          *time.Time     `json:"closed_at" db:"closed_at"`
	SaleID            *int64         `json:"sale_id" db:"sale_id"`
	Lines             []product.Line `json:"lines,omitempty" db:"-"`
	CreatedBy         int64          `json:"created_by" db:"created_by"`
	CreatedByName     string         `json:"created_by_name" db:"created_by_name"`
	CreatedAt         time.Time      `json:"created_at" db:"created_at"`
	UpdatedAt         time.Time      `json:"updated_at" db:"updated_at"`
	Version           int            `json:"version" db:"version"`
	DeletedAt         *time.Time     `json:"deleted_at" db:"deleted_at"`
	DeletedByName     *string        `json:"deleted_by_name" db:"deleted_by_name"`
}

func (o *Opportunity) finish() { o.Amount = product.FormatFen(o.AmountFen) }

// auditFields are the fields whose changes the operation log records; the
// stage is logged by name, as people know it.
func (o *Opportunity) auditFields() map[string]any {
	return map[string]any{"customer_id": o.CustomerID, "title": o.Title, "amount_fen": o.AmountFen,
		"expected_close_date": o.ExpectedCloseDate, "owner_id": o.OwnerID, "stage": o.StageName,
		"probability": o.Probability, "status": o.Status, "lost_reason": o.LostReason, "notes": o.Notes,
		"lines": product.Describe(o.Lines)}
}

// Input is a create or a partial edit: absent fields are left as they are.
type Input struct {
	CustomerID *int64  `json:"customer_id"`
	Title      *string `json:"title"`
	// Lines replace the line items when present ([] removes them all).
	Lines *[]product.LineInput `json:"lines"`
	// AmountFen is the amount in fen; when absent it is the sum of Lines.
	AmountFen *int64 `json:"amount_fen"`
	// ExpectedCloseDate is "2026-11-27" (预计成交时间), null to clear.
	ExpectedCloseDate OptString `json:"expected_close_date"`
	OwnerID           *int64    `json:"owner_id"`
	// StageID moves the opportunity (as the kanban does); the first open
	// stage when absent on create.
	StageID *int64 `json:"stage_id"`
	// Probability overrides the stage's (0–100).
	Probability *int    `json:"probability"`
	LostReason  *string `json:"lost_reason"`
	Notes       *string `json:"notes"`
	// Version is the version the editor saw; required on edit.
	Version *int `json:"version"`
}

// MoveInput is a drag on the kanban: the new stage, the version seen and,
// into the lost stage, why.
type MoveInput struct {
	StageID     *int64  `json:"stage_id"`
	Version     *int    `json:"version"`
	LostReason  *string `json:"lost_reason"`
	Probability *int    `json:"probability"`
}

// SaleInput is what may be added when a won opportunity becomes a sale;
// everything else comes from the opportunity.
type SaleInput struct {
	SaleDate *string `json:"sale_date"`
	Notes    *string `json:"notes"`
}

// Filter narrows a list of opportunities.
type Filter struct {
	CustomerID   int64
	OwnerID      int64
	DepartmentID int64
	StageID      int64
	Status       string
	// DepartmentIDs limits to opportunities filed under any of these
	// departments (a report's department with its sub-departments).
	DepartmentIDs []int64
	// CloseFrom and CloseTo bound the expected close date, both included.
	CloseFrom, CloseTo string
	Q                  string
	Page               int
	PageSize           int
}

// HistoryItem is one stage change (the first has no from stage: creation).
type HistoryItem struct {
	ID            int64     `json:"id" db:"id"`
	FromStageID   *int64    `json:"from_stage_id" db:"from_stage"`
	FromStageCode *string   `json:"from_stage_code" db:"from_code"`
	FromStageName *string   `json:"from_stage_name" db:"from_name"`
	ToStageID     int64     `json:"to_stage_id" db:"to_stage"`
	ToStageCode   string    `json:"to_stage_code" db:"to_code"`
	ToStageName   string    `json:"to_stage_name" db:"to_name"`
	ChangedBy     int64     `json:"changed_by" db:"changed_by"`
	ChangedByName string    `json:"changed_by_name" db:"changed_by_name"`
	ChangedAt     time.Time `json:"changed_at" db:"changed_at"`
}
