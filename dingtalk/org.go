package dingtalk

import (
	"context"
	"fmt"
)

// RootDeptID is the id of the organization's root department.
const RootDeptID int64 = 1

// MaxPageSize is the largest user-list page asked for. The current doc
// states no maximum for v2/user/list (UNCONFIRMED); listsimple's is 100.
const MaxPageSize = 100

// Department is an item of v2/department/listsub.
type Department struct {
	DeptID          int64  `json:"dept_id"`
	Name            string `json:"name"`
	ParentID        int64  `json:"parent_id"`
	CreateDeptGroup bool   `json:"create_dept_group"`
	AutoAddUser     bool   `json:"auto_add_user"`
}

// DepartmentDetail is v2/department/get's answer.
type DepartmentDetail struct {
	DeptID              int64    `json:"dept_id"`
	Name                string   `json:"name"`
	ParentID            int64    `json:"parent_id"`
	Order               int64    `json:"order"`
	ManagerUserIDs      []string `json:"dept_manager_userid_list"`
	OrgDeptOwner        string   `json:"org_dept_owner"`
	MemberCount         int      `json:"member_count"`
	OwningMemberCount   int      `json:"owning_member_count"`
	HideDept            bool     `json:"hide_dept"`
	OuterDept           bool     `json:"outer_dept"`
	Code                string   `json:"code"`
	SourceIdentifier    string   `json:"source_identifier"`
	CreateDeptGroup     bool     `json:"create_dept_group"`
	AutoAddUser         bool     `json:"auto_add_user"`
	GroupContainSubDept bool     `json:"group_contain_sub_dept"`
}

// User is a person as v2/user/list (list fields) and v2/user/get (all
// fields) return them. Mobile and Email need extra permissions.
type User struct {
	UserID           string  `json:"userid"`
	UnionID          string  `json:"unionid"`
	Name             string  `json:"name"`
	Avatar           string  `json:"avatar"`
	StateCode        string  `json:"state_code"`
	Mobile           string  `json:"mobile"`
	HideMobile       bool    `json:"hide_mobile"`
	Telephone        string  `json:"telephone"`
	JobNumber        string  `json:"job_number"`
	Title            string  `json:"title"`
	Email            string  `json:"email"`
	OrgEmail         string  `json:"org_email"`
	WorkPlace        string  `json:"work_place"`
	Remark           string  `json:"remark"`
	DeptIDs          []int64 `json:"dept_id_list"`
	DeptOrder        int64   `json:"dept_order"` // list only: order in the queried department
	Extension        string  `json:"extension"`
	HiredDate        int64   `json:"hired_date"` // unix ms
	Active           bool    `json:"active"`
	Admin            bool    `json:"admin"`
	Boss             bool    `json:"boss"`
	Leader           bool    `json:"leader"` // list only: leads the queried department
	ExclusiveAccount bool    `json:"exclusive_account"`

	// v2/user/get only.
	LeaderInDept  []LeaderInDept `json:"leader_in_dept,omitempty"`
	ManagerUserID string         `json:"manager_userid,omitempty"`
	Roles         []Role         `json:"role_list,omitempty"`
	DeptOrderList []DeptOrder    `json:"dept_order_list,omitempty"`
	Senior        bool           `json:"senior,omitempty"`
	RealAuthed    bool           `json:"real_authed,omitempty"`
}

// LeaderInDept says whether the user leads one of their departments.
type LeaderInDept struct {
	DeptID int64 `json:"dept_id"`
	Leader bool  `json:"leader"`
}

// Role is a DingTalk role of a user.
type Role struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	GroupName string `json:"group_name"`
}

// DeptOrder is the user's sort order in one department.
type DeptOrder struct {
	DeptID int64 `json:"dept_id"`
	Order  int64 `json:"order"`
}

// UserPage is one page of v2/user/list.
type UserPage struct {
	Users      []User
	HasMore    bool
	NextCursor int64
}

// Admin is an administrator of the organization.
type Admin struct {
	UserID   string `json:"userid"`
	SysLevel int    `json:"sys_level"` // 1 main admin, 2 sub-admin
}

// ListDepartments returns the direct children of deptID (one level only;
// v2/department/listsub). Use RootDeptID for the top level.
func (c *Client) ListDepartments(ctx context.Context, deptID int64) ([]Department, error) {
	var out struct {
		Result []Department `json:"result"`
	}
	body := map[string]any{"dept_id": deptID, "language": c.opts.Language}
	if err := c.oapiPost(ctx, APIDeptListSub, body, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}

// ListSubDepartmentIDs returns the ids of deptID's direct children
// (v2/department/listsubid).
func (c *Client) ListSubDepartmentIDs(ctx context.Context, deptID int64) ([]int64, error) {
	var out struct {
		Result struct {
			DeptIDs []int64 `json:"dept_id_list"`
		} `json:"result"`
	}
	if err := c.oapiPost(ctx, APIDeptListSubID, map[string]any{"dept_id": deptID}, &out); err != nil {
		return nil, err
	}
	return out.Result.DeptIDs, nil
}

// ListAllDepartments walks the tree breadth-first from the root and returns
// every department below it (the root itself excluded: GetDepartment it).
func (c *Client) ListAllDepartments(ctx context.Context) ([]Department, error) {
	var all []Department
	queue := []int64{RootDeptID}
	seen := map[int64]bool{RootDeptID: true}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		subs, err := c.ListDepartments(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("dingtalk: walk departments under %d: %w", id, err)
		}
		for _, d := range subs {
			if seen[d.DeptID] {
				continue
			}
			seen[d.DeptID] = true
			all = append(all, d)
			queue = append(queue, d.DeptID)
		}
	}
	return all, nil
}

// GetDepartment returns one department with its managers
// (v2/department/get). An unknown id matches ErrNotFound (60003).
func (c *Client) GetDepartment(ctx context.Context, deptID int64) (*DepartmentDetail, error) {
	var out struct {
		Result DepartmentDetail `json:"result"`
	}
	body := map[string]any{"dept_id": deptID, "language": c.opts.Language}
	if err := c.oapiPost(ctx, APIDeptGet, body, &out); err != nil {
		return nil, err
	}
	return &out.Result, nil
}

// ListUsers returns one page of deptID's direct members (v2/user/list),
// starting at cursor (0 first); size is capped at MaxPageSize. A user in
// several departments appears in each: de-duplicate by UserID.
func (c *Client) ListUsers(ctx context.Context, deptID, cursor int64, size int) (*UserPage, error) {
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	var out struct {
		Result struct {
			HasMore    bool    `json:"has_more"`
			NextCursor flexInt `json:"next_cursor"`
			List       []User  `json:"list"`
		} `json:"result"`
	}
	body := map[string]any{
		"dept_id": deptID, "cursor": cursor, "size": size, "order_field": "custom",
		"contain_access_limit": false, "language": c.opts.Language,
	}
	if err := c.oapiPost(ctx, APIUserList, body, &out); err != nil {
		return nil, err
	}
	return &UserPage{Users: out.Result.List, HasMore: out.Result.HasMore, NextCursor: int64(out.Result.NextCursor)}, nil
}

// ListDepartmentUsers pages through all of deptID's direct members.
func (c *Client) ListDepartmentUsers(ctx context.Context, deptID int64) ([]User, error) {
	var all []User
	var cursor int64
	for {
		p, err := c.ListUsers(ctx, deptID, cursor, MaxPageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Users...)
		if !p.HasMore || p.NextCursor <= cursor {
			return all, nil
		}
		cursor = p.NextCursor
	}
}

// GetUser returns one person's full profile (v2/user/get). An unknown
// userid matches ErrNotFound.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	var out struct {
		Result User `json:"result"`
	}
	body := map[string]any{"userid": userID, "language": c.opts.Language}
	if err := c.oapiPost(ctx, APIUserGet, body, &out); err != nil {
		return nil, err
	}
	return &out.Result, nil
}

// ListAdmins returns the organization's administrators (topapi/user/listadmin).
func (c *Client) ListAdmins(ctx context.Context) ([]Admin, error) {
	var out struct {
		Result []Admin `json:"result"`
	}
	if err := c.oapiPost(ctx, APIListAdmin, map[string]any{}, &out); err != nil {
		return nil, err
	}
	return out.Result, nil
}
