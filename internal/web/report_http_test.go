package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview"
)

func sell(t *testing.T, c *apptest.Client, customerID int64, date string, fen int64) {
	t.Helper()
	if st := c.Do("POST", "/api/v1/sales", map[string]any{"customer_id": customerID, "sale_date": date, "amount_fen": fen}, nil); st != 201 {
		t.Fatalf("sale: %d", st)
	}
}

func metric(r reportview.Report, key string) float64 {
	for _, m := range r.Summary {
		if m.Key == key {
			return m.Value
		}
	}
	return -1
}

// TestReportScopeAndDrill: every figure is limited to the caller's data
// scope, and each row's drill-down opens a list whose totals are exactly
// that row's figures.
func TestReportScopeAndDrill(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s2, s5 := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s2"), srv.Login(t, "sim_s5")
			mgr1, mgr2, admin := srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_mgr2"), srv.Login(t, "sim_admin")
			sell(t, s1, recCustomer(t, s1, "报表客户甲"), "2026-03-02", 10000)
			sell(t, s1, recCustomer(t, s1, "报表客户乙"), "2026-03-31", 5000)
			sell(t, s2, recCustomer(t, s2, "报表客户丙"), "2026-03-15", 20000)
			sell(t, s5, recCustomer(t, s5, "报表客户丁"), "2026-03-20", 40000)
			q := "/api/v1/reports/sales?from=2026-03-01&to=2026-03-31&group_by=user"
			cases := []struct {
				who    *apptest.Client
				amount float64
				rows   int
			}{{s1, 15000, 1}, {s2, 20000, 1}, {mgr1, 35000, 2}, {mgr2, 40000, 1}, {admin, 75000, 3}}
			for i, c := range cases {
				var r reportview.Report
				if st := c.who.Do("GET", q, nil, &r); st != 200 {
					t.Fatalf("case %d: %d", i, st)
				}
				if got := metric(r, "amount"); got != c.amount {
					t.Errorf("case %d: amount %v, want %v", i, got, c.amount)
				}
				if len(r.Tables) != 1 || len(r.Tables[0].Rows) != c.rows {
					t.Fatalf("case %d: tables %+v", i, r.Tables)
				}
				for _, row := range r.Tables[0].Rows {
					checkDrill(t, c.who, row)
				}
			}
			// Monthly, department with sub-departments, on both the summary and
			// the raw path (a customer condition forces raw).
			d1 := deptID(t, admin, "销售一部")
			var r reportview.Report
			if st := mgr1.Do("GET", fmt.Sprintf("/api/v1/reports/sales?from=2026-01-01&to=2026-06-30&group_by=month&department_id=%d", d1), nil, &r); st != 200 {
				t.Fatalf("monthly: %d", st)
			}
			if rows := r.Tables[0].Rows; len(rows) != 6 || rows[2].Cells["amount"].(float64) != 35000 {
				t.Fatalf("monthly rows: %+v", rows)
			}
			checkDrill(t, mgr1, r.Tables[0].Rows[2])
			if st := mgr2.Do("GET", fmt.Sprintf("/api/v1/reports/sales?department_id=%d", d1), nil, nil); st != 404 {
				t.Fatalf("department out of scope: %d, want 404", st)
			}
			if st := s1.Do("GET", fmt.Sprintf("/api/v1/reports/performance?user_id=%d", recUserID(s2)), nil, nil); st != 404 {
				t.Fatalf("person out of scope: %d, want 404", st)
			}
		})
	}
}

// checkDrill opens a row's drill-down list and compares its totals.
func checkDrill(t *testing.T, c *apptest.Client, row reportview.Row) {
	t.Helper()
	if row.Drill == nil || row.Drill.Page != "sales" {
		t.Fatalf("row without a sales drill: %+v", row)
	}
	v := url.Values{}
	for k, x := range row.Drill.Query {
		v.Set(k, x)
	}
	var list saleListJSON
	if st := c.Do("GET", "/api/v1/sales?"+v.Encode(), nil, &list); st != 200 {
		t.Fatalf("drill %v: %d", v, st)
	}
	if float64(list.Totals.AmountFen) != row.Cells["amount"].(float64) || float64(list.Totals.Count) != row.Cells["count"].(float64) {
		t.Fatalf("drill %v: list %d/%d, row %v", v, list.Totals.Count, list.Totals.AmountFen, row.Cells)
	}
}

// TestReportBadInput: nonsense conditions are refused with a localized
// message and nothing is computed.
func TestReportBadInput(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	cases := []struct {
		path, field, en string
		status          int
	}{
		{"/api/v1/reports/sales?from=2026-03-01&to=2026-02-01", "to", "before the start", 400},
		{"/api/v1/reports/sales?from=2010-01-01&to=2026-02-01", "to", "10 years", 400},
		{"/api/v1/reports/sales?group_by=color", "group_by", "Unknown grouping", 400},
		{"/api/v1/reports/performance?group_by=product", "group_by", "Unknown grouping", 400},
		{"/api/v1/reports/weather", "type", "No such report", 400},
		{"/api/v1/reports/sales?preset=someday", "preset", "Unknown preset", 400},
		{"/api/v1/reports/sales?from=2026-13-01", "from", "2026-11-27", 400},
		{"/api/v1/reports/sales?format=doc", "format", "json, xlsx or pdf", 400},
		{"/api/v1/reports/sales?department_id=999999", "", "department", 404},
		{"/api/v1/reports/sales?customer_id=999999", "", "customer", 404},
	}
	for _, c := range cases {
		var body struct {
			Error struct {
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			} `json:"error"`
		}
		resp := admin.Raw("GET", c.path, nil, map[string]string{"Accept-Language": "en"})
		st := resp.StatusCode
		decodeBody(t, resp, &body)
		if st != c.status {
			t.Errorf("%s: %d, want %d", c.path, st, c.status)
			continue
		}
		msg := body.Error.Message
		if c.field != "" {
			msg = body.Error.Fields[c.field]
		}
		if !strings.Contains(msg, c.en) {
			t.Errorf("%s: message %q (fields %v), want it to mention %q", c.path, msg, body.Error.Fields, c.en)
		}
	}
	var zh struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if st := admin.Do("GET", "/api/v1/reports/sales?from=2026-03-01&to=2026-02-01", nil, &zh); st != 400 || !strings.Contains(zh.Error.Fields["to"], "结束日期") {
		t.Fatalf("zh message: %d %v", st, zh.Error.Fields)
	}
	if st := admin.Do("GET", "/api/v1/reports/sales?format=doc", nil, nil); st != 400 {
		t.Fatalf("an unknown export format: %d, want 400", st)
	}
}

func decodeBody(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode: %v", err)
	}
}
