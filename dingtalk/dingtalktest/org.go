package dingtalktest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// Department is a department of the fake organization.
type Department struct {
	ID               int64
	Name             string
	ParentID         int64 // 0 only for the root (id 1)
	Order            int64
	Managers         []string // userids of the department's managers (主管)
	CreateDeptGroup  bool
	AutoAddUser      bool
	HideDept         bool
	OuterDept        bool
	Code             string
	SourceIdentifier string
	OrgDeptOwner     string
}

// User is a person of the fake organization, with every field the list
// and get APIs return.
type User struct {
	UserID           string
	UnionID          string // default "union_"+UserID
	OpenID           string // default "open_"+UserID
	Name             string
	Avatar           string
	StateCode        string // default "86"
	Mobile           string
	HideMobile       bool
	Telephone        string
	JobNumber        string
	Title            string
	Email            string
	OrgEmail         string
	WorkPlace        string
	Remark           string
	Extension        string // JSON text of custom fields
	DeptIDs          []int64
	DeptOrders       map[int64]int64 // order within each department
	HiredDate        time.Time
	Inactive         bool // has not activated DingTalk (active=false)
	Boss             bool
	ExclusiveAccount bool
	Senior           bool
	RealAuthed       bool
	ManagerUserID    string
	Roles            []Role
}

// Role is a DingTalk role.
type Role struct {
	ID        int64
	Name      string
	GroupName string
}

// Admin is an administrator: Level 1 main admin, 2 sub-admin.
type Admin struct {
	UserID string
	Level  int
}

// Org is a whole organization, to load into a Server.
type Org struct {
	Departments []Department
	Users       []User
	Admins      []Admin
}

// orgState is the live organization.
type orgState struct {
	depts  map[int64]*Department
	users  map[string]*User
	admins map[string]int
	union  map[string]string // unionid → userid
	// members caches each department's direct members in list order.
	members map[int64][]string
}

func newOrgState(o *Org) (*orgState, error) {
	st := &orgState{depts: map[int64]*Department{}, users: map[string]*User{}, admins: map[string]int{}, union: map[string]string{}}
	hasRoot := false
	for _, d := range o.Departments {
		if d.ID == dingtalk.RootDeptID {
			hasRoot = true
		}
	}
	if !hasRoot {
		st.depts[dingtalk.RootDeptID] = &Department{ID: dingtalk.RootDeptID, Name: "测试企业"}
	}
	for _, d := range o.Departments {
		d := d
		d.Managers = slices.Clone(d.Managers)
		if d.ID == dingtalk.RootDeptID {
			d.ParentID = 0
		}
		st.depts[d.ID] = &d
	}
	for _, d := range st.depts {
		if d.ID != dingtalk.RootDeptID && st.depts[d.ParentID] == nil {
			return nil, fmt.Errorf("department %d: unknown parent %d", d.ID, d.ParentID)
		}
	}
	for _, u := range o.Users {
		if err := st.addUser(u); err != nil {
			return nil, err
		}
	}
	for _, a := range o.Admins {
		if st.users[a.UserID] == nil {
			return nil, fmt.Errorf("admin %s: unknown user", a.UserID)
		}
		st.admins[a.UserID] = a.Level
	}
	return st, nil
}

func (st *orgState) addUser(u User) error {
	if u.UserID == "" {
		return errors.New("user without UserID")
	}
	if st.users[u.UserID] != nil {
		return fmt.Errorf("user %s already exists", u.UserID)
	}
	if len(u.DeptIDs) == 0 {
		u.DeptIDs = []int64{dingtalk.RootDeptID}
	}
	for _, d := range u.DeptIDs {
		if st.depts[d] == nil {
			return fmt.Errorf("user %s: unknown department %d", u.UserID, d)
		}
	}
	fillUser(&u)
	if other, ok := st.union[u.UnionID]; ok {
		return fmt.Errorf("user %s: unionid %s already used by %s", u.UserID, u.UnionID, other)
	}
	st.users[u.UserID] = &u
	st.union[u.UnionID] = u.UserID
	st.members = nil
	return nil
}

func fillUser(u *User) {
	if u.UnionID == "" {
		u.UnionID = "union_" + u.UserID
	}
	if u.OpenID == "" {
		u.OpenID = "open_" + u.UserID
	}
	if u.StateCode == "" {
		u.StateCode = "86"
	}
	u.DeptIDs = slices.Clone(u.DeptIDs)
	orders := map[int64]int64{}
	for k, v := range u.DeptOrders {
		orders[k] = v
	}
	u.DeptOrders = orders
	u.Roles = slices.Clone(u.Roles)
}

// membersOf returns deptID's direct members in list order (order, userid).
func (st *orgState) membersOf(deptID int64) []string {
	if st.members == nil {
		st.members = map[int64][]string{}
		for _, u := range st.users {
			for _, d := range u.DeptIDs {
				st.members[d] = append(st.members[d], u.UserID)
			}
		}
		for d, ids := range st.members {
			sort.Slice(ids, func(i, j int) bool {
				oi, oj := st.users[ids[i]].DeptOrders[d], st.users[ids[j]].DeptOrders[d]
				if oi != oj {
					return oi < oj
				}
				return ids[i] < ids[j]
			})
		}
	}
	return st.members[deptID]
}

// children returns deptID's direct sub-departments in order.
func (st *orgState) children(deptID int64) []*Department {
	var out []*Department
	for _, d := range st.depts {
		if d.ParentID == deptID && d.ID != dingtalk.RootDeptID {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// subtree returns deptID and all departments below it.
func (st *orgState) subtree(deptID int64) []int64 {
	out := []int64{deptID}
	for i := 0; i < len(out); i++ {
		for _, c := range st.children(out[i]) {
			out = append(out, c.ID)
		}
	}
	return out
}

func (st *orgState) isManager(userID string, deptID int64) bool {
	d := st.depts[deptID]
	return d != nil && slices.Contains(d.Managers, userID)
}

// Org returns a copy of the current organization.
func (s *Server) Org() *Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &Org{}
	for _, d := range s.org.depts {
		c := *d
		c.Managers = slices.Clone(d.Managers)
		o.Departments = append(o.Departments, c)
	}
	sort.Slice(o.Departments, func(i, j int) bool { return o.Departments[i].ID < o.Departments[j].ID })
	for _, u := range s.org.users {
		c := *u
		fillUser(&c)
		o.Users = append(o.Users, c)
	}
	sort.Slice(o.Users, func(i, j int) bool { return o.Users[i].UserID < o.Users[j].UserID })
	for id, lvl := range s.org.admins {
		o.Admins = append(o.Admins, Admin{UserID: id, Level: lvl})
	}
	sort.Slice(o.Admins, func(i, j int) bool { return o.Admins[i].UserID < o.Admins[j].UserID })
	return o
}

// User returns a copy of one person.
func (s *Server) User(userID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.org.users[userID]
	if !ok {
		return User{}, false
	}
	c := *u
	fillUser(&c)
	return c, true
}

// LoadOrg replaces the organization without pushing events.
func (s *Server) LoadOrg(o *Org) error {
	st, err := newOrgState(o)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.org = st
	s.mu.Unlock()
	return nil
}

// edit runs fn on the organization under the lock and then pushes the
// events it returns (outside the lock, so a callback may call back in).
func (s *Server) edit(fn func(st *orgState) ([]orgEvent, error)) error {
	s.mu.Lock()
	evs, err := fn(s.org)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, e := range evs {
		s.push(e)
	}
	return nil
}

// AddDepartment creates a department (org_dept_create).
func (s *Server) AddDepartment(d Department) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		if d.ID <= dingtalk.RootDeptID || st.depts[d.ID] != nil {
			return nil, fmt.Errorf("dingtalktest: department id %d taken or invalid", d.ID)
		}
		if st.depts[d.ParentID] == nil {
			return nil, fmt.Errorf("dingtalktest: unknown parent %d", d.ParentID)
		}
		d.Managers = slices.Clone(d.Managers)
		st.depts[d.ID] = &d
		return []orgEvent{deptEvent(dingtalk.EventDeptCreate, d.ID)}, nil
	})
}

// UpdateDepartment replaces a department's fields (org_dept_modify).
func (s *Server) UpdateDepartment(d Department) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		if st.depts[d.ID] == nil {
			return nil, fmt.Errorf("dingtalktest: unknown department %d", d.ID)
		}
		if d.ID != dingtalk.RootDeptID {
			if st.depts[d.ParentID] == nil || slices.Contains(st.subtree(d.ID), d.ParentID) {
				return nil, fmt.Errorf("dingtalktest: bad parent %d for %d", d.ParentID, d.ID)
			}
		} else {
			d.ParentID = 0
		}
		d.Managers = slices.Clone(d.Managers)
		st.depts[d.ID] = &d
		return []orgEvent{deptEvent(dingtalk.EventDeptModify, d.ID)}, nil
	})
}

// SetDeptManagers sets a department's managers (org_dept_modify).
func (s *Server) SetDeptManagers(deptID int64, userIDs ...string) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		d := st.depts[deptID]
		if d == nil {
			return nil, fmt.Errorf("dingtalktest: unknown department %d", deptID)
		}
		for _, id := range userIDs {
			if st.users[id] == nil {
				return nil, fmt.Errorf("dingtalktest: unknown user %s", id)
			}
		}
		d.Managers = slices.Clone(userIDs)
		return []orgEvent{deptEvent(dingtalk.EventDeptModify, deptID)}, nil
	})
}

// RemoveDepartment deletes an empty department (org_dept_remove).
func (s *Server) RemoveDepartment(deptID int64) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		if deptID == dingtalk.RootDeptID || st.depts[deptID] == nil {
			return nil, fmt.Errorf("dingtalktest: cannot remove department %d", deptID)
		}
		if len(st.children(deptID)) > 0 || len(st.membersOf(deptID)) > 0 {
			return nil, fmt.Errorf("dingtalktest: department %d is not empty", deptID)
		}
		delete(st.depts, deptID)
		return []orgEvent{deptEvent(dingtalk.EventDeptRemove, deptID)}, nil
	})
}

// AddUser adds a person (user_add_org). UnionID and OpenID default from
// the userid; no DeptIDs means the root.
func (s *Server) AddUser(u User) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		if err := st.addUser(u); err != nil {
			return nil, fmt.Errorf("dingtalktest: %w", err)
		}
		return []orgEvent{userEvent(dingtalk.EventUserAdd, u.UserID)}, nil
	})
}

// UpdateUser replaces a person's profile (user_modify_org). DeptIDs nil
// keeps the departments; different ones also push user_dept_change.
func (s *Server) UpdateUser(u User) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		old := st.users[u.UserID]
		if old == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", u.UserID)
		}
		if u.DeptIDs == nil {
			u.DeptIDs = old.DeptIDs
		}
		if u.DeptOrders == nil {
			u.DeptOrders = old.DeptOrders
		}
		for _, d := range u.DeptIDs {
			if st.depts[d] == nil {
				return nil, fmt.Errorf("dingtalktest: unknown department %d", d)
			}
		}
		if u.UnionID == "" {
			u.UnionID = old.UnionID
		}
		fillUser(&u)
		if u.UnionID != old.UnionID {
			delete(st.union, old.UnionID)
			st.union[u.UnionID] = u.UserID
		}
		moved := !slices.Equal(u.DeptIDs, old.DeptIDs)
		st.users[u.UserID] = &u
		st.members = nil
		evs := []orgEvent{userEvent(dingtalk.EventUserModify, u.UserID)}
		if moved {
			evs = append(evs, userEvent(dingtalk.EventUserDeptChange, u.UserID))
		}
		return evs, nil
	})
}

// MoveUser sets a person's departments (user_dept_change). The person
// stops managing departments they left.
func (s *Server) MoveUser(userID string, deptIDs ...int64) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		u := st.users[userID]
		if u == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", userID)
		}
		if len(deptIDs) == 0 {
			return nil, errors.New("dingtalktest: a person needs a department")
		}
		for _, d := range deptIDs {
			if st.depts[d] == nil {
				return nil, fmt.Errorf("dingtalktest: unknown department %d", d)
			}
		}
		for _, d := range u.DeptIDs {
			if !slices.Contains(deptIDs, d) {
				dep := st.depts[d]
				dep.Managers = slices.DeleteFunc(dep.Managers, func(id string) bool { return id == userID })
			}
		}
		u.DeptIDs = slices.Clone(deptIDs)
		st.members = nil
		return []orgEvent{userEvent(dingtalk.EventUserDeptChange, userID)}, nil
	})
}

// RemoveUser removes a person who left (user_leave_org); they stop being
// a manager or an admin.
func (s *Server) RemoveUser(userID string) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		u := st.users[userID]
		if u == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", userID)
		}
		for _, d := range st.depts {
			d.Managers = slices.DeleteFunc(d.Managers, func(id string) bool { return id == userID })
		}
		delete(st.admins, userID)
		delete(st.union, u.UnionID)
		delete(st.users, userID)
		st.members = nil
		return []orgEvent{userEvent(dingtalk.EventUserLeave, userID)}, nil
	})
}

// ActivateUser marks a person as having activated DingTalk (user_active_org).
func (s *Server) ActivateUser(userID string) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		u := st.users[userID]
		if u == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", userID)
		}
		u.Inactive = false
		return []orgEvent{userEvent(dingtalk.EventUserActive, userID)}, nil
	})
}

// SetRoles replaces a person's roles (user_role_change).
func (s *Server) SetRoles(userID string, roles ...Role) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		u := st.users[userID]
		if u == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", userID)
		}
		u.Roles = slices.Clone(roles)
		return []orgEvent{userEvent(dingtalk.EventUserRoleChange, userID)}, nil
	})
}

// SetAdmin makes a person main admin (level 1) or sub-admin (2)
// (org_admin_add), or no admin (0, org_admin_remove).
func (s *Server) SetAdmin(userID string, level int) error {
	return s.edit(func(st *orgState) ([]orgEvent, error) {
		if st.users[userID] == nil {
			return nil, fmt.Errorf("dingtalktest: unknown user %s", userID)
		}
		if level <= 0 {
			if _, ok := st.admins[userID]; !ok {
				return nil, nil
			}
			delete(st.admins, userID)
			return []orgEvent{userEvent(dingtalk.EventAdminRemove, userID)}, nil
		}
		st.admins[userID] = level
		return []orgEvent{userEvent(dingtalk.EventAdminAdd, userID)}, nil
	})
}
