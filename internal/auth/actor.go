package auth

import (
	"fmt"
	"strings"

	"github.com/dingcrm/crm/internal/errs"
)

// Actor is who is acting: the person, their roles' permissions and their
// effective data scope. It is built once per request and is the only thing
// services consult for permission and visibility.
type Actor struct {
	UserID     int64
	DingUserID string // the DingTalk userid
	Name       string
	Lang       string
	Roles      []RoleRef
	Perms      map[Perm]bool
	Scope      Scope
	// DeptIDs are the person's own departments; ScopeDeptIDs the departments
	// whose records the scope reaches (own, or own and all below).
	DeptIDs      []int64
	ScopeDeptIDs []int64
	// PrimaryDeptID is where records this person creates are filed.
	PrimaryDeptID int64
	System        bool
	// Fields is how this person sees the sensitive fields (masked or hidden
	// per their roles); nil or empty shows everything.
	Fields FieldPolicy
}

// RoleRef names a role the Actor holds.
type RoleRef struct {
	ID   int64  `json:"id" db:"id"`
	Code string `json:"code" db:"code"`
	Name string `json:"name" db:"name"`
}

// System returns the Actor for scheduled jobs and events: every permission,
// every record.
func System() *Actor {
	perms := map[Perm]bool{}
	for _, p := range AllPerms() {
		perms[p] = true
	}
	return &Actor{Name: "system", Perms: perms, Scope: ScopeAll, System: true}
}

// Can reports whether the Actor holds p.
func (a *Actor) Can(p Perm) bool { return a != nil && a.Perms[p] }

// Require returns errs.ErrForbidden unless the Actor holds p.
func (a *Actor) Require(p Perm) error {
	if a == nil {
		return errs.ErrUnauthorized
	}
	if !a.Can(p) {
		return errs.ErrForbidden
	}
	return nil
}

// PermList is the Actor's permissions, sorted (for /me).
func (a *Actor) PermList() []string {
	return strings.Fields(FormatPerms(keys(a.Perms)))
}

func keys(m map[Perm]bool) []Perm {
	out := make([]Perm, 0, len(m))
	for p, ok := range m {
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// ScopeFilter returns the SQL condition that limits rows to the Actor's data
// scope, for a table whose owner and department columns are named. Every
// list, count, read and report goes through it, so scope is enforced in SQL.
func (a *Actor) ScopeFilter(ownerCol, deptCol string) (string, []any) {
	switch a.Scope {
	case ScopeAll:
		return "1 = 1", nil
	case ScopeDept, ScopeDeptTree:
		if len(a.ScopeDeptIDs) == 0 {
			return fmt.Sprintf("%s = ?", ownerCol), []any{a.UserID}
		}
		args := []any{a.UserID}
		ph := make([]string, len(a.ScopeDeptIDs))
		for i, id := range a.ScopeDeptIDs {
			ph[i] = "?"
			args = append(args, id)
		}
		return fmt.Sprintf("(%s = ? OR %s IN (%s))", ownerCol, deptCol, strings.Join(ph, ", ")), args
	default:
		return fmt.Sprintf("%s = ?", ownerCol), []any{a.UserID}
	}
}

// Sees reports whether a record with this owner and department is in scope
// (for checks on a record already loaded, e.g. a new owner on assignment).
func (a *Actor) Sees(ownerID, deptID int64) bool {
	switch a.Scope {
	case ScopeAll:
		return true
	case ScopeDept, ScopeDeptTree:
		if ownerID == a.UserID {
			return true
		}
		for _, id := range a.ScopeDeptIDs {
			if id == deptID {
				return true
			}
		}
		return false
	default:
		return ownerID == a.UserID
	}
}
