package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/orgsync"
)

type syncJSON struct {
	ID      int64            `json:"id"`
	Origin  string           `json:"origin"`
	Status  string           `json:"status"`
	Phase   string           `json:"phase"`
	Done    int              `json:"done"`
	Total   int              `json:"total"`
	Summary *orgsync.Summary `json:"summary"`
	Error   string           `json:"error"`
	ByName  string           `json:"started_by_name"`
}

type treeDeptJSON struct {
	ID       int64           `json:"id"`
	Name     string          `json:"name"`
	People   []treePerson    `json:"people"`
	Children []*treeDeptJSON `json:"children"`
}

type treePerson struct {
	UserID  string `json:"userid"`
	Manager bool   `json:"manager"`
	Roles   []struct {
		Code string `json:"code"`
	} `json:"roles"`
}

// find returns the department named name in the tree.
func find(depts []*treeDeptJSON, name string) *treeDeptJSON {
	for _, d := range depts {
		if d.Name == name {
			return d
		}
		if f := find(d.Children, name); f != nil {
			return f
		}
	}
	return nil
}

func (d *treeDeptJSON) person(userid string) *treePerson {
	for i := range d.People {
		if d.People[i].UserID == userid {
			return &d.People[i]
		}
	}
	return nil
}

// waitSync polls a sync until it is no longer running.
func waitSync(t *testing.T, c *apptest.Client, id int64) syncJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s syncJSON
		if st := c.Do("GET", fmt.Sprintf("/api/v1/org/sync/%d", id), nil, &s); st != 200 {
			t.Fatalf("sync %d: %d", id, st)
		}
		if s.Status != orgsync.StatusRunning {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync %d still running: %+v", id, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(t *testing.T, srv *apptest.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.App.DB.Get(&n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestOrgSyncHTTP: the simulated organization came in through a startup
// sync; an admin's "sync now" runs in the background with progress and a
// summary, shows in the history, and a second one while the lock is held
// answers 409; the tree and the usage are there for user.view; the
// permission and bad-input answers write nothing.
func TestOrgSyncHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, sales, mgr := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_mgr1")
			var hist struct {
				Items []syncJSON `json:"items"`
				Total int        `json:"total"`
			}
			if st := admin.Do("GET", "/api/v1/org/syncs", nil, &hist); st != 200 || hist.Total != 1 ||
				hist.Items[0].Origin != "startup" || hist.Items[0].Summary.PeopleAdded != 12 {
				t.Fatalf("history after start: %d %+v", st, hist)
			}

			var started syncJSON
			resp := admin.Raw("POST", "/api/v1/org/sync", nil, nil)
			resp.Body.Close()
			if resp.StatusCode != 202 || !strings.HasPrefix(resp.Header.Get("Location"), "/api/v1/org/sync/") {
				t.Fatalf("start: %d %v", resp.StatusCode, resp.Header)
			}
			var loc int64
			fmt.Sscanf(resp.Header.Get("Location"), "/api/v1/org/sync/%d", &loc)
			started = waitSync(t, admin, loc)
			if started.Status != "done" || started.Phase != "done" || started.Summary == nil ||
				started.Summary.People != 12 || started.Summary.Changed() || started.Done != started.Total || started.Total != 5 ||
				started.ByName != "陈静" {
				t.Fatalf("finished sync: %+v", started)
			}

			// Another instance (or this one) holds the lock: 409, nothing recorded.
			ctx := context.Background()
			if err := srv.App.KV.Set(ctx, "orgsync:lock", "someone-else", time.Minute); err != nil {
				t.Fatal(err)
			}
			var e errJSON
			if st := admin.Do("POST", "/api/v1/org/sync", map[string]any{"force": true}, &e); st != 409 || e.Error.Code != "conflict" {
				t.Fatalf("sync while locked: %d %+v", st, e)
			}
			srv.App.KV.Del(ctx, "orgsync:lock")

			syncs := count(t, srv, "SELECT COUNT(*) FROM org_syncs")
			for _, tc := range []struct {
				c      *apptest.Client
				method string
				path   string
				body   any
				want   int
			}{
				{sales, "POST", "/api/v1/org/sync", nil, 403},
				{mgr, "POST", "/api/v1/org/sync", nil, 403},
				{sales, "GET", "/api/v1/org/syncs", nil, 403},
				{sales, "GET", "/api/v1/org/tree", nil, 403},
				{sales, "GET", "/api/v1/dingtalk/usage", nil, 403},
				{sales, "GET", fmt.Sprintf("/api/v1/org/sync/%d", loc), nil, 403},
				{admin, "POST", "/api/v1/org/sync", `{"force": "yes"}`, 400},
				{admin, "POST", "/api/v1/org/sync", `{"nope": 1}`, 400},
				{admin, "GET", "/api/v1/org/sync/abc", nil, 404},
				{admin, "GET", "/api/v1/org/sync/999999", nil, 404},
				{admin, "GET", "/api/v1/org/syncs?page_size=1000", nil, 400},
				{srv.Anonymous(t), "GET", "/api/v1/org/tree", nil, 401},
			} {
				if st := tc.c.Do(tc.method, tc.path, tc.body, nil); st != tc.want {
					t.Errorf("%s %s: %d, want %d", tc.method, tc.path, st, tc.want)
				}
			}
			if n := count(t, srv, "SELECT COUNT(*) FROM org_syncs"); n != syncs {
				t.Errorf("refused requests recorded syncs: %d → %d", syncs, n)
			}
			if st := admin.Do("GET", "/api/v1/org/syncs?page_size=1", nil, &hist); st != 200 || hist.Total != 2 ||
				len(hist.Items) != 1 || hist.Items[0].ID != loc {
				t.Fatalf("history: %d %+v", st, hist)
			}

			var tree struct {
				Departments []*treeDeptJSON `json:"departments"`
			}
			if st := mgr.Do("GET", "/api/v1/org/tree", nil, &tree); st != 200 || len(tree.Departments) != 1 {
				t.Fatalf("tree for a manager: %d %+v", st, tree)
			}
			one, two := find(tree.Departments, "销售一部"), find(tree.Departments, "销售二部")
			if one == nil || two == nil || find(one.Children, "华东组") == nil {
				t.Fatalf("tree shape: %+v", tree.Departments[0])
			}
			if p := one.person("sim_mgr1"); p == nil || !p.Manager || len(p.Roles) != 1 || p.Roles[0].Code != "manager" {
				t.Errorf("sim_mgr1 in 销售一部: %+v", p)
			}
			if one.person("sim_s8") == nil || two.person("sim_s8") == nil {
				t.Error("sim_s8 is not in both of their departments")
			}

			var usage struct {
				APIs []struct {
					API   string `json:"api"`
					Calls int    `json:"calls"`
				} `json:"apis"`
				Quota int `json:"quota"`
			}
			if st := admin.Do("GET", "/api/v1/dingtalk/usage", nil, &usage); st != 200 || usage.Quota == 0 {
				t.Fatalf("usage: %d %+v", st, usage)
			}
			listsub := 0
			for _, a := range usage.APIs {
				if a.API == "topapi/v2/department/listsub" {
					listsub = a.Calls
				}
			}
			if listsub != 10 { // two syncs of five departments
				t.Errorf("usage shows %d listsub calls, want 10: %+v", listsub, usage.APIs)
			}
		})
	}
}

// TestAutoRolesHTTP: roles set by hand are marked manual; auto-roles gives
// them back to the DingTalk mapping; only user.manage may; a person added
// by hand has no mapping.
func TestAutoRolesHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, sales := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s2")
			s1 := userIDOf(t, srv, "sim_s1")
			var mgrRole int64
			srv.App.DB.Get(&mgrRole, "SELECT id FROM roles WHERE code = 'manager'")
			if st := admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", s1), map[string]any{"role_ids": []int64{mgrRole}}, nil); st != 200 {
				t.Fatalf("set roles: %d", st)
			}
			if n := count(t, srv, "SELECT roles_manual FROM users WHERE id = ?", s1); n != 1 {
				t.Fatal("a hand-set role is not marked manual")
			}
			if st := sales.Do("POST", fmt.Sprintf("/api/v1/org/users/%d/auto-roles", s1), nil, nil); st != 403 {
				t.Fatalf("a salesperson: %d", st)
			}
			var u struct {
				Roles []struct {
					Code string `json:"code"`
				} `json:"roles"`
			}
			if st := admin.Do("POST", fmt.Sprintf("/api/v1/org/users/%d/auto-roles", s1), nil, &u); st != 200 ||
				len(u.Roles) != 1 || u.Roles[0].Code != "sales" {
				t.Fatalf("auto-roles: %d %+v", st, u)
			}
			if n := count(t, srv, "SELECT roles_manual FROM users WHERE id = ?", s1); n != 0 {
				t.Fatal("auto-roles left the manual mark")
			}
			var created struct {
				ID int64 `json:"id"`
			}
			var salesRole int64
			srv.App.DB.Get(&salesRole, "SELECT id FROM roles WHERE code = 'sales'")
			if st := admin.Do("POST", "/api/v1/users", map[string]any{"name": "手工添加", "mobile": "13911112222",
				"department_ids": []int64{2}, "role_ids": []int64{salesRole}}, &created); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if st := admin.Do("POST", fmt.Sprintf("/api/v1/org/users/%d/auto-roles", created.ID), nil, nil); st != 409 {
				t.Fatalf("auto-roles of a hand-added person: %d", st)
			}
			if st := admin.Do("POST", "/api/v1/org/users/999999/auto-roles", nil, nil); st != 404 {
				t.Fatalf("auto-roles of nobody: %d", st)
			}
		})
	}
}
