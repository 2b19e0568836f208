package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type userJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Roles  []struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	} `json:"roles"`
	Departments []struct {
		ID int64 `json:"id"`
	} `json:"departments"`
}

// TestUserManagement is the manual's 用户管理: 添加用户, 权限分配, 删除用户,
// each audited, and closed to people without user.manage.
func TestUserManagement(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			var roles struct {
				Items []struct {
					ID   int64  `json:"id"`
					Code string `json:"code"`
				} `json:"items"`
			}
			admin.Do("GET", "/api/v1/roles", nil, &roles)
			role := map[string]int64{}
			for _, r := range roles.Items {
				role[r.Code] = r.ID
			}
			var depts struct {
				Items []struct {
					ID   int64  `json:"id"`
					Name string `json:"name"`
				} `json:"items"`
			}
			admin.Do("GET", "/api/v1/departments", nil, &depts)
			if len(depts.Items) != 5 || role["sales"] == 0 {
				t.Fatalf("departments %v roles %v", depts, role)
			}
			bad := []struct {
				body  map[string]any
				field string
			}{
				{map[string]any{"name": "新人", "mobile": "123", "department_ids": []int64{2}, "role_ids": []int64{role["sales"]}}, "mobile"},
				{map[string]any{"name": "新人", "mobile": "13800000004", "department_ids": []int64{2}, "role_ids": []int64{role["sales"]}}, "mobile"},
				{map[string]any{"name": "新人", "mobile": "13900009999", "email": "not-mail", "department_ids": []int64{2}, "role_ids": []int64{role["sales"]}}, "email"},
				{map[string]any{"name": "新人", "mobile": "13900009999", "department_ids": []int64{999}, "role_ids": []int64{role["sales"]}}, "department_ids"},
				{map[string]any{"name": "新人", "mobile": "13900009999", "department_ids": []int64{2}}, "role_ids"},
			}
			for _, b := range bad {
				var e errJSON
				if st := admin.Do("POST", "/api/v1/users", b.body, &e); st != 400 || e.Error.Fields[b.field] == "" {
					t.Errorf("bad user %v: %d %+v", b.body, st, e)
				}
			}
			var u userJSON
			st := admin.Do("POST", "/api/v1/users", map[string]any{"name": "新同事", "mobile": "13900009999",
				"email": "new@example.com", "title": "销售", "department_ids": []int64{depts.Items[1].ID}, "role_ids": []int64{role["sales"]}}, &u)
			if st != 201 || !u.Active || len(u.Roles) != 1 || u.Roles[0].Code != "sales" {
				t.Fatalf("add user: %d %+v", st, u)
			}
			var found struct {
				Total int `json:"total"`
			}
			// LIKE with metacharacters must be literal and valid SQL on both engines.
			for q, want := range map[string]int{"新同": 1, "1390000999": 1, "%": 0, "new@exa": 1, `\`: 0} {
				if st := admin.Do("GET", "/api/v1/users?q="+url.QueryEscape(q), nil, &found); st != 200 || found.Total != want {
					t.Errorf("user search %q: %d total %d, want %d", q, st, found.Total, want)
				}
			}
			path := fmt.Sprintf("/api/v1/users/%d", u.ID)
			if st := admin.Do("PUT", path+"/roles", map[string]any{"role_ids": []int64{role["manager"]}}, &u); st != 200 || u.Roles[0].Code != "manager" {
				t.Fatalf("assign roles: %d %+v", st, u)
			}
			if st := admin.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("deactivate: %d", st)
			}
			admin.Do("GET", path, nil, &u)
			if u.Active {
				t.Fatal("still active")
			}
			var log auditJSON
			admin.Do("GET", fmt.Sprintf("/api/v1/audit?entity=user&entity_id=%d", u.ID), nil, &log)
			if log.Total != 3 || log.Items[0].Action != "deactivate" || log.Items[1].Action != "assign_roles" || log.Items[2].Action != "create" {
				t.Fatalf("audit: %+v", log)
			}
			// The last admin cannot lose the role, nor deactivate themselves.
			adminID := int64(admin.Me["id"].(float64))
			var e errJSON
			if st := admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", adminID), map[string]any{"role_ids": []int64{role["sales"]}}, &e); st != 409 {
				t.Fatalf("removed the last admin: %d %+v", st, e)
			}
			if st := admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", adminID), nil, nil); st != 409 {
				t.Fatalf("deactivated self: %d", st)
			}
			// Salespeople and managers cannot manage people.
			for _, who := range []string{"sim_s1", "sim_mgr1"} {
				c := srv.Login(t, who)
				if st := c.Do("POST", "/api/v1/users", map[string]any{"name": "x"}, nil); st != 403 {
					t.Errorf("%s added a user: %d", who, st)
				}
				if st := c.Do("DELETE", path, nil, nil); st != 403 {
					t.Errorf("%s deactivated a user: %d", who, st)
				}
				if st := c.Do("GET", "/api/v1/audit", nil, nil); st != 403 {
					t.Errorf("%s read the audit log: %d", who, st)
				}
			}
			if st := srv.Login(t, "sim_s1").Do("GET", "/api/v1/users", nil, nil); st != 403 {
				t.Errorf("salesperson listed users: %d", st)
			}
		})
	}
}
