package customer

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// The public pool (公海) is customers whose owner_id is 0. Package pool owns
// its rules and moves; these two reads let it list and show pool customers
// with exactly the customer list's search and filters.

// ListPool returns a page of the pool, filtered and searched like List. The
// caller has checked the pool permission; no data scope applies, but a's
// field visibility limits what keyword search may match (nil: no limit).
func (s *Store) ListPool(ctx context.Context, a *auth.Actor, f Filter, lists Lists) ([]Customer, int, error) {
	if err := validFilter(&f, &lists); err != nil {
		return nil, 0, err
	}
	f.Pool = true
	return s.List(ctx, a, f, false)
}

// GetPool reads one live customer of the pool; ErrNotFound when there is no
// such customer or it has an owner.
func (s *Store) GetPool(ctx context.Context, x sqlx.QueryerContext, id int64) (*Customer, error) {
	q := build(nil, Filter{Pool: true}, false)
	q.add("c.id = ?", id)
	var c Customer
	err := sqlx.GetContext(ctx, x, &c, selectCols+" "+q.sql(), q.args...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("customer: get pool %d: %w", id, err)
	}
	c.decodeTags()
	return &c, nil
}
