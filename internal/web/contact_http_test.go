package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

type contactJSON struct {
	ID           int64    `json:"id"`
	CustomerID   int64    `json:"customer_id"`
	CustomerName string   `json:"customer_name"`
	Name         string   `json:"name"`
	Phones       []string `json:"phones"`
	Birthday     *string  `json:"birthday"`
	IsPrimary    bool     `json:"is_primary"`
	Version      int      `json:"version"`
}

type contactListJSON struct {
	Items []contactJSON `json:"items"`
	Total int           `json:"total"`
}

// newCustomerAs creates a customer through the API and returns its id.
func newCustomerAs(t *testing.T, c *apptest.Client, name string) int64 {
	t.Helper()
	var cu customerJSON
	if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": name}, &cu); st != 201 {
		t.Fatalf("create customer %s: %d", name, st)
	}
	return cu.ID
}

// limitedRole gives a simulated person one role with exactly perms (scope
// self), so tests can call the API without one permission.
func limitedRole(t *testing.T, srv *apptest.Server, userid, perms string) {
	t.Helper()
	db := srv.App.DB
	now := time.Now().UTC()
	code := "t_" + strings.ReplaceAll(userid, "sim_", "")
	if _, err := db.Exec(`INSERT INTO roles (code, name, data_scope, permissions, builtin, created_at, updated_at)
		VALUES (?, ?, 'self', ?, 0, ?, ?)`, code, "测试角色"+code, perms, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE user_roles SET role_id = (SELECT id FROM roles WHERE code = ?)
		WHERE user_id = (SELECT id FROM users WHERE userid = ?)`, code, userid); err != nil {
		t.Fatal(err)
	}
}

// TestContactHTTP walks 联系人 through the API on every engine: add, list,
// read, edit (with a stale version), find the customer by the contact,
// scope, permissions, delete, and the customer's timeline.
func TestContactHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			cid := newCustomerAs(t, s1, "联系人接口客户")
			var first, second contactJSON
			if st := s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": cid, "name": "诸葛青",
				"phones": []string{"138 0013 8000"}, "birthday": "1988-08-08"}, &first); st != 201 ||
				!first.IsPrimary || first.Phones[0] != "13800138000" || *first.Birthday != "1988-08-08" || first.CustomerName != "联系人接口客户" {
				t.Fatalf("create: %d %+v", st, first)
			}
			if st := s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": cid, "name": "上官婉", "is_primary": true}, &second); st != 201 || !second.IsPrimary {
				t.Fatalf("create primary: %d %+v", st, second)
			}
			var list contactListJSON
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/contacts?customer_id=%d", cid), nil, &list); st != 200 || list.Total != 2 ||
				list.Items[0].ID != second.ID || list.Items[1].IsPrimary {
				t.Fatalf("list: %d %+v", st, list)
			}
			path := fmt.Sprintf("/api/v1/contacts/%d", first.ID)
			var got contactJSON
			if st := s1.Do("GET", path, nil, &got); st != 200 || got.IsPrimary || got.Version != 2 {
				t.Fatalf("read the demoted contact: %d %+v", st, got)
			}
			var edited contactJSON
			if st := s1.Do("PATCH", path, map[string]any{"version": got.Version, "name": "诸葛清", "birthday": nil}, &edited); st != 200 ||
				edited.Name != "诸葛清" || edited.Birthday != nil || edited.Version != 3 {
				t.Fatalf("edit: %d %+v", st, edited)
			}
			var e errJSON
			if st := s1.Do("PATCH", path, map[string]any{"version": 2, "name": "旧版本"}, &e); st != 409 || e.Error.Code != "conflict" {
				t.Fatalf("stale edit: %d %+v", st, e)
			}
			if !has(search(t, s1, "诸葛清"), cid) || !has(search(t, s1, "0013 8000"), cid) {
				t.Error("the customer is not found by its contact's name and phone")
			}
			checkContactScope(t, srv, path, first.ID)
			limitedRole(t, srv, "sim_mk1", "customer.view customer.create contact.view")
			mk := srv.Login(t, "sim_mk1")
			own := newCustomerAs(t, mk, "只读的人的客户")
			if st := mk.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": own, "name": "x"}, nil); st != 403 {
				t.Errorf("create without contact.create: %d", st)
			}
			if st := mk.Do("GET", "/api/v1/contacts", nil, nil); st != 200 {
				t.Errorf("list with contact.view: %d", st)
			}
			limitedRole(t, srv, "sim_s7", "customer.view")
			if st := srv.Login(t, "sim_s7").Do("GET", "/api/v1/contacts", nil, nil); st != 403 {
				t.Errorf("list without contact.view: %d", st)
			}
			if st := s1.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st := s1.Do("GET", path, nil, nil); st != 404 {
				t.Fatalf("deleted contact readable: %d", st)
			}
			if has(search(t, s1, "诸葛清"), cid) {
				t.Error("the customer is still found by a deleted contact")
			}
			var tl auditJSON
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline?page_size=100", cid), nil, &tl); st != 200 {
				t.Fatalf("timeline: %d", st)
			}
			var entries []string
			for _, it := range tl.Items {
				if it.Entity == "contact" && it.EntityID == first.ID {
					entries = append(entries, it.Action)
				}
			}
			if strings.Join(entries, ",") != "delete,update,update,create" {
				t.Errorf("the contact's timeline entries: %v", entries)
			}
		})
	}
}

// checkContactScope: sim_s5 (another department) can neither list, read,
// edit nor delete sim_s1's contact; sim_mgr1 (sim_s1's manager) can read
// and list it.
func checkContactScope(t *testing.T, srv *apptest.Server, path string, id int64) {
	t.Helper()
	listed := func(c *apptest.Client) bool {
		var l contactListJSON
		if st := c.Do("GET", "/api/v1/contacts?page_size=100", nil, &l); st != 200 {
			t.Fatalf("list: %d", st)
		}
		for _, it := range l.Items {
			if it.ID == id {
				return true
			}
		}
		return false
	}
	s5 := srv.Login(t, "sim_s5")
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		if st := s5.Do(m, path, map[string]any{"version": 1, "name": "hijack"}, nil); st != 404 {
			t.Errorf("sim_s5 %s %s: %d, want 404", m, path, st)
		}
	}
	if listed(s5) {
		t.Error("sim_s5 lists sim_s1's contact")
	}
	mgr := srv.Login(t, "sim_mgr1")
	if st := mgr.Do("GET", path, nil, nil); st != 200 || !listed(mgr) {
		t.Errorf("sim_mgr1 cannot see his salesperson's contact: %d", st)
	}
}

// TestContactBadInputHTTP: bad bodies get a 400 naming the field, and
// nothing is written.
func TestContactBadInputHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			cid := newCustomerAs(t, s1, "坏输入客户")
			gone := newCustomerAs(t, s1, "回收站客户")
			if st := s1.Do("DELETE", fmt.Sprintf("/api/v1/customers/%d", gone), nil, nil); st != 204 {
				t.Fatal(st)
			}
			tests := []struct {
				name  string
				body  any
				code  string
				field string
			}{
				{"unknown customer", map[string]any{"customer_id": 999999, "name": "x"}, "validation_failed", "customer_id"},
				{"deleted customer", map[string]any{"customer_id": gone, "name": "x"}, "validation_failed", "customer_id"},
				{"no customer", map[string]any{"name": "x"}, "validation_failed", "customer_id"},
				{"bad phone in phones", map[string]any{"customer_id": cid, "name": "x", "phones": []string{"13800001111", "555"}}, "validation_failed", "phones"},
				{"birthday not a date", map[string]any{"customer_id": cid, "name": "x", "birthday": "明年"}, "validation_failed", "birthday"},
				{"birthday wrong type", `{"customer_id": ` + fmt.Sprint(cid) + `, "name": "x", "birthday": 19900517}`, "validation_failed", "birthday"},
				{"missing name", map[string]any{"customer_id": cid}, "validation_failed", "name"},
				{"unknown field", map[string]any{"customer_id": cid, "name": "x", "mobile": "13800001111"}, "validation_failed", "mobile"},
				{"phones not a list", map[string]any{"customer_id": cid, "name": "x", "phones": "13800001111"}, "validation_failed", "phones"},
				{"malformed", `{"customer_id":`, "bad_json", ""},
			}
			n := func() (contacts, audits int) {
				srv.App.DB.Get(&contacts, "SELECT COUNT(*) FROM contacts")
				srv.App.DB.Get(&audits, "SELECT COUNT(*) FROM audit_log")
				return
			}
			c0, a0 := n()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var e errJSON
					if st := s1.Do("POST", "/api/v1/contacts", tt.body, &e); st != 400 || e.Error.Code != tt.code {
						t.Fatalf("got %d %+v, want 400 %s", st, e, tt.code)
					}
					if tt.field != "" && e.Error.Fields[tt.field] == "" {
						t.Fatalf("no message for %s: %+v", tt.field, e.Error.Fields)
					}
				})
			}
			if c1, a1 := n(); c1 != c0 || a1 != a0 {
				t.Fatalf("bad input wrote rows: contacts %d→%d, audit %d→%d", c0, c1, a0, a1)
			}
			s1.Lang = "en"
			var e errJSON
			s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": cid, "name": "x", "birthday": "May 17"}, &e)
			if !strings.Contains(e.Error.Fields["birthday"], "1990-05-17") {
				t.Errorf("English birthday message: %q", e.Error.Fields["birthday"])
			}
		})
	}
}
