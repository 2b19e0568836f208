package pool

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
)

// The pool's SQL. Every move is one UPDATE guarded by the owner the service
// saw (owner_id = ? AND deleted_at IS NULL), so two people moving the same
// customer at once cannot both succeed.

// infoOf reads the pool columns of the given customers.
func infoOf(ctx context.Context, x sqlx.QueryerContext, ids []int64) (map[int64]poolInfo, error) {
	out := map[int64]poolInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []poolInfo
	err := sqlx.SelectContext(ctx, x, &rows, `SELECT c.id, c.pool_entered_at, c.pool_cause, c.pool_reason,
		c.former_owner_id, COALESCE(u.name, '') AS former_owner_name
		FROM customers c LEFT JOIN users u ON u.id = c.former_owner_id
		WHERE c.id IN (`+store.Placeholders(len(ids))+`)`, store.Int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("pool: read pool fields: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// lockPerson serializes the moves that give customers to one person, so the
// cap check and the move cannot interleave with another's. SQLite runs one
// write transaction at a time already. It must be the transaction's first
// read: a MySQL transaction's snapshot starts at its first plain read, and
// the count that follows must see every move committed before the lock.
func lockPerson(ctx context.Context, tx *sqlx.Tx, db *store.DB, userID int64) error {
	if db.Dialect != store.MySQL {
		return nil
	}
	var id int64
	if err := tx.GetContext(ctx, &id, "SELECT id FROM users WHERE id = ? FOR UPDATE", userID); err != nil {
		return fmt.Errorf("pool: lock person %d: %w", userID, err)
	}
	return nil
}

// countOwned is how many live customers a person owns.
func countOwned(ctx context.Context, x sqlx.QueryerContext, userID int64) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, x, &n, "SELECT COUNT(*) FROM customers WHERE owner_id = ? AND deleted_at IS NULL", userID); err != nil {
		return 0, fmt.Errorf("pool: count owned: %w", err)
	}
	return n, nil
}

// fromPool gives a pool customer to owner; false when it left the pool
// meanwhile.
func fromPool(ctx context.Context, tx *sqlx.Tx, id, owner, dept int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE customers SET owner_id = ?, department_id = ?, owner_since = ?,
		pool_entered_at = NULL, pool_cause = '', pool_reason = '', updated_at = ?, version = version + 1
		WHERE id = ? AND owner_id = 0 AND deleted_at IS NULL`, owner, dept, now, now, id)
	if err != nil {
		return false, fmt.Errorf("pool: take %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n != 1 {
		return false, nil
	}
	return true, reminder.MoveOwner(ctx, tx, []int64{id}, now)
}

// toPool returns a customer of owner to the pool; false when its owner
// changed meanwhile.
func toPool(ctx context.Context, tx *sqlx.Tx, id, owner int64, cause, reason string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE customers SET owner_id = 0, department_id = 0, pool_entered_at = ?,
		pool_cause = ?, pool_reason = ?, former_owner_id = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND owner_id = ? AND deleted_at IS NULL`, now, cause, reason, owner, now, id, owner)
	if err != nil {
		return false, fmt.Errorf("pool: release %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n != 1 {
		return false, nil
	}
	return true, reminder.MoveOwner(ctx, tx, []int64{id}, now) // cancels the follow-up reminder
}

// owned is a customer with its owner, as a transfer sees it.
type owned struct {
	ID           int64  `db:"id"`
	Name         string `db:"name"`
	OwnerID      int64  `db:"owner_id"`
	OwnerName    string `db:"-"`
	DepartmentID int64  `db:"department_id"`
}

// ownedInScope reads the given live, owned customers within a's scope. On
// MySQL it locks them, so their owners cannot change before the transfer's
// UPDATE (SQLite's single writer gives the same).
func ownedInScope(ctx context.Context, tx *sqlx.Tx, db *store.DB, a *auth.Actor, ids []int64) (map[int64]owned, error) {
	cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	lock := ""
	if db.Dialect == store.MySQL {
		lock = " FOR UPDATE"
	}
	var rows []owned
	// No join here: a MySQL locking read would lock the joined users too.
	err := tx.SelectContext(ctx, &rows, `SELECT c.id, c.name, c.owner_id, c.department_id FROM customers c
		WHERE c.deleted_at IS NULL AND c.owner_id > 0 AND `+cond+` AND c.id IN (`+store.Placeholders(len(ids))+`)`+lock,
		append(args, store.Int64Args(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("pool: read customers to transfer: %w", err)
	}
	names, err := userNames(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]owned, len(rows))
	for _, r := range rows {
		r.OwnerName = names[r.OwnerID]
		out[r.ID] = r
	}
	return out, nil
}

// userNames maps the owners of rows to their names.
func userNames(ctx context.Context, x sqlx.QueryerContext, rows []owned) (map[int64]string, error) {
	out := map[int64]string{}
	var ids []int64
	for _, r := range rows {
		if _, ok := out[r.OwnerID]; !ok {
			out[r.OwnerID] = ""
			ids = append(ids, r.OwnerID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var people []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	err := sqlx.SelectContext(ctx, x, &people, "SELECT id, name FROM users WHERE id IN ("+store.Placeholders(len(ids))+")",
		store.Int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("pool: owner names: %w", err)
	}
	for _, p := range people {
		out[p.ID] = p.Name
	}
	return out, nil
}

// reassign gives owned customers to owner and reports how many moved.
func reassign(ctx context.Context, tx *sqlx.Tx, ids []int64, owner, dept int64, now time.Time) (int, error) {
	args := append([]any{owner, dept, now, now}, store.Int64Args(ids)...)
	res, err := tx.ExecContext(ctx, `UPDATE customers SET owner_id = ?, department_id = ?, owner_since = ?,
		updated_at = ?, version = version + 1
		WHERE owner_id > 0 AND deleted_at IS NULL AND id IN (`+store.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("pool: transfer: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), reminder.MoveOwner(ctx, tx, ids, now)
}
