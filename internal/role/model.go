// Package role is 权限管理: the roles people hold, each a set of permission
// codes (module × action, from auth's fixed catalogue) and a data scope.
// The Actor is rebuilt from the database on every request, so a change here
// applies to everyone's next request on every instance without a cache to
// invalidate.
package role

import (
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound = errs.NotFound("role.not_found")
	// ErrAdminLocked: the 管理员 role always holds everything, so it is
	// neither edited nor deleted (otherwise nobody could undo a mistake).
	ErrAdminLocked = errs.Conflict("role.admin_locked")
	// ErrBuiltin: 销售经理 and 销售 may be edited but not deleted; the
	// organization sync and seeding refer to them by code.
	ErrBuiltin = errs.Conflict("role.builtin_undeletable")
)

// errInUse refuses deleting a role people still hold, saying how many.
func errInUse(n int) error {
	return &errs.Error{Kind: errs.KindConflict, Key: "role.in_use", Args: map[string]any{"count": n},
		Detail: map[string]any{"user_count": n}}
}

// maxName is the roles.name column's width.
const maxName = 50

// Role is one role with how many people hold it.
type Role struct {
	ID          int64      `json:"id" db:"id"`
	Code        string     `json:"code" db:"code"`
	Name        string     `json:"name" db:"name"`
	DataScope   auth.Scope `json:"data_scope" db:"data_scope"`
	Permissions []string   `json:"permissions" db:"-"`
	RawPerms    string     `json:"-" db:"permissions"`
	// FieldPolicy is how holders see the sensitive fields (field → masked
	// or hidden; absent fields are visible).
	FieldPolicy auth.FieldPolicy `json:"field_policy" db:"-"`
	RawFields   string           `json:"-" db:"field_policy"`
	Builtin     bool             `json:"builtin" db:"builtin"`
	// Locked marks the admin role, which cannot be changed.
	Locked    bool      `json:"locked" db:"-"`
	UserCount int       `json:"user_count" db:"user_count"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	UpdatedAt time.Time `json:"updated_at" db:"updated_at"`
}

// Input creates or edits a role; nil fields are left unchanged on edit.
type Input struct {
	Name        *string   `json:"name"`
	DataScope   *string   `json:"data_scope"`
	Permissions *[]string `json:"permissions"`
	// FieldPolicy replaces the role's field visibility when present:
	// field → "visible" | "masked" | "hidden".
	FieldPolicy *map[string]string `json:"field_policy"`
}

// CopyInput names the copy of a role.
type CopyInput struct {
	Name *string `json:"name"`
}

// Catalog is what a role can be made of, as codes; the web layer labels it.
type Catalog struct {
	Modules []string
	Actions []string
	Scopes  []auth.Scope
	Fields  []string
	Modes   []auth.FieldMode
}

// fields is the audited form of a role.
func (r *Role) fields() map[string]any {
	fp := map[string]string{}
	for f, m := range r.FieldPolicy {
		fp[f] = string(m)
	}
	return map[string]any{"name": r.Name, "data_scope": string(r.DataScope), "permissions": r.Permissions,
		"field_policy": fp}
}
