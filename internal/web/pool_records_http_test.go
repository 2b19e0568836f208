package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestPoolCustomersTakeNoNewRecords: a customer in the public pool has no
// owner, so nobody — an admin with the company-wide scope included — adds
// contacts, follow-ups, reminders, sales or opportunities to it until
// someone claims it. Each refusal is a 400 naming customer_id and writes
// nothing; after the claim the same requests succeed.
func TestPoolCustomersTakeNoNewRecords(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, admin := srv.Login(t, "sim_s1"), srv.Login(t, "sim_admin")
			var x customerJSON
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "公海附属记录客户"}, &x); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/customers/%d/release", x.ID), map[string]any{"reason": "暂无需求"}, nil); st != 204 {
				t.Fatalf("release: %d", st)
			}
			soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			posts := []struct {
				path, table string
				body        map[string]any
			}{
				{"/api/v1/contacts", "contacts", map[string]any{"customer_id": x.ID, "name": "诸葛青"}},
				{"/api/v1/followups", "followups", map[string]any{"customer_id": x.ID, "followed_at": "2026-11-20T02:00:00Z",
					"method": "phone", "content": "公海里的跟进"}},
				{"/api/v1/reminders", "reminders", map[string]any{"customer_id": x.ID, "remind_at": soon, "content": "回访"}},
				{"/api/v1/sales", "sales", map[string]any{"customer_id": x.ID, "amount_fen": 100, "sale_date": "2026-11-01"}},
				{"/api/v1/opportunities", "opportunities", map[string]any{"customer_id": x.ID, "title": "公海商机", "amount_fen": 1000}},
			}
			rows := func(table string) int {
				var n int
				if err := srv.App.DB.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
					t.Fatal(err)
				}
				return n
			}
			for _, p := range posts {
				before := rows(p.table)
				_, a0 := counts(t, srv)
				var e errJSON
				if st := admin.Do("POST", p.path, p.body, &e); st != 400 || e.Error.Fields["customer_id"] == "" {
					t.Errorf("%s on a pool customer: %d %+v", p.path, st, e)
				}
				if _, a1 := counts(t, srv); rows(p.table) != before || a1 != a0 {
					t.Errorf("%s: a refused request wrote something", p.path)
				}
			}
			if st := admin.Do("POST", fmt.Sprintf("/api/v1/pool/%d/claim", x.ID), nil, nil); st != 200 {
				t.Fatalf("claim: %d", st)
			}
			for _, p := range posts {
				if st := admin.Do("POST", p.path, p.body, nil); st != 201 {
					t.Errorf("%s after the claim: %d", p.path, st)
				}
			}
		})
	}
}
