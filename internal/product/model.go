// Package product is the simple product catalogue (产品) that sales records
// and opportunities pick their line items from, and the money and line-item
// arithmetic both share.
package product

import (
	"time"

	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("product.not_found")
	ErrStale    = errs.Conflict("product.stale_version")
)

// Product is one catalogue entry. Products are deactivated, never deleted,
// so every old sale still names its products.
type Product struct {
	ID           int64     `json:"id" db:"id"`
	Name         string    `json:"name" db:"name"`
	Code         string    `json:"code" db:"code"`
	Unit         string    `json:"unit" db:"unit"`
	UnitPriceFen int64     `json:"unit_price_fen" db:"unit_price_fen"`
	UnitPrice    string    `json:"unit_price" db:"-"`
	Active       bool      `json:"active" db:"active"`
	CreatedAt    time.Time `json:"created_at" db:"created_at"`
	UpdatedAt    time.Time `json:"updated_at" db:"updated_at"`
	Version      int       `json:"version" db:"version"`
}

func (p *Product) finish() { p.UnitPrice = FormatFen(p.UnitPriceFen) }

func (p *Product) auditFields() map[string]any {
	return map[string]any{"name": p.Name, "code": p.Code, "unit": p.Unit,
		"unit_price_fen": p.UnitPriceFen, "active": p.Active}
}

// Input is a create or a partial edit: nil fields are left as they are.
type Input struct {
	Name         *string `json:"name"`
	Code         *string `json:"code"`
	Unit         *string `json:"unit"`
	UnitPriceFen *int64  `json:"unit_price_fen"`
	Active       *bool   `json:"active"`
	// Version is the version the editor saw; required on edit.
	Version *int `json:"version"`
}

// Filter narrows the catalogue list.
type Filter struct {
	Q        string
	Active   *bool
	Page     int
	PageSize int
}
