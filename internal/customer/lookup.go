package customer

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// VisibleName returns the name of a live, owned customer in the Actor's
// scope, ok false when there is none. Modules whose records hang off a
// customer (contacts, follow-ups, reminders) check the customer with it
// before writing. A customer in the public pool is nobody's until claimed,
// so nothing new is attached to it, whatever the scope: the company-wide
// scope's condition is true for owner 0 too, hence the explicit test (as
// in Get, which sales and opportunities check with).
func (s *Store) VisibleName(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (string, bool, error) {
	cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	var name string
	err := sqlx.GetContext(ctx, x, &name, "SELECT c.name FROM customers c WHERE c.id = ? AND c.deleted_at IS NULL AND c.owner_id > 0 AND "+cond,
		append([]any{id}, args...)...)
	if store.IsNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("customer: visible %d: %w", id, err)
	}
	return name, true, nil
}

// Lock makes the transaction the only writer of one customer's dependent
// records until it ends, so values derived from them (the primary contact,
// the search text, the follow-up times) are computed from a current list.
// MySQL locks the customer row; SQLite's immediate transactions already
// hold the database's write lock. It must be the transaction's first read,
// so MySQL's snapshot is taken after it.
func (s *Store) Lock(ctx context.Context, tx *sqlx.Tx, id int64) error {
	if s.db.Dialect != store.MySQL {
		return nil
	}
	var got int64
	err := tx.GetContext(ctx, &got, "SELECT id FROM customers WHERE id = ? FOR UPDATE", id)
	if err != nil && !store.IsNoRows(err) {
		return fmt.Errorf("customer: lock %d: %w", id, err)
	}
	return nil
}
