// Package user is 用户管理: people, departments and roles. People normally
// arrive from DingTalk's organization; an admin may also add one by hand,
// deactivate one (never delete: their records stay) and assign roles.
package user

import (
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// Domain errors.
var (
	ErrNotFound     = errs.NotFound("user.not_found")
	ErrSelfDeactive = errs.Conflict("user.cannot_deactivate_self")
	ErrLastAdmin    = errs.Conflict("user.last_admin")
)

// User is one person.
type User struct {
	ID          int64          `json:"id" db:"id"`
	UserID      string         `json:"userid" db:"userid"`
	Name        string         `json:"name" db:"name"`
	Mobile      *string        `json:"mobile" db:"mobile"`
	Email       string         `json:"email" db:"email"`
	Title       string         `json:"title" db:"title"`
	Lang        string         `json:"lang" db:"lang"`
	Active      bool           `json:"active" db:"active"`
	Source      string         `json:"source" db:"source"`
	CreatedAt   time.Time      `json:"created_at" db:"created_at"`
	Departments []DeptRef      `json:"departments" db:"-"`
	Roles       []auth.RoleRef `json:"roles" db:"-"`
}

// DeptRef names a department.
type DeptRef struct {
	ID   int64  `json:"id" db:"id"`
	Name string `json:"name" db:"name"`
}

// Department is a node of the organization tree.
type Department struct {
	ID          int64  `json:"id" db:"id"`
	Name        string `json:"name" db:"name"`
	ParentID    *int64 `json:"parent_id" db:"parent_id"`
	DingTalkID  *int64 `json:"dingtalk_id" db:"dingtalk_id"`
	MemberCount int    `json:"member_count" db:"member_count"`
}

// Role is a named set of permissions with a data scope.
type Role struct {
	ID          int64      `json:"id" db:"id"`
	Code        string     `json:"code" db:"code"`
	Name        string     `json:"name" db:"name"`
	DataScope   auth.Scope `json:"data_scope" db:"data_scope"`
	Permissions []string   `json:"permissions" db:"-"`
	RawPerms    string     `json:"-" db:"permissions"`
	Builtin     bool       `json:"builtin" db:"builtin"`
}

// Input adds or edits a person; nil fields are left unchanged on edit.
type Input struct {
	Name          *string `json:"name"`
	Mobile        *string `json:"mobile"`
	Email         *string `json:"email"`
	Title         *string `json:"title"`
	DepartmentIDs []int64 `json:"department_ids"`
	RoleIDs       []int64 `json:"role_ids"`
}

// Filter narrows the people list.
type Filter struct {
	Q            string
	DepartmentID int64
	Active       *bool
	Page         int
	PageSize     int
}
