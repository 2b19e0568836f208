package auth

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// ErrInactive means the person was deactivated and may not act.
var ErrInactive = errs.New(errs.KindUnauthorized, "auth.inactive")

// Loader builds Actors from the database. It reads the organization tables
// directly (rather than through the user package) so that user management
// can itself depend on auth without a cycle.
type Loader struct {
	db *store.DB
}

// NewLoader returns a Loader on db.
func NewLoader(db *store.DB) *Loader { return &Loader{db: db} }

type actorRow struct {
	ID     int64  `db:"id"`
	UserID string `db:"userid"`
	Name   string `db:"name"`
	Lang   string `db:"lang"`
	Active bool   `db:"active"`
}

type roleRow struct {
	ID          int64  `db:"id"`
	Code        string `db:"code"`
	Name        string `db:"name"`
	DataScope   string `db:"data_scope"`
	Permissions string `db:"permissions"`
	FieldPolicy string `db:"field_policy"`
}

// Load builds the Actor for user id; a deactivated person gets ErrInactive.
func (l *Loader) Load(ctx context.Context, userID int64) (*Actor, error) {
	var u actorRow
	err := l.db.GetContext(ctx, &u, "SELECT id, userid, name, lang, active FROM users WHERE id = ?", userID)
	if store.IsNoRows(err) {
		return nil, errs.ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load user: %w", err)
	}
	if !u.Active {
		return nil, ErrInactive
	}
	a := &Actor{UserID: u.ID, DingUserID: u.UserID, Name: u.Name, Lang: u.Lang, Perms: map[Perm]bool{}, Scope: ScopeSelf}
	var roles []roleRow
	err = l.db.SelectContext(ctx, &roles, `SELECT r.id, r.code, r.name, r.data_scope, r.permissions, r.field_policy
		FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = ? ORDER BY r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: load roles: %w", err)
	}
	policies := make([]FieldPolicy, 0, len(roles))
	for _, r := range roles {
		policies = append(policies, ParseFieldPolicy(r.FieldPolicy))
		a.Roles = append(a.Roles, RoleRef{ID: r.ID, Code: r.Code, Name: r.Name})
		for _, p := range ParsePerms(r.Permissions) {
			a.Perms[p] = true
		}
		a.Scope = Wider(a.Scope, Scope(r.DataScope))
	}
	a.Fields = MostPermissive(policies)
	if err := l.db.SelectContext(ctx, &a.DeptIDs,
		"SELECT department_id FROM user_departments WHERE user_id = ? ORDER BY is_manager DESC, department_id", userID); err != nil {
		return nil, fmt.Errorf("auth: load departments: %w", err)
	}
	if len(a.DeptIDs) > 0 {
		a.PrimaryDeptID = a.DeptIDs[0]
	}
	switch a.Scope {
	case ScopeDept:
		a.ScopeDeptIDs = a.DeptIDs
	case ScopeDeptTree:
		a.ScopeDeptIDs, err = l.subtree(ctx, a.DeptIDs)
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

// subtree returns roots and every department below them. The tree is small
// (hundreds of departments at most), so it is read whole and walked in Go,
// which works the same on both engines.
func (l *Loader) subtree(ctx context.Context, roots []int64) ([]int64, error) {
	var rows []struct {
		ID       int64  `db:"id"`
		ParentID *int64 `db:"parent_id"`
	}
	if err := l.db.SelectContext(ctx, &rows, "SELECT id, parent_id FROM departments"); err != nil {
		return nil, fmt.Errorf("auth: load department tree: %w", err)
	}
	children := map[int64][]int64{}
	for _, r := range rows {
		if r.ParentID != nil {
			children[*r.ParentID] = append(children[*r.ParentID], r.ID)
		}
	}
	seen := map[int64]bool{}
	var out []int64
	var walk func(id int64)
	walk = func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, id)
		for _, c := range children[id] {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out, nil
}
