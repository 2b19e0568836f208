package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview"
)

// TestFollowupDrill: the performance report's follow-up count drills down
// to the follow-up list, whose total is exactly that count — for a manager
// narrowed to a department (with its sub-departments) and for the admin —
// and the list's department filters keep other departments' records out.
func TestFollowupDrill(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s2, s5 := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2"), srv.Login(t, "sim_s5")
			mgr1, admin := srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_admin")
			follow := func(c *apptest.Client, name string, days ...int) {
				id := recCustomer(t, c, name)
				for _, d := range days {
					if st := c.Do("POST", "/api/v1/followups", map[string]any{"customer_id": id,
						"followed_at": fmt.Sprintf("2026-03-%02dT02:00:00Z", d), "method": "phone", "content": "回访"}, nil); st != 201 {
						t.Fatalf("follow-up: %d", st)
					}
				}
			}
			follow(s1, "跟进下钻甲", 2, 3, 31)
			follow(s2, "跟进下钻乙", 15)
			follow(s5, "跟进下钻丙", 10, 11)
			follow(s1, "跟进下钻丁") // no follow-up: must not count
			d1 := deptID(t, admin, "销售一部")
			cases := []struct {
				name  string
				who   *apptest.Client
				query string
				want  float64
			}{
				{"manager, own department", mgr1, fmt.Sprintf("&department_id=%d", d1), 4},
				{"admin, everyone", admin, "", 6},
				{"admin, one person", admin, fmt.Sprintf("&user_id=%d", recUserID(s5)), 2},
			}
			for _, c := range cases {
				var r reportview.Report
				if st := c.who.Do("GET", "/api/v1/reports/performance?from=2026-03-01&to=2026-03-31"+c.query, nil, &r); st != 200 {
					t.Fatalf("%s: report %d", c.name, st)
				}
				var m *reportview.Metric
				for i := range r.Summary {
					if r.Summary[i].Key == "followups" {
						m = &r.Summary[i]
					}
				}
				if m == nil || m.Value != c.want || m.Drill == nil || m.Drill.Page != "followups" {
					t.Fatalf("%s: follow-up metric %+v, want %v with a drill to followups", c.name, m, c.want)
				}
				v := url.Values{}
				for k, x := range m.Drill.Query {
					v.Set(k, x)
				}
				var list struct {
					Items []struct {
						DepartmentID int64 `json:"department_id"`
					} `json:"items"`
					Total int `json:"total"`
				}
				if st := c.who.Do("GET", "/api/v1/followups?"+v.Encode(), nil, &list); st != 200 {
					t.Fatalf("%s: drill %v: %d", c.name, v, st)
				}
				if float64(list.Total) != c.want || len(list.Items) != int(c.want) {
					t.Fatalf("%s: drill %v lists %d (%d items), the report says %v", c.name, v, list.Total, len(list.Items), c.want)
				}
			}
			// The admin's list narrowed to 销售一部 leaves out s5's follow-ups.
			var list struct{ Total int }
			if st := admin.Do("GET", fmt.Sprintf("/api/v1/followups?department_ids=%d", d1), nil, &list); st != 200 || list.Total != 4 {
				t.Fatalf("department_ids filter: %d, total %d, want 4", st, list.Total)
			}
			if st := admin.Do("GET", "/api/v1/followups?department_ids=1,x", nil, nil); st != 400 {
				t.Fatalf("bad department_ids: %d, want 400", st)
			}
		})
	}
}
