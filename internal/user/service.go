package user

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/store"
)

var mobilePattern = regexp.MustCompile(`^1[3-9]\d{9}$`)

// SessionRevoker ends a person's sessions when they are deactivated.
type SessionRevoker interface {
	RevokeUser(ctx context.Context, tx sqlx.ExtContext, userID int64) (func(), error)
}

// Service is 用户管理.
type Service struct {
	db       *store.DB
	store    *Store
	sessions SessionRevoker
}

// NewService wires the user service.
func NewService(db *store.DB, st *Store, sessions SessionRevoker) *Service {
	return &Service{db: db, store: st, sessions: sessions}
}

// List returns people (needs user.view).
func (s *Service) List(ctx context.Context, a *auth.Actor, f Filter) ([]User, int, error) {
	if err := a.Require(auth.UserView); err != nil {
		return nil, 0, err
	}
	var v errs.Invalid
	paging.Check(&v, &f.Page, &f.PageSize)
	if utf8.RuneCountInString(f.Q) > 100 {
		v.Add("q", "validation.too_long", "max", 100)
	}
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, f)
}

// Get returns one person (needs user.view).
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*User, error) {
	if err := a.Require(auth.UserView); err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// Departments lists the organization tree (any signed-in person: pickers need it).
func (s *Service) Departments(ctx context.Context, a *auth.Actor) ([]Department, error) {
	if a == nil {
		return nil, errs.ErrUnauthorized
	}
	return s.store.Departments(ctx)
}

// Roles lists the roles (needs user.view or role.view).
func (s *Service) Roles(ctx context.Context, a *auth.Actor) ([]Role, error) {
	if !a.Can(auth.UserView) && !a.Can(auth.RoleView) {
		return nil, errs.ErrForbidden
	}
	return s.store.Roles(ctx)
}

// Create adds a person by hand (添加用户).
func (s *Service) Create(ctx context.Context, a *auth.Actor, in Input) (*User, error) {
	if err := a.Require(auth.UserManage); err != nil {
		return nil, err
	}
	u := &User{Active: true, Source: "manual", CreatedAt: store.Now(), UserID: "manual_" + randomHex(8)}
	if in.Name == nil {
		in.Name = new(string)
	}
	if in.Mobile == nil {
		in.Mobile = new(string)
	}
	var v errs.Invalid
	s.applyFields(&v, u, in, true)
	s.checkRef(ctx, &v, "department_ids", "departments", in.DepartmentIDs, true)
	s.checkRef(ctx, &v, "role_ids", "roles", in.RoleIDs, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.store.Insert(ctx, tx, u); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.InvalidField("mobile", "validation.mobile_taken")
			}
			return err
		}
		if err := s.store.ReplaceDepartments(ctx, tx, u.ID, in.DepartmentIDs); err != nil {
			return err
		}
		if err := s.store.ReplaceRoles(ctx, tx, u.ID, in.RoleIDs); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActCreate, Entity: "user", EntityID: u.ID,
			EntityName: u.Name, Changes: audit.Diff(nil, map[string]any{"name": u.Name, "mobile": u.Mobile,
				"email": u.Email, "title": u.Title, "department_ids": in.DepartmentIDs, "role_ids": in.RoleIDs})})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, u.ID)
}

// Update edits a person's fields and departments.
func (s *Service) Update(ctx context.Context, a *auth.Actor, id int64, in Input) (*User, error) {
	if err := a.Require(auth.UserManage); err != nil {
		return nil, err
	}
	if in.RoleIDs != nil {
		return nil, errs.InvalidField("role_ids", "validation.use_roles_endpoint")
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		u, err := s.store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		before := map[string]any{"name": u.Name, "mobile": u.Mobile, "email": u.Email, "title": u.Title, "department_ids": deptIDs(u)}
		var v errs.Invalid
		s.applyFields(&v, u, in, false)
		if in.DepartmentIDs != nil {
			s.checkRef(ctx, &v, "department_ids", "departments", in.DepartmentIDs, true)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.store.UpdateFields(ctx, tx, u); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.InvalidField("mobile", "validation.mobile_taken")
			}
			return err
		}
		after := map[string]any{"name": u.Name, "mobile": u.Mobile, "email": u.Email, "title": u.Title, "department_ids": deptIDs(u)}
		if in.DepartmentIDs != nil {
			if err := s.store.ReplaceDepartments(ctx, tx, id, in.DepartmentIDs); err != nil {
				return err
			}
			after["department_ids"] = in.DepartmentIDs
		}
		changes := audit.Diff(before, after)
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "user", EntityID: id,
			EntityName: u.Name, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// SetRoles replaces a person's roles (权限分配).
func (s *Service) SetRoles(ctx context.Context, a *auth.Actor, id int64, roleIDs []int64) (*User, error) {
	if err := a.Require(auth.UserManage); err != nil {
		return nil, err
	}
	var v errs.Invalid
	s.checkRef(ctx, &v, "role_ids", "roles", roleIDs, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		u, err := s.store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.guardLastAdmin(ctx, tx, u, roleIDs); err != nil {
			return err
		}
		if err := s.store.ReplaceRoles(ctx, tx, id, roleIDs); err != nil {
			return err
		}
		// Marked manual: the DingTalk sync's role mapping keeps hands off
		// (internal/orgsync; POST /org/users/{id}/auto-roles undoes it).
		if _, err := tx.ExecContext(ctx, "UPDATE users SET roles_manual = 1, updated_at = ? WHERE id = ?", store.Now(), id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActAssignRoles, Entity: "user", EntityID: id,
			EntityName: u.Name, Changes: audit.Diff(map[string]any{"role_ids": roleIDList(u)}, map[string]any{"role_ids": roleIDs})})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// Deactivate is the manual's 删除用户: the person can no longer sign in and
// their sessions end, but they and their records stay.
func (s *Service) Deactivate(ctx context.Context, a *auth.Actor, id int64) error {
	if err := a.Require(auth.UserManage); err != nil {
		return err
	}
	if id == a.UserID {
		return ErrSelfDeactive
	}
	var after func()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		u, err := s.store.Get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !u.Active {
			return nil
		}
		if err := s.guardLastAdmin(ctx, tx, u, nil); err != nil {
			return err
		}
		if err := s.store.SetActive(ctx, tx, id, false); err != nil {
			return err
		}
		if after, err = s.sessions.RevokeUser(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActDeactivate, Entity: "user", EntityID: id,
			EntityName: u.Name, Changes: map[string]audit.Change{"active": {Old: true, New: false}}})
	})
	if err == nil && after != nil {
		after()
	}
	return err
}

// Activate undoes a deactivation.
func (s *Service) Activate(ctx context.Context, a *auth.Actor, id int64) (*User, error) {
	if err := a.Require(auth.UserManage); err != nil {
		return nil, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		u, err := s.store.Get(ctx, tx, id)
		if err != nil || u.Active {
			return err
		}
		if err := s.store.SetActive(ctx, tx, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActActivate, Entity: "user", EntityID: id,
			EntityName: u.Name, Changes: map[string]audit.Change{"active": {Old: false, New: true}}})
	})
	if err != nil {
		return nil, err
	}
	return s.store.Get(ctx, s.db, id)
}

// SetLang saves the Actor's own language choice.
func (s *Service) SetLang(ctx context.Context, a *auth.Actor, lang string) error {
	if lang != "zh-CN" && lang != "en" {
		return errs.InvalidField("lang", "validation.not_an_option")
	}
	return s.store.SetLang(ctx, a.UserID, lang)
}

// guardLastAdmin refuses a change that would leave no active admin, which
// would lock everyone out of 用户管理.
func (s *Service) guardLastAdmin(ctx context.Context, tx *sqlx.Tx, u *User, newRoleIDs []int64) error {
	isAdmin := false
	for _, r := range u.Roles {
		isAdmin = isAdmin || r.Code == "admin"
	}
	if !isAdmin {
		return nil
	}
	if newRoleIDs != nil {
		var adminID int64
		if err := tx.GetContext(ctx, &adminID, "SELECT id FROM roles WHERE code = 'admin'"); err != nil {
			return err
		}
		for _, id := range newRoleIDs {
			if id == adminID {
				return nil
			}
		}
	}
	n, err := s.store.activeAdminsExcept(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

func (s *Service) applyFields(v *errs.Invalid, u *User, in Input, creating bool) {
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
		if u.Name == "" {
			v.Add("name", "validation.required")
		} else if utf8.RuneCountInString(u.Name) > 50 {
			v.Add("name", "validation.too_long", "max", 50)
		}
	}
	if in.Mobile != nil {
		m := strings.TrimSpace(*in.Mobile)
		switch {
		case m == "" && creating:
			v.Add("mobile", "validation.required")
		case m == "":
			u.Mobile = nil
		case !mobilePattern.MatchString(m):
			v.Add("mobile", "validation.mobile")
		default:
			u.Mobile = &m
		}
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if e != "" {
			if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e || len(e) > 200 {
				v.Add("email", "validation.email")
			}
		}
		u.Email = e
	}
	if in.Title != nil {
		u.Title = strings.TrimSpace(*in.Title)
		if utf8.RuneCountInString(u.Title) > 50 {
			v.Add("title", "validation.too_long", "max", 50)
		}
	}
}

// checkRef validates department or role ids: present (when required),
// without duplicates, and existing.
func (s *Service) checkRef(ctx context.Context, v *errs.Invalid, field, table string, ids []int64, required bool) {
	if len(ids) == 0 {
		if required {
			v.Add(field, "validation.required")
		}
		return
	}
	if len(ids) > 50 {
		v.Add(field, "validation.too_many", "max", 50)
		return
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			v.Add(field, "validation.duplicate")
			return
		}
		seen[id] = true
	}
	n, err := s.store.countExisting(ctx, table, ids)
	if err != nil || n != len(ids) {
		v.Add(field, "validation.unknown_ref")
	}
}

func deptIDs(u *User) []int64 {
	out := []int64{}
	for _, d := range u.Departments {
		out = append(out, d.ID)
	}
	return out
}

func roleIDList(u *User) []int64 {
	out := []int64{}
	for _, r := range u.Roles {
		out = append(out, r.ID)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Self returns the Actor's own record (for /me; no permission needed).
func (s *Service) Self(ctx context.Context, a *auth.Actor) (*User, error) {
	return s.store.Get(ctx, s.db, a.UserID)
}
