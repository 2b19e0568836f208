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
		if err := upgradeRole(ctx, db, r); err != nil {
			return err
		}
	}
	return nil
}

// upgradeRole brings a built-in role up to date with modules added since it
// was created: the admin role always holds everything; the others receive
// a new module's default permissions only when they hold none of that
// module yet, so an admin's edits within a module are kept.
func upgradeRole(ctx context.Context, db *store.DB, r auth.BuiltinRole) error {
	if r.Code == "admin" {
		_, err := db.ExecContext(ctx, "UPDATE roles SET permissions = ?, data_scope = ? WHERE code = 'admin'",
			auth.FormatPerms(r.Perms), string(auth.ScopeAll))
		if err != nil {
			return fmt.Errorf("seed: admin role: %w", err)
		}
		return nil
	}
	var stored string
	if err := db.GetContext(ctx, &stored, "SELECT permissions FROM roles WHERE code = ?", r.Code); err != nil {
		return fmt.Errorf("seed: role %s: %w", r.Code, err)
	}
	have := auth.ParsePerms(stored)
	modules := map[string]bool{}
	for _, p := range have {
		modules[p.Module()] = true
	}
	merged := append([]auth.Perm(nil), have...)
	for _, p := range r.Perms {
		if !modules[p.Module()] {
			merged = append(merged, p)
		}
	}
	if auth.FormatPerms(merged) == auth.FormatPerms(have) {
		return nil
	}
	_, err := db.ExecContext(ctx, "UPDATE roles SET permissions = ?, updated_at = ? WHERE code = ?",
		auth.FormatPerms(merged), store.Now(), r.Code)
	if err != nil {
		return fmt.Errorf("seed: upgrade role %s: %w", r.Code, err)
	}
	return nil
}
