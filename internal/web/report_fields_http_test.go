package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview"
)

// reportText is a report's JSON and its xlsx export's XML, to scan for figures.
func reportText(t *testing.T, c *apptest.Client, path string) (reportview.Report, string) {
	t.Helper()
	var r reportview.Report
	if st := c.Do("GET", path, nil, &r); st != 200 {
		t.Fatalf("GET %s: %d", path, st)
	}
	js, _ := json.Marshal(r)
	body, _ := reportFile(t, c, path+"&format=xlsx")
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.Write(js)
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		sb.Write(b)
	}
	return r, sb.String()
}

// amountNeedles are the ways fen shows: 7654321, 76543.21, 76,543.21.
func amountNeedles(fens ...int64) []string {
	var out []string
	for _, f := range fens {
		y := fmt.Sprintf("%d.%02d", f/100, f%100)
		out = append(out, strconv.FormatInt(f, 10), y)
	}
	return out
}

// moneyFigure names the first money metric, series or column of r, "" if none.
func moneyFigure(r reportview.Report) string {
	for _, m := range r.Summary {
		if m.Format == reportview.Money {
			return "metric " + m.Key
		}
	}
	for _, c := range r.Charts {
		for _, s := range c.Series {
			if s.Format == reportview.Money {
				return "series " + c.ID + "/" + s.Name
			}
		}
	}
	for _, tb := range r.Tables {
		for _, c := range tb.Columns {
			if c.Format == reportview.Money {
				return "column " + tb.ID + "/" + c.Key
			}
		}
	}
	return ""
}

func hasCondition(r reportview.Report, key string) bool {
	for _, c := range r.Conditions {
		if c.Key == key {
			return true
		}
	}
	return false
}

// TestReportFieldVisibility: a role whose policy hides or masks sale.amount
// gets sales, performance and RFM reports and their xlsx exports with no
// sales amount anywhere (metrics, series, cells, totals), the counts kept and
// a condition saying amounts are hidden; the funnel follows
// opportunity.amount instead. The admin sees every amount.
func TestReportFieldVisibility(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			var cust struct{ ID int64 }
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "金额字段客户"}, &cust); st != 201 {
				t.Fatalf("customer: %d", st)
			}
			sell(t, s1, cust.ID, "2026-11-10", 7654321)
			sell(t, s1, cust.ID, "2026-11-12", 1234567)
			if st := s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": cust.ID, "title": "金额商机", "amount_fen": 9876543}, nil); st != 201 {
				t.Fatalf("opportunity: %d", st)
			}
			q := fmt.Sprintf("?preset=this_year&customer_id=%d", cust.ID)
			sales := amountNeedles(7654321, 1234567, 8888888, 4444444)
			opp := amountNeedles(9876543)
			ids := roleIDs(t, admin)
			setPolicy(t, admin, ids["sales"], map[string]string{"sale.amount": "hidden"})

			for _, typ := range []string{"sales", "performance", "rfm"} {
				q := q
				if typ == "performance" { // per person, not per customer
					q = "?preset=this_year"
				}
				r, text := reportText(t, s1, "/api/v1/reports/"+typ+q)
				if f := moneyFigure(r); f != "" {
					t.Errorf("%s: money figure %s left", typ, f)
				}
				for _, n := range sales {
					if strings.Contains(text, n) {
						t.Errorf("%s: hidden sales amount %s shown", typ, n)
					}
				}
				if !hasCondition(r, "amounts_hidden") {
					t.Errorf("%s: no amounts_hidden condition: %+v", typ, r.Conditions)
				}
				if typ == "sales" && metric(r, "count") != 2 {
					t.Errorf("sales count %v, want 2", metric(r, "count"))
				}
				r, text = reportText(t, admin, "/api/v1/reports/"+typ+q)
				if f := moneyFigure(r); f == "" {
					t.Errorf("%s: admin sees no money figure", typ)
				}
				if typ == "sales" && (!strings.Contains(text, "8888888") || !strings.Contains(text, "88888.88")) {
					t.Errorf("%s: admin does not see the total", typ)
				}
				if hasCondition(r, "amounts_hidden") {
					t.Errorf("%s: admin told amounts are hidden", typ)
				}
			}
			// The funnel is opportunity amounts: shown while only sale.amount
			// is hidden, gone once opportunity.amount is masked.
			if _, text := reportText(t, s1, "/api/v1/reports/funnel"+q); !strings.Contains(text, "9876543") {
				t.Errorf("funnel: opportunity amount hidden by the sale.amount policy")
			}
			setPolicy(t, admin, ids["sales"], map[string]string{"opportunity.amount": "masked"})
			r, text := reportText(t, s1, "/api/v1/reports/funnel"+q)
			for _, n := range opp {
				if strings.Contains(text, n) {
					t.Errorf("funnel: masked opportunity amount %s shown", n)
				}
			}
			if !hasCondition(r, "amounts_hidden") || metric(r, "open_count") != 1 {
				t.Errorf("funnel: conditions %+v, open_count %v", r.Conditions, metric(r, "open_count"))
			}
			if _, text := reportText(t, s1, "/api/v1/reports/sales"+q); !strings.Contains(text, "8888888") {
				t.Errorf("sales: amounts not back once sale.amount is visible again")
			}
		})
	}
}
