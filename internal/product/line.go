package product

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// MaxLines bounds the line items of one record.
const MaxLines = 100

// Line is one line item of a sale or an opportunity: a catalogue product,
// a whole-unit quantity and the unit price agreed, in fen. TotalFen is
// always Quantity × UnitPriceFen, computed in integers.
type Line struct {
	ParentID     int64  `json:"-" db:"parent_id"`
	ProductID    int64  `json:"product_id" db:"product_id"`
	ProductName  string `json:"product_name" db:"product_name"`
	ProductCode  string `json:"product_code" db:"product_code"`
	Unit         string `json:"unit" db:"unit"`
	Quantity     int64  `json:"quantity" db:"quantity"`
	UnitPriceFen int64  `json:"unit_price_fen" db:"unit_price_fen"`
	UnitPrice    string `json:"unit_price" db:"-"`
	TotalFen     int64  `json:"total_fen" db:"total_fen"`
	Total        string `json:"total" db:"-"`
}

func (l *Line) finish() {
	l.UnitPrice, l.Total = FormatFen(l.UnitPriceFen), FormatFen(l.TotalFen)
}

// LineInput is a line as sent by a client. A missing unit price takes the
// catalogue's current price.
type LineInput struct {
	ProductID    *int64 `json:"product_id"`
	Quantity     *int64 `json:"quantity"`
	UnitPriceFen *int64 `json:"unit_price_fen"`
}

// Sum adds the line totals (each already ≤ MaxFen, at most MaxLines of
// them, so the sum cannot overflow).
func Sum(lines []Line) int64 {
	var n int64
	for _, l := range lines {
		n += l.TotalFen
	}
	return n
}

// BuildLines validates line inputs against the catalogue and returns the
// priced lines. Problems are recorded per line ("lines[1].quantity"). A
// product must exist and be active, unless it is in keep (already on the
// record being edited, or carried over from an opportunity): deactivating a
// product does not make old records uneditable.
func BuildLines(ctx context.Context, x sqlx.QueryerContext, in []LineInput, keep map[int64]bool, v *errs.Invalid) ([]Line, error) {
	if len(in) > MaxLines {
		v.Add("lines", "validation.too_many", "max", MaxLines)
		return nil, nil
	}
	products, err := load(ctx, x, in)
	if err != nil {
		return nil, err
	}
	out := make([]Line, 0, len(in))
	for i, li := range in {
		field := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		var l Line
		switch p, ok := lookup(products, li.ProductID); {
		case li.ProductID == nil:
			v.Add(field("product_id"), "validation.required")
		case !ok:
			v.Add(field("product_id"), "product.unknown")
		case !p.Active && !keep[p.ID]:
			v.Add(field("product_id"), "product.inactive")
		default:
			l = Line{ProductID: p.ID, ProductName: p.Name, ProductCode: p.Code, Unit: p.Unit, UnitPriceFen: p.UnitPriceFen}
		}
		if li.Quantity == nil || *li.Quantity < 1 || *li.Quantity > MaxQuantity {
			v.Add(field("quantity"), "product.quantity", "max", MaxQuantity)
		} else {
			l.Quantity = *li.Quantity
		}
		if li.UnitPriceFen != nil {
			CheckFen(v, field("unit_price_fen"), *li.UnitPriceFen)
			l.UnitPriceFen = *li.UnitPriceFen
		}
		// Both factors are bounded (≤ 10^6 and ≤ 10^12): no overflow.
		l.TotalFen = l.Quantity * l.UnitPriceFen
		if l.Quantity > 0 && l.UnitPriceFen >= 0 && l.TotalFen > MaxFen {
			v.Add(field("quantity"), "product.money_range", "max", FormatFen(MaxFen))
		}
		l.finish()
		out = append(out, l)
	}
	return out, nil
}

func lookup(m map[int64]Product, id *int64) (Product, bool) {
	if id == nil {
		return Product{}, false
	}
	p, ok := m[*id]
	return p, ok
}

// load reads the products the lines name, in one query.
func load(ctx context.Context, x sqlx.QueryerContext, in []LineInput) (map[int64]Product, error) {
	var ids []int64
	for _, li := range in {
		if li.ProductID != nil {
			ids = append(ids, *li.ProductID)
		}
	}
	out := map[int64]Product{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Product
	err := sqlx.SelectContext(ctx, x, &rows, selectCols+" WHERE p.id IN ("+store.Placeholders(len(ids))+")",
		store.Int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("product: load for lines: %w", err)
	}
	for _, p := range rows {
		out[p.ID] = p
	}
	return out, nil
}

// ItemTable names a line-item table and its parent column. Only the two
// constants below exist, so table names never come from input.
type ItemTable struct{ table, parent string }

// The line-item tables.
var (
	SaleItems        = ItemTable{"sale_items", "sale_id"}
	OpportunityItems = ItemTable{"opportunity_items", "opportunity_id"}
)

// WriteLines replaces the line items of one record.
func WriteLines(ctx context.Context, tx sqlx.ExecerContext, t ItemTable, parentID int64, lines []Line) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.table+" WHERE "+t.parent+" = ?", parentID); err != nil {
		return fmt.Errorf("product: clear %s of %d: %w", t.table, parentID, err)
	}
	if len(lines) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(lines))
	for i, l := range lines {
		args = append(args, parentID, l.ProductID, l.Quantity, l.UnitPriceFen, l.TotalFen, i)
	}
	sqlText := "INSERT INTO " + t.table + " (" + t.parent + ", product_id, quantity, unit_price_fen, total_fen, sort_order) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(lines)), ", ")
	if _, err := tx.ExecContext(ctx, sqlText, args...); err != nil {
		return fmt.Errorf("product: write %s of %d: %w", t.table, parentID, err)
	}
	return nil
}

// ReadLines returns the line items of the given records, by record id, in
// their entered order; product names are the catalogue's current ones.
func ReadLines(ctx context.Context, x sqlx.QueryerContext, t ItemTable, parentIDs ...int64) (map[int64][]Line, error) {
	out := map[int64][]Line{}
	if len(parentIDs) == 0 {
		return out, nil
	}
	var rows []Line
	sqlText := "SELECT i." + t.parent + ` AS parent_id, i.product_id, COALESCE(p.name, '') AS product_name,
		COALESCE(p.code, '') AS product_code, COALESCE(p.unit, '') AS unit, i.quantity, i.unit_price_fen, i.total_fen
		FROM ` + t.table + ` i LEFT JOIN products p ON p.id = i.product_id
		WHERE i.` + t.parent + " IN (" + store.Placeholders(len(parentIDs)) + ") ORDER BY i." + t.parent + ", i.sort_order"
	if err := sqlx.SelectContext(ctx, x, &rows, sqlText, store.Int64Args(parentIDs)...); err != nil {
		return nil, fmt.Errorf("product: read %s: %w", t.table, err)
	}
	for _, l := range rows {
		l.finish()
		out[l.ParentID] = append(out[l.ParentID], l)
	}
	return out, nil
}

// Describe is the compact form of lines the operation log keeps
// ("CRM 标准版 × 3 @ 33.33; …"), so a change of lines shows as one field.
func Describe(lines []Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%s × %d @ %s", l.ProductName, l.Quantity, FormatFen(l.UnitPriceFen))
	}
	return strings.Join(parts, "; ")
}

// ProductIDs is the set of products on some lines (the keep set of an edit).
func ProductIDs(lines []Line) map[int64]bool {
	out := map[int64]bool{}
	for _, l := range lines {
		out[l.ProductID] = true
	}
	return out
}
