package dingtalktest

import (
	"net/http"
	"slices"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// LoginCodeTTL is how long a login-free code lives.
const LoginCodeTTL = 5 * time.Minute

// IssueLoginCode returns a login-free code for userID, as
// dd.requestAuthCode would give the page: valid 5 minutes, usable once.
func (s *Server) IssueLoginCode(userID string) string {
	code := newID(32)
	exp := s.Now().Add(LoginCodeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &oneTimeCode{userID: userID, expires: exp}
	return code
}

// takeCode consumes a one-time code.
func (s *Server) takeCode(codes map[string]*oneTimeCode, code string) (string, bool) {
	now := s.Now()
	c := codes[code]
	if c == nil || c.used || now.After(c.expires) {
		return "", false
	}
	c.used = true
	return c.userID, true
}

func (s *Server) sysLevel(u *User) int {
	if lvl, ok := s.org.admins[u.UserID]; ok {
		return lvl
	}
	if u.Boss {
		return 100
	}
	return 0
}

func (s *Server) getUserInfo(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		Code string `json:"code"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.takeCode(s.codes, in.Code)
	if !ok {
		return nil, errc(40078, "不存在的临时授权码")
	}
	u := s.org.users[id]
	if u == nil {
		return nil, errc(60121, "找不到该用户")
	}
	lvl := s.sysLevel(u)
	_, admin := s.org.admins[u.UserID]
	return map[string]any{"result": map[string]any{
		"userid": u.UserID, "unionid": u.UnionID, "associated_unionid": "", "name": u.Name,
		"device_id": "fake-device-" + u.UserID, "sys": admin, "sys_level": lvl,
	}}, nil
}

func (s *Server) getByUnionID(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		UnionID string `json:"unionid"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.org.union[in.UnionID]
	if !ok {
		return nil, errc(60121, "找不到该用户")
	}
	return map[string]any{"result": map[string]any{"contact_type": 0, "userid": id}}, nil
}

type deptReq struct {
	DeptID   int64  `json:"dept_id"`
	Language string `json:"language"`
}

func (s *Server) deptListSub(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	in := deptReq{DeptID: dingtalk.RootDeptID}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org.depts[in.DeptID] == nil {
		return nil, errc(60003, "部门不存在")
	}
	list := []map[string]any{}
	for _, d := range s.org.children(in.DeptID) {
		list = append(list, map[string]any{
			"dept_id": d.ID, "name": d.Name, "parent_id": d.ParentID,
			"create_dept_group": d.CreateDeptGroup, "auto_add_user": d.AutoAddUser,
		})
	}
	return map[string]any{"result": list}, nil
}

func (s *Server) deptListSubID(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	in := deptReq{DeptID: dingtalk.RootDeptID}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org.depts[in.DeptID] == nil {
		return nil, errc(60003, "部门不存在")
	}
	ids := []int64{}
	for _, d := range s.org.children(in.DeptID) {
		ids = append(ids, d.ID)
	}
	return map[string]any{"result": map[string]any{"dept_id_list": ids}}, nil
}

func (s *Server) deptGet(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in deptReq
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.org.depts[in.DeptID]
	if d == nil {
		return nil, errc(60003, "部门不存在")
	}
	all := map[string]bool{}
	for _, id := range s.org.subtree(d.ID) {
		for _, u := range s.org.membersOf(id) {
			all[u] = true
		}
	}
	managers := d.Managers
	if managers == nil {
		managers = []string{}
	}
	return map[string]any{"result": map[string]any{
		"dept_id": d.ID, "name": d.Name, "parent_id": d.ParentID, "order": d.Order,
		"dept_manager_userid_list": managers, "org_dept_owner": d.OrgDeptOwner,
		"member_count": len(all), "owning_member_count": len(s.org.membersOf(d.ID)),
		"hide_dept": d.HideDept, "outer_dept": d.OuterDept, "code": d.Code,
		"source_identifier": d.SourceIdentifier, "create_dept_group": d.CreateDeptGroup,
		"auto_add_user": d.AutoAddUser, "group_contain_sub_dept": false, "brief": "",
	}}, nil
}

type listReq struct {
	DeptID   int64  `json:"dept_id"`
	Cursor   int64  `json:"cursor"`
	Size     int    `json:"size"`
	Language string `json:"language"`
}

// page cuts a department's members by cursor (an offset) and size (≤ 100).
func (s *Server) page(body []byte) ([]*User, int64, bool, int64, *apiErr) {
	var in listReq
	if e := decode(body, &in); e != nil {
		return nil, 0, false, 0, e
	}
	if in.Size <= 0 || in.Size > dingtalk.MaxPageSize {
		return nil, 0, false, 0, errc(40069, "不合法的size")
	}
	if in.Cursor < 0 {
		return nil, 0, false, 0, errc(40068, "不合法的cursor")
	}
	if s.org.depts[in.DeptID] == nil {
		return nil, 0, false, 0, errc(60003, "部门不存在")
	}
	ids := s.org.membersOf(in.DeptID)
	start := min(int(in.Cursor), len(ids))
	end := min(start+in.Size, len(ids))
	var out []*User
	for _, id := range ids[start:end] {
		out = append(out, s.org.users[id])
	}
	return out, int64(end), end < len(ids), in.DeptID, nil
}

func (s *Server) userListSimple(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users, next, more, _, e := s.page(body)
	if e != nil {
		return nil, e
	}
	list := []map[string]any{}
	for _, u := range users {
		list = append(list, map[string]any{"userid": u.UserID, "name": u.Name})
	}
	res := map[string]any{"has_more": more, "list": list}
	if more {
		res["next_cursor"] = next
	}
	return map[string]any{"result": res}, nil
}

func (s *Server) userList(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users, next, more, dept, e := s.page(body)
	if e != nil {
		return nil, e
	}
	list := []map[string]any{}
	for _, u := range users {
		m := s.userFields(u)
		m["dept_order"] = u.DeptOrders[dept]
		m["leader"] = s.org.isManager(u.UserID, dept)
		list = append(list, m)
	}
	res := map[string]any{"has_more": more, "list": list}
	if more {
		res["next_cursor"] = next
	}
	return map[string]any{"result": res}, nil
}

// userFields are the fields v2/user/list and v2/user/get share.
func (s *Server) userFields(u *User) map[string]any {
	_, admin := s.org.admins[u.UserID]
	var hired any
	if !u.HiredDate.IsZero() {
		hired = u.HiredDate.UnixMilli()
	}
	m := map[string]any{
		"userid": u.UserID, "unionid": u.UnionID, "name": u.Name, "avatar": u.Avatar,
		"state_code": u.StateCode, "mobile": u.Mobile, "hide_mobile": u.HideMobile,
		"telephone": u.Telephone, "job_number": u.JobNumber, "title": u.Title, "email": u.Email,
		"org_email": u.OrgEmail, "work_place": u.WorkPlace, "remark": u.Remark,
		"dept_id_list": slices.Clone(u.DeptIDs), "extension": u.Extension, "active": !u.Inactive,
		"admin": admin, "boss": u.Boss, "exclusive_account": u.ExclusiveAccount,
	}
	if hired != nil {
		m["hired_date"] = hired
	}
	return m
}

func (s *Server) userGet(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		UserID string `json:"userid"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.UserID == "" {
		return nil, errc(33012, "无效的USERID")
	}
	u := s.org.users[in.UserID]
	if u == nil {
		return nil, errc(60121, "找不到该用户")
	}
	m := s.userFields(u)
	leaders, orders := []map[string]any{}, []map[string]any{}
	for _, d := range u.DeptIDs {
		leaders = append(leaders, map[string]any{"dept_id": d, "leader": s.org.isManager(u.UserID, d)})
		orders = append(orders, map[string]any{"dept_id": d, "order": u.DeptOrders[d]})
	}
	roles := []map[string]any{}
	for _, r := range u.Roles {
		roles = append(roles, map[string]any{"id": r.ID, "name": r.Name, "group_name": r.GroupName})
	}
	m["leader_in_dept"] = leaders
	m["dept_order_list"] = orders
	m["role_list"] = roles
	m["manager_userid"] = u.ManagerUserID
	m["senior"] = u.Senior
	m["real_authed"] = u.RealAuthed
	return map[string]any{"result": m}, nil
}

func (s *Server) listAdmin(_ *http.Request, _ []byte, _ caller) (any, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	for _, a := range s.orgAdminsSorted() {
		list = append(list, map[string]any{"userid": a.UserID, "sys_level": a.Level})
	}
	return map[string]any{"result": list}, nil
}

func (s *Server) orgAdminsSorted() []Admin {
	var out []Admin
	for id, lvl := range s.org.admins {
		out = append(out, Admin{UserID: id, Level: lvl})
	}
	slices.SortFunc(out, func(a, b Admin) int {
		if a.Level != b.Level {
			return a.Level - b.Level
		}
		if a.UserID < b.UserID {
			return -1
		}
		return 1
	})
	return out
}
