package orgsync

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// localDept is a department row.
type localDept struct {
	ID         int64      `db:"id"`
	DingTalkID *int64     `db:"dingtalk_id"`
	Name       string     `db:"name"`
	ParentID   *int64     `db:"parent_id"`
	SortOrder  int        `db:"sort_order"`
	RemovedAt  *time.Time `db:"removed_at"`
}

// localPerson is a users row with memberships and roles.
type localPerson struct {
	ID          int64      `db:"id"`
	UserID      string     `db:"userid"`
	UnionID     string     `db:"unionid"`
	Name        string     `db:"name"`
	Mobile      *string    `db:"mobile"`
	Email       string     `db:"email"`
	Title       string     `db:"title"`
	Avatar      string     `db:"avatar"`
	JobNumber   string     `db:"job_number"`
	HiredAt     *time.Time `db:"hired_at"`
	MainDeptID  *int64     `db:"main_department_id"`
	AdminLevel  int        `db:"admin_level"`
	Active      bool       `db:"active"`
	RolesManual bool       `db:"roles_manual"`
	Source      string     `db:"source"`
	LeftAt      *time.Time `db:"left_at"`
	// members maps local department ids to is_manager.
	members map[int64]bool
	roles   []string // role codes, sorted
}

func (p *localPerson) mobile() string {
	if p.Mobile == nil {
		return ""
	}
	return *p.Mobile
}

// local is the database's side of the comparison.
type local struct {
	depts    map[int64]*localDept // by DingTalk id
	deptByID map[int64]*localDept // by local id
	people   map[string]*localPerson
	byMobile map[string]*localPerson
	roleIDs  map[string]int64 // role code → id
}

const personCols = `SELECT id, userid, unionid, name, mobile, email, title, avatar, job_number, hired_at,
	main_department_id, admin_level, active, roles_manual, source, left_at FROM users`

// loadLocal reads every department, and the people the snapshot is about:
// everyone for a full snapshot; for an event, the people it names plus
// whoever holds one of their mobiles.
func loadLocal(ctx context.Context, x sqlx.QueryerContext, snap *Snapshot) (*local, error) {
	l := &local{depts: map[int64]*localDept{}, deptByID: map[int64]*localDept{}, people: map[string]*localPerson{},
		byMobile: map[string]*localPerson{}, roleIDs: map[string]int64{}}
	if err := l.loadDepts(ctx, x); err != nil {
		return nil, err
	}
	if err := l.loadRoles(ctx, x); err != nil {
		return nil, err
	}
	var people []*localPerson
	var err error
	if snap.Full {
		err = sqlx.SelectContext(ctx, x, &people, personCols)
	} else {
		people, err = partialPeople(ctx, x, snap)
	}
	if err != nil {
		return nil, fmt.Errorf("orgsync: read people: %w", err)
	}
	for _, p := range people {
		p.members = map[int64]bool{}
		l.people[p.UserID] = p
		if p.Mobile != nil {
			l.byMobile[*p.Mobile] = p
		}
	}
	return l, l.loadMemberships(ctx, x, people, snap.Full)
}

func (l *local) loadDepts(ctx context.Context, x sqlx.QueryerContext) error {
	var depts []*localDept
	if err := sqlx.SelectContext(ctx, x, &depts,
		"SELECT id, dingtalk_id, name, parent_id, sort_order, removed_at FROM departments"); err != nil {
		return fmt.Errorf("orgsync: read departments: %w", err)
	}
	for _, d := range depts {
		l.deptByID[d.ID] = d
		if d.DingTalkID != nil {
			l.depts[*d.DingTalkID] = d
		}
	}
	return nil
}

func (l *local) loadRoles(ctx context.Context, x sqlx.QueryerContext) error {
	var roles []struct {
		ID   int64  `db:"id"`
		Code string `db:"code"`
	}
	if err := sqlx.SelectContext(ctx, x, &roles, "SELECT id, code FROM roles"); err != nil {
		return fmt.Errorf("orgsync: read roles: %w", err)
	}
	for _, r := range roles {
		l.roleIDs[r.Code] = r.ID
	}
	for _, code := range []string{RoleAdmin, RoleManager, RoleSales} {
		if l.roleIDs[code] == 0 {
			return fmt.Errorf("orgsync: built-in role %q is missing", code)
		}
	}
	return nil
}

// partialPeople reads the people an event snapshot names, and the holders
// of their mobiles.
func partialPeople(ctx context.Context, x sqlx.QueryerContext, snap *Snapshot) ([]*localPerson, error) {
	ids := append([]string(nil), snap.Gone...)
	var mobiles []string
	for _, p := range snap.People {
		ids = append(ids, p.UserID)
		if p.Mobile != "" {
			mobiles = append(mobiles, p.Mobile)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	q := personCols + " WHERE userid IN (" + store.Placeholders(len(ids)) + ")"
	args := stringArgs(ids)
	if len(mobiles) > 0 {
		q += " OR mobile IN (" + store.Placeholders(len(mobiles)) + ")"
		args = append(args, stringArgs(mobiles)...)
	}
	var out []*localPerson
	err := sqlx.SelectContext(ctx, x, &out, q, args...)
	return out, err
}

// loadMemberships fills departments and roles of the people read.
func (l *local) loadMemberships(ctx context.Context, x sqlx.QueryerContext, people []*localPerson, all bool) error {
	if len(people) == 0 {
		return nil
	}
	byID := make(map[int64]*localPerson, len(people))
	ids := make([]int64, 0, len(people))
	for _, p := range people {
		byID[p.ID] = p
		ids = append(ids, p.ID)
	}
	where, args := "", []any(nil)
	if !all {
		where, args = " WHERE user_id IN ("+store.Placeholders(len(ids))+")", store.Int64Args(ids)
	}
	var members []struct {
		UserID    int64 `db:"user_id"`
		DeptID    int64 `db:"department_id"`
		IsManager bool  `db:"is_manager"`
	}
	if err := sqlx.SelectContext(ctx, x, &members, "SELECT user_id, department_id, is_manager FROM user_departments"+where, args...); err != nil {
		return fmt.Errorf("orgsync: read memberships: %w", err)
	}
	for _, m := range members {
		if p := byID[m.UserID]; p != nil {
			p.members[m.DeptID] = m.IsManager
		}
	}
	var roles []struct {
		UserID int64  `db:"user_id"`
		Code   string `db:"code"`
	}
	q := "SELECT ur.user_id, r.code FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
	if !all {
		q += " WHERE ur.user_id IN (" + store.Placeholders(len(ids)) + ")"
	}
	if err := sqlx.SelectContext(ctx, x, &roles, q+" ORDER BY r.code", args...); err != nil {
		return fmt.Errorf("orgsync: read roles of people: %w", err)
	}
	for _, r := range roles {
		if p := byID[r.UserID]; p != nil {
			p.roles = append(p.roles, r.Code)
		}
	}
	return nil
}

func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
