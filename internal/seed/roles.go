// Package seed puts in what every installation needs (the built-in roles)
// and, in simulated mode, a clearly marked fake DingTalk organization with
// demo customers so a newcomer can try the CRM at once.
package seed

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// EnsureRoles creates the built-in roles that are missing and keeps the
// admin role holding every permission in the catalogue (which grows as
// modules are added). Other roles keep whatever admins made of them.
func EnsureRoles(ctx context.Context, db *store.DB) error {
	now := store.Now()
	for _, r := range auth.BuiltinRoles() {
		var n int
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM roles WHERE code = ?", r.Code); err != nil {
			return fmt.Errorf("seed: roles: %w", err)
		}
		if n == 0 {
			_, err := db.ExecContext(ctx, `INSERT INTO roles (code, name, data_scope, permissions, builtin, created_at, updated_at)
				VALUES (?, ?, ?, ?, 1, ?, ?)`, r.Code, r.Name, string(r.Scope), auth.FormatPerms(r.Perms), now, now)
			if err != nil && !store.IsUniqueViolation(err) { // another instance won the race
				return fmt.Errorf("seed: role %s: %w", r.Code, err)
			}
			continue
		}
		if r.Code == "admin" {
			_, err := db.ExecContext(ctx, "UPDATE roles SET permissions = ?, data_scope = ? WHERE code = 'admin'",
				auth.FormatPerms(r.Perms), string(auth.ScopeAll))
			if err != nil {
				return fmt.Errorf("seed: admin role: %w", err)
			}
		}
	}
	return nil
}
