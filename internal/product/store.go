package product

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// Store is the products table.
type Store struct {
	db *store.DB
}

// NewStore returns the product store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const selectCols = `SELECT p.id, p.name, p.code, p.unit, p.unit_price_fen, p.active, p.created_at,
	p.updated_at, p.version FROM products p`

func where(f Filter) (string, []any) {
	sqlText, args := " WHERE 1 = 1", []any{}
	if f.Q != "" {
		like := store.Contains(f.Q)
		sqlText += " AND (p.name LIKE ? " + store.LikeEscape + " OR p.code LIKE ? " + store.LikeEscape + ")"
		args = append(args, like, like)
	}
	if f.Active != nil {
		sqlText += " AND p.active = ?"
		args = append(args, *f.Active)
	}
	return sqlText, args
}

// List returns one page of the catalogue, active products first, by name.
func (s *Store) List(ctx context.Context, f Filter) ([]Product, int, error) {
	cond, args := where(f)
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM products p"+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("product: count: %w", err)
	}
	out := []Product{}
	if total == 0 {
		return out, 0, nil
	}
	sqlText := selectCols + cond + " ORDER BY p.active DESC, p.name, p.id LIMIT ? OFFSET ?"
	if err := s.db.SelectContext(ctx, &out, sqlText, append(args, f.PageSize, (f.Page-1)*f.PageSize)...); err != nil {
		return nil, 0, fmt.Errorf("product: list: %w", err)
	}
	for i := range out {
		out[i].finish()
	}
	return out, total, nil
}

// Get reads one product; ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, id int64) (*Product, error) {
	var p Product
	err := sqlx.GetContext(ctx, x, &p, selectCols+" WHERE p.id = ?", id)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("product: get %d: %w", id, err)
	}
	p.finish()
	return &p, nil
}

// NameTaken reports whether another product already has this name (by the
// engine's own comparison, the same the unique index uses).
func (s *Store) NameTaken(ctx context.Context, x sqlx.QueryerContext, name string, exceptID int64) (bool, error) {
	var n int
	err := sqlx.GetContext(ctx, x, &n, "SELECT COUNT(*) FROM products WHERE name = ? AND id <> ?", name, exceptID)
	if err != nil {
		return false, fmt.Errorf("product: name check: %w", err)
	}
	return n > 0, nil
}

// Insert writes a new product and sets p.ID.
func (s *Store) Insert(ctx context.Context, tx sqlx.ExtContext, p *Product) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO products (name, code, unit, unit_price_fen, active,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
		p.Name, p.Code, p.Unit, p.UnitPriceFen, p.Active, p.CreatedAt, p.UpdatedAt)
	if store.IsUniqueViolation(err) {
		return errNameTaken
	}
	if err != nil {
		return fmt.Errorf("product: insert: %w", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("product: insert id: %w", err)
	}
	p.Version = 1
	return nil
}

// Update writes p if its stored version is still p.Version; false when
// someone else saved first.
func (s *Store) Update(ctx context.Context, tx sqlx.ExtContext, p *Product) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE products SET name = ?, code = ?, unit = ?, unit_price_fen = ?,
		active = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		p.Name, p.Code, p.Unit, p.UnitPriceFen, p.Active, p.UpdatedAt, p.ID, p.Version)
	if store.IsUniqueViolation(err) {
		return false, errNameTaken
	}
	if err != nil {
		return false, fmt.Errorf("product: update %d: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	p.Version++
	return true, nil
}
