package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

type followupJSON struct {
	ID           int64   `json:"id"`
	CustomerID   int64   `json:"customer_id"`
	OwnerName    string  `json:"owner_name"`
	Method       string  `json:"method"`
	Content      string  `json:"content"`
	FollowedAt   string  `json:"followed_at"`
	NextFollowAt *string `json:"next_follow_at"`
	Version      int     `json:"version"`
}

type followupListJSON struct {
	Items []followupJSON `json:"items"`
	Total int            `json:"total"`
}

type followTimesJSON struct {
	LastFollowAt *time.Time `json:"last_follow_at"`
	NextFollowAt *time.Time `json:"next_follow_at"`
	Version      int        `json:"version"`
}

// TestFollowupHTTP walks 跟进记录 through the API on every engine: log,
// list, read, edit, the customer's last and next follow-up times after
// each write, the timeline showing the follow-up's content, scope,
// permissions and delete.
func TestFollowupHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			cid := newCustomerAs(t, s1, "跟进接口客户")
			now := time.Now().UTC().Truncate(time.Second)
			rfc := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
			times := func(step string, last, next string) {
				t.Helper()
				var c followTimesJSON
				if st := s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", cid), nil, &c); st != 200 {
					t.Fatalf("%s: customer %d", step, st)
				}
				if fmtTime(c.LastFollowAt) != last || fmtTime(c.NextFollowAt) != next {
					t.Errorf("%s: last %s next %s, want %s and %s", step, fmtTime(c.LastFollowAt), fmtTime(c.NextFollowAt), last, next)
				}
			}
			var older, newer followupJSON
			if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": cid, "followed_at": rfc(-48 * time.Hour),
				"method": "visit", "content": "上门拜访，介绍了产品", "next_follow_at": rfc(72 * time.Hour)}, &older); st != 201 || older.OwnerName != "王芳" {
				t.Fatalf("log: %d %+v", st, older)
			}
			times("after the first", rfc(-48*time.Hour), rfc(72*time.Hour))
			if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": cid, "followed_at": rfc(-time.Hour),
				"method": "phone", "content": "电话确认报价", "result": "同意", "next_step": "发合同", "next_follow_at": rfc(24 * time.Hour)}, &newer); st != 201 {
				t.Fatalf("log: %d", st)
			}
			times("after the second", rfc(-time.Hour), rfc(24*time.Hour))
			path := fmt.Sprintf("/api/v1/followups/%d", newer.ID)
			var edited followupJSON
			if st := s1.Do("PATCH", path, map[string]any{"version": 1, "next_follow_at": rfc(96 * time.Hour)}, &edited); st != 200 || edited.Version != 2 {
				t.Fatalf("edit: %d %+v", st, edited)
			}
			times("after the edit", rfc(-time.Hour), rfc(96*time.Hour))
			var e errJSON
			if st := s1.Do("PATCH", path, map[string]any{"version": 1, "content": "旧版本"}, &e); st != 409 {
				t.Fatalf("stale edit: %d %+v", st, e)
			}
			var tl auditJSON
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline", cid), nil, &tl); st != 200 {
				t.Fatalf("timeline: %d", st)
			}
			if !timelineShows(tl, newer.ID, "电话确认报价", "发合同") {
				t.Errorf("the timeline does not show the follow-up's content: %+v", tl.Items)
			}
			var list followupListJSON
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/followups?customer_id=%d&method=phone", cid), nil, &list); st != 200 || list.Total != 1 || list.Items[0].ID != newer.ID {
				t.Fatalf("list by method: %d %+v", st, list)
			}
			checkFollowupScope(t, srv, path, newer.ID)
			limitedRole(t, srv, "sim_mk1", "customer.view customer.create followup.view")
			mk := srv.Login(t, "sim_mk1")
			own := newCustomerAs(t, mk, "只读的人的客户")
			if st := mk.Do("POST", "/api/v1/followups", map[string]any{"customer_id": own, "followed_at": rfc(0), "method": "phone", "content": "x"}, nil); st != 403 {
				t.Errorf("log without followup.create: %d", st)
			}
			if st := s1.Do("DELETE", path, nil, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st := s1.Do("GET", path, nil, nil); st != 404 {
				t.Fatalf("deleted follow-up readable: %d", st)
			}
			times("after deleting the latest", rfc(-48*time.Hour), rfc(72*time.Hour))
		})
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// timelineShows reports whether the timeline has the follow-up's creation
// with its content and next step.
func timelineShows(tl auditJSON, id int64, content, nextStep string) bool {
	for _, it := range tl.Items {
		if it.Entity == "followup" && it.EntityID == id && it.Action == "create" &&
			it.Changes["content"]["new"] == content && it.Changes["next_step"]["new"] == nextStep && it.Changes["method"]["new"] == "phone" {
			return true
		}
	}
	return false
}

// checkFollowupScope: sim_s5 can neither list, read, edit nor delete
// sim_s1's follow-up; sim_mgr1 can read and list it.
func checkFollowupScope(t *testing.T, srv *apptest.Server, path string, id int64) {
	t.Helper()
	listed := func(c *apptest.Client) bool {
		var l followupListJSON
		if st := c.Do("GET", "/api/v1/followups?page_size=100", nil, &l); st != 200 {
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
		if st := s5.Do(m, path, map[string]any{"version": 2, "content": "hijack"}, nil); st != 404 {
			t.Errorf("sim_s5 %s %s: %d, want 404", m, path, st)
		}
	}
	if listed(s5) {
		t.Error("sim_s5 lists sim_s1's follow-up")
	}
	mgr := srv.Login(t, "sim_mgr1")
	if st := mgr.Do("GET", path, nil, nil); st != 200 || !listed(mgr) {
		t.Errorf("sim_mgr1 cannot see his salesperson's follow-up: %d", st)
	}
}

// TestFollowupBadInputHTTP: bad bodies get a 400 naming the field, and
// nothing is written (not even to the customer).
func TestFollowupBadInputHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			cid := newCustomerAs(t, s1, "坏输入客户")
			gone := newCustomerAs(t, s1, "回收站客户")
			if st := s1.Do("DELETE", fmt.Sprintf("/api/v1/customers/%d", gone), nil, nil); st != 204 {
				t.Fatal(st)
			}
			other := newCustomerAs(t, s1, "别的客户")
			var otherOpp struct {
				ID int64 `json:"id"`
			}
			if st := s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": other, "title": "别人的机会"}, &otherOpp); st != 201 {
				t.Fatalf("opportunity: %d", st)
			}
			at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
			body := func(kv ...any) map[string]any {
				b := map[string]any{"customer_id": cid, "followed_at": at, "method": "phone", "content": "正常"}
				for i := 0; i+1 < len(kv); i += 2 {
					b[kv[i].(string)] = kv[i+1]
				}
				return b
			}
			tests := []struct {
				name  string
				body  any
				field string
			}{
				{"unknown customer", body("customer_id", 999999), "customer_id"},
				{"deleted customer", body("customer_id", gone), "customer_id"},
				{"unknown method", body("method", "飞鸽传书"), "method"},
				{"next before followed", body("next_follow_at", time.Now().UTC().Add(-2*time.Hour).Format(time.RFC3339)), "next_follow_at"},
				{"content too long", body("content", strings.Repeat("长", 2001)), "content"},
				{"followed far ahead", body("followed_at", time.Now().UTC().Add(72*time.Hour).Format(time.RFC3339)), "followed_at"},
				{"followed not a time", body("followed_at", "昨天"), "followed_at"},
				{"unknown field", body("customer", cid), "customer"},
				{"opportunity not positive", body("opportunity_id", 0), "opportunity_id"},
				{"opportunity wrong type", body("opportunity_id", "x"), "opportunity_id"},
				{"opportunity unknown", body("opportunity_id", 999999), "opportunity_id"},
				{"another customer's opportunity", body("opportunity_id", otherOpp.ID), "opportunity_id"},
			}
			n := func() (followups, audits, version int) {
				db := srv.App.DB
				db.Get(&followups, "SELECT COUNT(*) FROM followups")
				db.Get(&audits, "SELECT COUNT(*) FROM audit_log")
				db.Get(&version, "SELECT version FROM customers WHERE id = ?", cid)
				return
			}
			f0, a0, v0 := n()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var e errJSON
					if st := s1.Do("POST", "/api/v1/followups", tt.body, &e); st != 400 || e.Error.Fields[tt.field] == "" {
						t.Fatalf("got %d %+v, want 400 on %s", st, e, tt.field)
					}
				})
			}
			if f1, a1, v1 := n(); f1 != f0 || a1 != a0 || v1 != v0 {
				t.Fatalf("bad input wrote: followups %d→%d, audit %d→%d, customer version %d→%d", f0, f1, a0, a1, v0, v1)
			}
			var e errJSON
			if st := s1.Do("GET", "/api/v1/followups?from=2026-05-01&to=2026-04-01&method=x", nil, &e); st != 400 ||
				e.Error.Fields["to"] == "" || e.Error.Fields["method"] == "" {
				t.Errorf("bad list parameters: %d %+v", st, e)
			}
		})
	}
}

// TestFollowupMethodsHTTP: the method choices come with labels in the
// caller's language.
func TestFollowupMethodsHTTP(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(t, "sim_s1")
	var out struct {
		Items []struct{ Value, Label string } `json:"items"`
	}
	for lang, want := range map[string]string{"zh-CN": "拜访", "en": "Visit"} {
		c.Lang = lang
		if st := c.Do("GET", "/api/v1/followups/methods", nil, &out); st != 200 || len(out.Items) != 5 || out.Items[1].Value != "visit" || out.Items[1].Label != want {
			t.Errorf("%s: %d %+v", lang, st, out)
		}
	}
}
