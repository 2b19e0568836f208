package orgsync

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/auth"
)

// TreeDept is a department of the organization tree with its people.
type TreeDept struct {
	ID         int64        `json:"id" db:"id"`
	DingTalkID *int64       `json:"dingtalk_id" db:"dingtalk_id"`
	Name       string       `json:"name" db:"name"`
	ParentID   *int64       `json:"parent_id" db:"parent_id"`
	SortOrder  int          `json:"sort_order" db:"sort_order"`
	People     []TreePerson `json:"people" db:"-"`
	Children   []*TreeDept  `json:"children" db:"-"`
}

// TreePerson is an active person in a department of the tree.
type TreePerson struct {
	ID          int64          `json:"id"`
	UserID      string         `json:"userid"`
	Name        string         `json:"name"`
	Title       string         `json:"title"`
	Source      string         `json:"source"`
	Manager     bool           `json:"manager"`
	Main        bool           `json:"main"` // this is their main department
	AdminLevel  int            `json:"admin_level"`
	RolesManual bool           `json:"roles_manual"`
	Roles       []auth.RoleRef `json:"roles"`
}

// Tree returns the departments (removed ones left out) nested from the
// root, each with its active people and their roles (needs user.view).
func (s *Service) Tree(ctx context.Context, a *auth.Actor) ([]*TreeDept, error) {
	if err := a.Require(auth.UserView); err != nil {
		return nil, err
	}
	var depts []*TreeDept
	if err := s.db.SelectContext(ctx, &depts, `SELECT id, dingtalk_id, name, parent_id, sort_order FROM departments
		WHERE removed_at IS NULL ORDER BY sort_order, id`); err != nil {
		return nil, fmt.Errorf("orgsync: tree departments: %w", err)
	}
	byID := map[int64]*TreeDept{}
	for _, d := range depts {
		d.People, d.Children = []TreePerson{}, []*TreeDept{}
		byID[d.ID] = d
	}
	if err := s.treePeople(ctx, byID); err != nil {
		return nil, err
	}
	roots := []*TreeDept{}
	for _, d := range depts {
		if p := parentOf(d, byID); p != nil {
			p.Children = append(p.Children, d)
		} else {
			roots = append(roots, d)
		}
	}
	return roots, nil
}

func parentOf(d *TreeDept, byID map[int64]*TreeDept) *TreeDept {
	if d.ParentID == nil {
		return nil
	}
	return byID[*d.ParentID]
}

// treePeople puts the active people into their departments with roles.
func (s *Service) treePeople(ctx context.Context, byID map[int64]*TreeDept) error {
	var rows []struct {
		DeptID      int64  `db:"department_id"`
		IsManager   bool   `db:"is_manager"`
		ID          int64  `db:"id"`
		UserID      string `db:"userid"`
		Name        string `db:"name"`
		Title       string `db:"title"`
		Source      string `db:"source"`
		MainDept    *int64 `db:"main_department_id"`
		AdminLevel  int    `db:"admin_level"`
		RolesManual bool   `db:"roles_manual"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT ud.department_id, ud.is_manager, u.id, u.userid, u.name, u.title,
		u.source, u.main_department_id, u.admin_level, u.roles_manual
		FROM user_departments ud JOIN users u ON u.id = ud.user_id
		WHERE u.active = 1 ORDER BY ud.is_manager DESC, u.id`); err != nil {
		return fmt.Errorf("orgsync: tree people: %w", err)
	}
	roles, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		d := byID[r.DeptID]
		if d == nil {
			continue
		}
		rr := roles[r.ID]
		if rr == nil {
			rr = []auth.RoleRef{}
		}
		d.People = append(d.People, TreePerson{ID: r.ID, UserID: r.UserID, Name: r.Name, Title: r.Title, Source: r.Source,
			Manager: r.IsManager, Main: r.MainDept != nil && *r.MainDept == r.DeptID, AdminLevel: r.AdminLevel,
			RolesManual: r.RolesManual, Roles: rr})
	}
	return nil
}

func (s *Service) activeRoles(ctx context.Context) (map[int64][]auth.RoleRef, error) {
	var rows []struct {
		UserID int64 `db:"user_id"`
		auth.RoleRef
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT ur.user_id, r.id, r.code, r.name FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id WHERE u.active = 1 ORDER BY r.id`); err != nil {
		return nil, fmt.Errorf("orgsync: tree roles: %w", err)
	}
	out := map[int64][]auth.RoleRef{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.RoleRef)
	}
	return out, nil
}
