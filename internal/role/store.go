package role

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// Store reads and writes the roles table.
type Store struct{}

const roleCols = `SELECT r.id, r.code, r.name, r.data_scope, r.permissions, r.field_policy, r.builtin, r.created_at, r.updated_at,
	(SELECT COUNT(*) FROM user_roles ur WHERE ur.role_id = r.id) AS user_count FROM roles r`

// List returns every role, oldest first (the built-in ones lead).
func (Store) List(ctx context.Context, x sqlx.QueryerContext) ([]Role, error) {
	out := []Role{}
	if err := sqlx.SelectContext(ctx, x, &out, roleCols+" ORDER BY r.id"); err != nil {
		return nil, fmt.Errorf("role: list: %w", err)
	}
	for i := range out {
		out[i].fill()
	}
	return out, nil
}

// Get reads one role.
func (Store) Get(ctx context.Context, x sqlx.QueryerContext, id int64) (*Role, error) {
	var r Role
	err := sqlx.GetContext(ctx, x, &r, roleCols+" WHERE r.id = ?", id)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("role: get %d: %w", id, err)
	}
	r.fill()
	return &r, nil
}

func (r *Role) fill() {
	r.Permissions = strings.Fields(r.RawPerms)
	r.Locked = r.Code == "admin"
	r.FieldPolicy = auth.ParseFieldPolicy(r.RawFields)
}

// NameTaken reports whether another role (not id) already has name.
func (Store) NameTaken(ctx context.Context, x sqlx.QueryerContext, name string, id int64) (bool, error) {
	var n int
	if err := sqlx.GetContext(ctx, x, &n, "SELECT COUNT(*) FROM roles WHERE name = ? AND id <> ?", name, id); err != nil {
		return false, fmt.Errorf("role: name check: %w", err)
	}
	return n > 0, nil
}

// Insert adds r and sets its id.
func (Store) Insert(ctx context.Context, x sqlx.ExtContext, r *Role) error {
	res, err := x.ExecContext(ctx, `INSERT INTO roles (code, name, data_scope, permissions, field_policy, builtin, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?)`, r.Code, r.Name, string(r.DataScope), strings.Join(r.Permissions, " "),
		auth.FormatFieldPolicy(r.FieldPolicy), r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("role: insert: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// Update writes name, scope and permissions.
func (Store) Update(ctx context.Context, x sqlx.ExtContext, r *Role) error {
	_, err := x.ExecContext(ctx, `UPDATE roles SET name = ?, data_scope = ?, permissions = ?, field_policy = ?, updated_at = ?
		WHERE id = ?`, r.Name, string(r.DataScope), strings.Join(r.Permissions, " "), auth.FormatFieldPolicy(r.FieldPolicy),
		r.UpdatedAt, r.ID)
	if err != nil {
		return fmt.Errorf("role: update %d: %w", r.ID, err)
	}
	return nil
}

// Delete removes a role nobody holds; holders are checked by the caller in
// the same transaction, and the NOT EXISTS guards against one assigned since.
func (Store) Delete(ctx context.Context, x sqlx.ExtContext, id int64) (bool, error) {
	res, err := x.ExecContext(ctx, `DELETE FROM roles WHERE id = ? AND builtin = 0
		AND NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = ?)`, id, id)
	if err != nil {
		return false, fmt.Errorf("role: delete %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
