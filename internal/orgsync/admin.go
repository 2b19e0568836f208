package orgsync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/user"
)

// Usage returns this month's DingTalk API calls per API against the
// monthly quota (needs user.view).
func (s *Service) Usage(ctx context.Context, a *auth.Actor) (dingtalk.Usage, error) {
	if err := a.Require(auth.UserView); err != nil {
		return dingtalk.Usage{}, err
	}
	u, err := s.dt.Usage(ctx, time.Now())
	if err != nil {
		return u, fmt.Errorf("orgsync: usage: %w", err)
	}
	if u.APIs == nil {
		u.APIs = []dingtalk.APIUsage{}
	}
	return u, nil
}

// AutoRoles gives a DingTalk person's roles back to the sync's mapping
// (undoing an admin's hand-set roles) and applies the mapping at once
// (needs user.manage).
func (s *Service) AutoRoles(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(auth.UserManage); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var p []localPerson
		if err := tx.SelectContext(ctx, &p, personCols+" WHERE id = ?", id); err != nil {
			return fmt.Errorf("orgsync: read person %d: %w", id, err)
		}
		if len(p) == 0 {
			return user.ErrNotFound
		}
		if p[0].Source != "dingtalk" {
			return ErrNotDingTalk
		}
		var managers int
		if err := tx.GetContext(ctx, &managers, "SELECT COUNT(*) FROM user_departments WHERE user_id = ? AND is_manager = 1", id); err != nil {
			return err
		}
		role := targetRole(p[0].AdminLevel, map[int64]bool{0: managers > 0})
		var roleID int64
		if err := tx.GetContext(ctx, &roleID, "SELECT id FROM roles WHERE code = ?", role); err != nil {
			return fmt.Errorf("orgsync: role %s: %w", role, err)
		}
		var old []string
		if err := tx.SelectContext(ctx, &old, "SELECT r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.code", id); err != nil {
			return err
		}
		if role != RoleAdmin && slices.Contains(old, RoleAdmin) {
			if n, err := activeAdmins(ctx, tx, id); err != nil || n == 0 {
				return cmp.Or(err, error(user.ErrLastAdmin))
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET roles_manual = 0, updated_at = ? WHERE id = ?", store.Now(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_roles WHERE user_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)", id, roleID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, whoOf(a), audit.Entry{Action: audit.ActAssignRoles, Entity: "user", EntityID: id,
			EntityName: p[0].Name, Changes: map[string]audit.Change{"roles": {Old: old, New: []string{role}},
				"roles_manual": {Old: p[0].RolesManual, New: false}}})
	})
}

// activeAdmins counts the active people holding the admin role, other
// than except.
func activeAdmins(ctx context.Context, x sqlx.QueryerContext, except int64) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, x, &n, `SELECT COUNT(DISTINCT u.id) FROM users u JOIN user_roles ur ON ur.user_id = u.id
		JOIN roles r ON r.id = ur.role_id WHERE r.code = 'admin' AND u.active = 1 AND u.id <> ?`, except)
	if err != nil {
		return 0, fmt.Errorf("orgsync: count admins: %w", err)
	}
	return n, nil
}
