package sale

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/store"
)

// Store is the sales table and its line items. Methods take sqlx
// interfaces so they run on the DB or inside a service's transaction.
type Store struct {
	db *store.DB
}

// NewStore returns the sale store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const selectCols = `SELECT s.id, s.customer_id, COALESCE(c.name, '') AS customer_name, s.opportunity_id,
	op.title AS opportunity_title, s.owner_id, COALESCE(o.name, '') AS owner_name, s.department_id,
	COALESCE(d.name, '') AS department_name, s.sale_date, s.amount_fen, s.notes, s.created_by,
	COALESCE(cb.name, '') AS created_by_name, s.created_at, s.updated_at, s.version, s.deleted_at,
	du.name AS deleted_by_name
	FROM sales s
	LEFT JOIN customers c ON c.id = s.customer_id
	LEFT JOIN opportunities op ON op.id = s.opportunity_id
	LEFT JOIN users o ON o.id = s.owner_id
	LEFT JOIN departments d ON d.id = s.department_id
	LEFT JOIN users cb ON cb.id = s.created_by
	LEFT JOIN users du ON du.id = s.deleted_by`

// query is a WHERE clause under construction.
type query struct {
	where []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *query) sql() string { return " WHERE " + strings.Join(q.where, " AND ") }

// build turns a validated Filter into SQL, always limited to the Actor's
// data scope and to live (or, for the recycle bin, deleted) rows.
func build(a *auth.Actor, f Filter, deleted bool) *query {
	q := &query{}
	if deleted {
		q.add("s.deleted_at IS NOT NULL")
	} else {
		q.add("s.deleted_at IS NULL")
	}
	cond, args := a.ScopeFilter("s.owner_id", "s.department_id")
	q.add(cond, args...)
	for col, v := range map[string]int64{"s.customer_id": f.CustomerID, "s.owner_id": f.OwnerID, "s.department_id": f.DepartmentID} {
		if v > 0 {
			q.add(col+" = ?", v)
		}
	}
	if f.ProductID > 0 {
		q.add("EXISTS (SELECT 1 FROM sale_items si WHERE si.sale_id = s.id AND si.product_id = ?)", f.ProductID)
	}
	if len(f.DepartmentIDs) > 0 {
		q.add("s.department_id IN ("+store.Placeholders(len(f.DepartmentIDs))+")", store.Int64Args(f.DepartmentIDs)...)
	}
	if f.Source != "" {
		q.add("EXISTS (SELECT 1 FROM customers sc WHERE sc.id = s.customer_id AND sc.source = ?)", f.Source)
	}
	if f.From != "" {
		q.add("s.sale_date >= ?", f.From)
	}
	if f.To != "" {
		q.add("s.sale_date <= ?", f.To)
	}
	return q
}

// List returns one page, newest sale date first, and the count and sum of
// the whole filtered set (one aggregate query, not a scan in Go).
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter, deleted bool) ([]Sale, Totals, error) {
	q := build(a, f, deleted)
	var t Totals
	err := s.db.GetContext(ctx, &t, "SELECT COUNT(*) AS count, COALESCE(SUM(s.amount_fen), 0) AS amount_fen FROM sales s"+q.sql(), q.args...)
	if err != nil {
		return nil, Totals{}, fmt.Errorf("sale: totals: %w", err)
	}
	t.Amount = product.FormatFen(t.AmountFen)
	out := []Sale{}
	if t.Count == 0 {
		return out, t, nil
	}
	order := " ORDER BY s.sale_date DESC, s.id DESC"
	if deleted {
		order = " ORDER BY s.deleted_at DESC, s.id DESC"
	}
	args := append(q.args, f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, selectCols+q.sql()+order+" LIMIT ? OFFSET ?", args...); err != nil {
		return nil, Totals{}, fmt.Errorf("sale: list: %w", err)
	}
	for i := range out {
		out[i].finish()
	}
	return out, t, nil
}

// Get reads one sale with its lines in the Actor's scope; deleted says
// which side of the recycle bin to look on. Out of scope: ErrNotFound.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64, deleted bool) (*Sale, error) {
	q := build(a, Filter{}, deleted)
	q.add("s.id = ?", id)
	var out Sale
	err := sqlx.GetContext(ctx, x, &out, selectCols+q.sql(), q.args...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sale: get %d: %w", id, err)
	}
	lines, err := product.ReadLines(ctx, x, product.SaleItems, id)
	if err != nil {
		return nil, err
	}
	out.Lines = append([]product.Line{}, lines[id]...)
	out.finish()
	return &out, nil
}

// Insert writes a new sale with its lines and sets s.ID. A second sale for
// the same opportunity is ErrOpportunityHasSale.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, sl *Sale) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO sales (customer_id, opportunity_id, owner_id, department_id,
		sale_date, amount_fen, notes, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		sl.CustomerID, sl.OpportunityID, sl.OwnerID, sl.DepartmentID, sl.SaleDate, sl.AmountFen, sl.Notes,
		sl.CreatedBy, sl.CreatedAt, sl.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return ErrOpportunityHasSale
	}
	if err != nil {
		return fmt.Errorf("sale: insert: %w", err)
	}
	if sl.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sale: insert id: %w", err)
	}
	sl.Version = 1
	return product.WriteLines(ctx, tx, product.SaleItems, sl.ID, sl.Lines)
}

// Update writes sl if its stored version is still sl.Version (and its
// lines when linesChanged); false when someone else saved first.
func (s *Store) Update(ctx context.Context, tx *sqlx.Tx, sl *Sale, linesChanged bool) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sales SET customer_id = ?, opportunity_id = ?, owner_id = ?,
		department_id = ?, sale_date = ?, amount_fen = ?, notes = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND deleted_at IS NULL`,
		sl.CustomerID, sl.OpportunityID, sl.OwnerID, sl.DepartmentID, sl.SaleDate, sl.AmountFen, sl.Notes,
		sl.UpdatedAt, sl.ID, sl.Version)
	if store.IsUniqueViolation(err) {
		return false, ErrOpportunityHasSale
	}
	if err != nil {
		return false, fmt.Errorf("sale: update %d: %w", sl.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	sl.Version++
	if !linesChanged {
		return true, nil
	}
	return true, product.WriteLines(ctx, tx, product.SaleItems, sl.ID, sl.Lines)
}

// SetDeleted moves a sale into (deletedBy > 0) or out of the recycle bin.
func (s *Store) SetDeleted(ctx context.Context, tx *sqlx.Tx, id int64, deletedBy int64, at time.Time) error {
	var err error
	if deletedBy > 0 {
		_, err = tx.ExecContext(ctx, `UPDATE sales SET deleted_at = ?, deleted_by = ?, updated_at = ?,
			version = version + 1 WHERE id = ? AND deleted_at IS NULL`, at, deletedBy, at, id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE sales SET deleted_at = NULL, deleted_by = NULL, updated_at = ?,
			version = version + 1 WHERE id = ? AND deleted_at IS NOT NULL`, at, id)
	}
	if err != nil {
		return fmt.Errorf("sale: set deleted %d: %w", id, err)
	}
	return nil
}

// opportunityRef is what a sale needs to know about the opportunity it
// names. It is read here, rather than through the deal package, because
// deal builds on sale (a won opportunity creates its sale).
type opportunityRef struct {
	CustomerID int64  `db:"customer_id"`
	Title      string `db:"title"`
	SaleID     *int64 `db:"sale_id"`
}

// Opportunity reads a live opportunity in the Actor's scope with the sale
// already made from it, if any; ErrNotFound otherwise.
func (s *Store) Opportunity(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*opportunityRef, error) {
	cond, args := a.ScopeFilter("o.owner_id", "o.department_id")
	var ref opportunityRef
	err := sqlx.GetContext(ctx, x, &ref, `SELECT o.customer_id, o.title, sa.id AS sale_id FROM opportunities o
		LEFT JOIN sales sa ON sa.opportunity_id = o.id
		WHERE o.id = ? AND o.deleted_at IS NULL AND `+cond, append([]any{id}, args...)...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sale: opportunity %d: %w", id, err)
	}
	return &ref, nil
}
