// Package sale is sales records (销售数据): customer, salesperson, date,
// amount in integer fen and optional line items from the catalogue, filed
// under the salesperson and their department for data scope.
package sale

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("sale.not_found")
	ErrStale    = errs.Conflict("sale.stale_version")
	// ErrOpportunityHasSale means the opportunity already has its sale (a
	// concurrent create lost the race on the unique index).
	ErrOpportunityHasSale = errs.Conflict("sale.opportunity_has_sale")
)

// Sale is one sales record as shown to a person. Money is integer fen
// (amount_fen) with a display string (amount, "12345.67") beside it.
type Sale struct {
	ID               int64   `json:"id" db:"id"`
	CustomerID       int64   `json:"customer_id" db:"customer_id"`
	CustomerName     string  `json:"customer_name" db:"customer_name"`
	OpportunityID    *int64  `json:"opportunity_id" db:"opportunity_id"`
	OpportunityTitle *string `json:"opportunity_title" db:"opportunity_title"`
	OwnerID          int64   `json:"owner_id" db:"owner_id"`
	OwnerName        string  `json:"owner_name" db:"owner_name"`
	DepartmentID     int64   `json:"department_id" db:"department_id"`
	DepartmentName   string  `json:"department_name" db:"department_name"`
	SaleDate         Date    `json:"sale_date" db:"sale_date"`
	AmountFen        int64   `json:"amount_fen" db:"amount_fen"`
	Amount           string  `json:"amount" db:"-"`
	// AmountHidden: the reader's role may not see amounts (字段权限); the
	// amount, line prices and totals are then masked or empty.
	AmountHidden  bool           `json:"amount_hidden,omitempty" db:"-"`
	Notes         string         `json:"notes" db:"notes"`
	Lines         []product.Line `json:"lines,omitempty" db:"-"`
	CreatedBy     int64          `json:"created_by" db:"created_by"`
	CreatedByName string         `json:"created_by_name" db:"created_by_name"`
	CreatedAt     time.Time      `json:"created_at" db:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at" db:"updated_at"`
	Version       int            `json:"version" db:"version"`
	DeletedAt     *time.Time     `json:"deleted_at" db:"deleted_at"`
	DeletedByName *string        `json:"deleted_by_name" db:"deleted_by_name"`
}

func (s *Sale) finish() { s.Amount = product.FormatFen(s.AmountFen) }

// auditFields are the fields whose changes the operation log records.
func (s *Sale) auditFields() map[string]any {
	return map[string]any{"customer_id": s.CustomerID, "owner_id": s.OwnerID, "sale_date": string(s.SaleDate),
		"amount_fen": s.AmountFen, "opportunity_id": s.OpportunityID, "notes": s.Notes,
		"lines": product.Describe(s.Lines)}
}

// Input is a create or a partial edit: absent fields are left as they are.
type Input struct {
	CustomerID *int64 `json:"customer_id"`
	// OwnerID is the salesperson (销售人员); the caller when absent on create.
	OwnerID *int64 `json:"owner_id"`
	// SaleDate is "2026-11-27" (the company's calendar); today when absent
	// on create.
	SaleDate *string `json:"sale_date"`
	// AmountFen is the amount in fen; when absent it is the sum of Lines.
	AmountFen *int64 `json:"amount_fen"`
	// Lines replace the line items when present ([] removes them all).
	Lines         *[]product.LineInput `json:"lines"`
	OpportunityID OptID                `json:"opportunity_id"`
	Notes         *string              `json:"notes"`
	// Version is the version the editor saw; required on edit.
	Version *int `json:"version"`
}

// OptID is an id that can be absent, null (unlink) or a value.
type OptID struct {
	Set   bool
	Value *int64
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *OptID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(b, []byte("null")) {
		o.Value = nil
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	o.Value = &n
	return nil
}

// Filter narrows a list of sales.
type Filter struct {
	CustomerID   int64
	OwnerID      int64
	DepartmentID int64
	ProductID    int64
	// DepartmentIDs limits to records filed under any of these departments
	// (a report's department with its sub-departments).
	DepartmentIDs []int64
	// Source limits to sales of customers with this source (客户来源).
	Source string
	// From and To are dates ("2026-11-01", "2026-11-30"), both included.
	From, To string
	Page     int
	PageSize int
}

// Totals are the count and sum of the whole filtered set, not just a page.
type Totals struct {
	Count     int    `json:"count" db:"count"`
	AmountFen int64  `json:"amount_fen" db:"amount_fen"`
	Amount    string `json:"amount" db:"-"`
	// AmountHidden: see Sale.AmountHidden.
	AmountHidden bool `json:"amount_hidden,omitempty" db:"-"`
}
