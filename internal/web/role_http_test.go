package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type roleJSON struct {
	ID          int64    `json:"id"`
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	DataScope   string   `json:"data_scope"`
	Permissions []string `json:"permissions"`
	Builtin     bool     `json:"builtin"`
	Locked      bool     `json:"locked"`
	UserCount   int      `json:"user_count"`
}

// roleIDs maps the roles' codes to ids, through GET /roles.
func roleIDs(t *testing.T, c *apptest.Client) map[string]int64 {
	t.Helper()
	var list struct {
		Items []roleJSON `json:"items"`
	}
	if st := c.Do("GET", "/api/v1/roles", nil, &list); st != 200 {
		t.Fatalf("roles: %d", st)
	}
	out := map[string]int64{}
	for _, r := range list.Items {
		out[r.Code] = r.ID
	}
	return out
}

func roleCount(t *testing.T, c *apptest.Client) int {
	t.Helper()
	return len(roleIDs(t, c))
}

// roleAudit returns the audit entries about role id, newest first.
func roleAudit(t *testing.T, admin *apptest.Client, id int64) auditJSON {
	t.Helper()
	var a auditJSON
	admin.Do("GET", fmt.Sprintf("/api/v1/audit?entity=role&entity_id=%d", id), nil, &a)
	return a
}

// TestRoleCatalogAndReads: the matrix's rows, columns and scopes come
// labelled; reading needs role.view (a manager has it, a salesperson not).
func TestRoleCatalogAndReads(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, mgr, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_s1")
			var cat struct {
				Modules, Actions, Scopes []struct{ Code, Label string }
			}
			if st := admin.Do("GET", "/api/v1/roles/catalog", nil, &cat); st != 200 || len(cat.Modules) < 10 ||
				len(cat.Actions) != 9 || len(cat.Scopes) != 4 {
				t.Fatalf("catalog: %d %+v", st, cat)
			}
			if cat.Modules[0].Code != "customer" || cat.Modules[0].Label != "客户" || cat.Actions[0].Label != "查看" {
				t.Errorf("catalog labels: %+v %+v", cat.Modules[0], cat.Actions[0])
			}
			ids := roleIDs(t, admin)
			var r roleJSON
			if st := mgr.Do("GET", fmt.Sprintf("/api/v1/roles/%d", ids["sales"]), nil, &r); st != 200 ||
				r.Name != "销售" || r.UserCount < 5 || !r.Builtin || r.Locked {
				t.Errorf("manager reads the sales role: %d %+v", st, r)
			}
			if st := admin.Do("GET", fmt.Sprintf("/api/v1/roles/%d", ids["admin"]), nil, &r); st != 200 || !r.Locked {
				t.Errorf("admin role: %d %+v", st, r)
			}
			for _, path := range []string{"/api/v1/roles/catalog", fmt.Sprintf("/api/v1/roles/%d", ids["sales"])} {
				if st := s1.Do("GET", path, nil, nil); st != 403 {
					t.Errorf("salesperson GET %s: %d, want 403", path, st)
				}
			}
			if st := admin.Do("GET", "/api/v1/roles/99999", nil, nil); st != 404 {
				t.Errorf("unknown role: %d", st)
			}
		})
	}
}

// TestRoleChangesNeedRoleManage: a salesperson and a manager are refused
// every change (403) and nothing is written.
func TestRoleChangesNeedRoleManage(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			ids := roleIDs(t, admin)
			sales := fmt.Sprintf("/api/v1/roles/%d", ids["sales"])
			for _, who := range []string{"sim_s1", "sim_mgr1"} {
				c := srv.Login(t, who)
				for _, req := range []struct {
					method, path string
					body         any
				}{
					{"POST", "/api/v1/roles", map[string]any{"name": "新角色", "data_scope": "self"}},
					{"PATCH", sales, map[string]any{"data_scope": "all"}},
					{"DELETE", sales, nil},
					{"POST", sales + "/copy", map[string]any{"name": "副本"}},
				} {
					if st := c.Do(req.method, req.path, req.body, nil); st != 403 {
						t.Errorf("%s %s %s: %d, want 403", who, req.method, req.path, st)
					}
				}
			}
			var r roleJSON
			admin.Do("GET", sales, nil, &r)
			if n := roleCount(t, admin); n != 3 || r.DataScope != "self" {
				t.Errorf("refused changes wrote something: %d roles, sales scope %s", n, r.DataScope)
			}
		})
	}
}

// TestRoleValidation: bad input answers 400 naming the field, the locked
// admin role and roles in use answer 409, and nothing is written.
func TestRoleValidation(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			ids := roleIDs(t, admin)
			long := ""
			for range 51 {
				long += "名"
			}
			bad := []struct {
				method, path string
				body         map[string]any
				field        string
			}{
				{"POST", "/api/v1/roles", map[string]any{"name": "", "data_scope": "self"}, "name"},
				{"POST", "/api/v1/roles", map[string]any{"name": "  ", "data_scope": "self"}, "name"},
				{"POST", "/api/v1/roles", map[string]any{"name": long, "data_scope": "self"}, "name"},
				{"POST", "/api/v1/roles", map[string]any{"name": "销售", "data_scope": "self"}, "name"},
				{"POST", "/api/v1/roles", map[string]any{"name": "新角色"}, "data_scope"},
				{"POST", "/api/v1/roles", map[string]any{"name": "新角色", "data_scope": "planet"}, "data_scope"},
				{"POST", "/api/v1/roles", map[string]any{"name": "新角色", "data_scope": "self",
					"permissions": []string{"customer.view", "customer.fly"}}, "permissions"},
				{"PATCH", fmt.Sprintf("/api/v1/roles/%d", ids["sales"]), map[string]any{"name": "销售经理"}, "name"},
				{"PATCH", fmt.Sprintf("/api/v1/roles/%d", ids["sales"]), map[string]any{"permissions": []string{"nope.view"}}, "permissions"},
				{"POST", fmt.Sprintf("/api/v1/roles/%d/copy", ids["sales"]), map[string]any{}, "name"},
				{"POST", fmt.Sprintf("/api/v1/roles/%d/copy", ids["sales"]), map[string]any{"name": "管理员"}, "name"},
			}
			for _, b := range bad {
				var e errJSON
				if st := admin.Do(b.method, b.path, b.body, &e); st != 400 || e.Error.Fields[b.field] == "" {
					t.Errorf("%s %s %v: %d %+v, want 400 on %s", b.method, b.path, b.body, st, e, b.field)
				}
			}
			if st := admin.Do("POST", "/api/v1/roles", map[string]any{"name": "x", "data_scope": "self", "extra": 1}, nil); st != 400 {
				t.Errorf("unknown field: %d", st)
			}
			conflicts := []struct {
				method, path string
				body         any
				msg          string // part of the localized message
			}{
				{"PATCH", fmt.Sprintf("/api/v1/roles/%d", ids["admin"]), map[string]any{"permissions": []string{}}, "管理员角色"},
				{"PATCH", fmt.Sprintf("/api/v1/roles/%d", ids["admin"]), map[string]any{"name": "超管"}, "管理员角色"},
				{"DELETE", fmt.Sprintf("/api/v1/roles/%d", ids["admin"]), nil, "管理员角色"},
				{"DELETE", fmt.Sprintf("/api/v1/roles/%d", ids["manager"]), nil, "内置角色"},
			}
			for _, c := range conflicts {
				var e errJSON
				if st := admin.Do(c.method, c.path, c.body, &e); st != 409 || !strings.Contains(e.Error.Message, c.msg) {
					t.Errorf("%s %s: %d %+v, want 409 %s", c.method, c.path, st, e, c.msg)
				}
			}
			var r roleJSON
			admin.Do("GET", fmt.Sprintf("/api/v1/roles/%d", ids["admin"]), nil, &r)
			if n := roleCount(t, admin); n != 3 || r.Name != "管理员" || len(r.Permissions) < 90 {
				t.Errorf("refused input wrote something: %d roles, admin %+v", n, r)
			}
			if a := roleAudit(t, admin, ids["admin"]); len(a.Items) != 0 {
				t.Errorf("refused change audited: %+v", a.Items)
			}
		})
	}
}

// TestRoleLifecycle: create, copy, rename, change the matrix, refuse
// deleting a role held by someone (409 with the count), delete it once
// nobody holds it; each change audited with before and after.
func TestRoleLifecycle(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			var r roleJSON
			st := admin.Do("POST", "/api/v1/roles", map[string]any{"name": " 客服 ", "data_scope": "dept",
				"permissions": []string{"customer.view", "followup.create", "customer.view"}}, &r)
			if st != 201 || r.Name != "客服" || r.DataScope != "dept" || len(r.Permissions) != 2 || r.Builtin || r.Code == "" {
				t.Fatalf("create: %d %+v", st, r)
			}
			path := fmt.Sprintf("/api/v1/roles/%d", r.ID)
			var cp roleJSON
			if st := admin.Do("POST", path+"/copy", map[string]any{"name": "客服二组"}, &cp); st != 201 ||
				cp.ID == r.ID || cp.DataScope != "dept" || fmt.Sprint(cp.Permissions) != fmt.Sprint(r.Permissions) {
				t.Fatalf("copy: %d %+v", st, cp)
			}
			if st := admin.Do("PATCH", path, map[string]any{"name": "客服组", "permissions": []string{"customer.view", "customer.export"},
				"data_scope": "all"}, &r); st != 200 || r.Name != "客服组" || r.DataScope != "all" ||
				fmt.Sprint(r.Permissions) != "[customer.export customer.view]" {
				t.Fatalf("update: %d %+v", st, r)
			}
			a := roleAudit(t, admin, r.ID)
			if len(a.Items) != 2 || a.Items[0].Action != "update" || a.Items[1].Action != "create" {
				t.Fatalf("audit: %+v", a.Items)
			}
			if ch := a.Items[0].Changes["name"]; ch["old"] != "客服" || ch["new"] != "客服组" {
				t.Errorf("audited rename: %+v", ch)
			}
			if ch := a.Items[0].Changes["data_scope"]; ch["old"] != "dept" || ch["new"] != "all" {
				t.Errorf("audited scope: %+v", ch)
			}
			if _, ok := a.Items[0].Changes["permissions"]; !ok {
				t.Errorf("permissions change not audited: %+v", a.Items[0].Changes)
			}
			if ca := roleAudit(t, admin, cp.ID); len(ca.Items) != 1 || ca.Items[0].Changes["copied_from"]["new"] != "客服" {
				t.Errorf("copy audit: %+v", ca.Items)
			}
			// sim_s2 takes the role: it cannot be deleted while held.
			s2 := srv.Login(t, "sim_s2")
			s2ID := int64(s2.Me["id"].(float64))
			sales := roleIDs(t, admin)["sales"]
			if st := admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", s2ID), map[string]any{"role_ids": []int64{sales, r.ID}}, nil); st != 200 {
				t.Fatalf("assign role: %d", st)
			}
			var e struct {
				Error struct {
					Message string         `json:"message"`
					Detail  map[string]any `json:"detail"`
				} `json:"error"`
			}
			if st := admin.Do("DELETE", path, nil, &e); st != 409 || !strings.Contains(e.Error.Message, "1 人") ||
				e.Error.Detail["user_count"] != float64(1) {
				t.Errorf("delete in use: %d %+v", st, e)
			}
			if st := admin.Do("GET", path, nil, &r); st != 200 || r.UserCount != 1 {
				t.Errorf("held role: %d %+v", st, r)
			}
			admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", s2ID), map[string]any{"role_ids": []int64{sales}}, nil)
			if st := admin.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st := admin.Do("GET", path, nil, nil); st != 404 {
				t.Errorf("deleted role still readable: %d", st)
			}
			if a := roleAudit(t, admin, r.ID); len(a.Items) != 3 || a.Items[0].Action != "delete" ||
				a.Items[0].Changes["name"]["old"] != "客服组" {
				t.Errorf("delete audit: %+v", a.Items)
			}
			// The name is free again.
			if st := admin.Do("POST", "/api/v1/roles", map[string]any{"name": "客服组", "data_scope": "self"}, nil); st != 201 {
				t.Errorf("re-create a deleted role's name: %d", st)
			}
		})
	}
}

// TestRoleChangeAppliesOnNextRequest: the Actor is rebuilt from the
// database per request, so the salesperson's very next request follows the
// role: without customer.create 403, with it again 201 (same session).
func TestRoleChangeAppliesOnNextRequest(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			path := fmt.Sprintf("/api/v1/roles/%d", roleIDs(t, admin)["sales"])
			var r roleJSON
			admin.Do("GET", path, nil, &r)
			var without []string
			for _, p := range r.Permissions {
				if p != "customer.create" {
					without = append(without, p)
				}
			}
			if len(without) != len(r.Permissions)-1 {
				t.Fatalf("sales role lacks customer.create: %v", r.Permissions)
			}
			if st := admin.Do("PATCH", path, map[string]any{"permissions": without}, nil); st != 200 {
				t.Fatalf("revoke: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "权限测试客户"}, nil); st != 403 {
				t.Errorf("after revoking customer.create: %d, want 403", st)
			}
			if st := admin.Do("PATCH", path, map[string]any{"permissions": r.Permissions}, nil); st != 200 {
				t.Fatalf("grant: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "权限测试客户"}, nil); st != 201 {
				t.Errorf("after granting customer.create again: %d, want 201", st)
			}
		})
	}
}
