package web_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview"
)

func todayShanghai() time.Time {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return time.Now().In(loc)
}

// TestRFMSettingsAndSegmentFilter: thresholds are refused when bad and only
// admins change them; the report's segments drill to the customer list's
// rfm_segment filter, which selects exactly those customers.
func TestRFMSettingsAndSegmentFilter(t *testing.T) {
	srv := apptest.Start(t)
	admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
	var bad struct {
		Error struct {
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if st := admin.Do("PUT", "/api/v1/reports/rfm/settings", map[string]any{"window_days": 0, "recency_days": 30, "frequency": 0, "monetary_fen": -1}, &bad); st != 400 ||
		len(bad.Error.Fields) != 4 {
		t.Fatalf("bad thresholds: %d %v", st, bad.Error.Fields)
	}
	good := map[string]any{"window_days": 365, "recency_days": 30, "frequency": 2, "monetary_fen": 10000}
	if st := s1.Do("PUT", "/api/v1/reports/rfm/settings", good, nil); st != 403 {
		t.Fatalf("salesperson changed thresholds: %d", st)
	}
	if st := admin.Do("PUT", "/api/v1/reports/rfm/settings", good, nil); st != 200 {
		t.Fatalf("thresholds: %d", st)
	}
	var got map[string]int
	if st := s1.Do("GET", "/api/v1/reports/rfm/settings", nil, &got); st != 200 || got["recency_days"] != 30 {
		t.Fatalf("read thresholds: %d %v", st, got)
	}
	today := todayShanghai().Format("2006-01-02")
	a, b := recCustomer(t, s1, "RFM甲"), recCustomer(t, s1, "RFM乙")
	sell(t, s1, a, today, 6000)
	sell(t, s1, a, today, 6000)
	sell(t, s1, b, today, 100)
	var r reportview.Report
	if st := s1.Do("GET", "/api/v1/reports/rfm", nil, &r); st != 200 {
		t.Fatalf("rfm: %d", st)
	}
	want := map[int]int64{0: a, 5: b} // important_value, general_develop
	for i, row := range r.Tables[0].Rows {
		n := row.Cells["customers"].(float64)
		id, ok := want[i]
		if ok != (n == 1) || !ok && n != 0 {
			t.Fatalf("segment %d: %v", i, row.Cells)
		}
		if !ok {
			continue
		}
		v := url.Values{}
		for k, x := range row.Drill.Query {
			v.Set(k, x)
		}
		var list struct {
			Items []customerJSON `json:"items"`
			Total int            `json:"total"`
		}
		if st := s1.Do("GET", "/api/v1/customers?"+v.Encode(), nil, &list); st != 200 || list.Total != 1 || list.Items[0].ID != id {
			t.Fatalf("drill %v: %d %+v", v, st, list)
		}
	}
	if st := s1.Do("GET", "/api/v1/customers?rfm_segment=vip", nil, nil); st != 400 {
		t.Fatalf("unknown segment: %d", st)
	}
}

// TestTargetsAndAttainment: managers set targets for their people and
// departments only; attainment and the performance report show them.
func TestTargetsAndAttainment(t *testing.T) {
	srv := apptest.Start(t)
	admin, s1, mgr1, mgr2 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_mgr2")
	now := todayShanghai()
	month := now.Format("2006-01")
	d1, d2 := deptID(t, admin, "销售一部"), deptID(t, admin, "销售二部")
	s1ID := recUserID(s1)
	put := func(c *apptest.Client, kind string, id int64, m string, fen int64) int {
		return c.Do("PUT", "/api/v1/targets", map[string]any{"items": []map[string]any{{"kind": kind, "subject_id": id, "month": m, "amount_fen": fen}}}, nil)
	}
	for _, c := range []struct {
		who    *apptest.Client
		kind   string
		id     int64
		month  string
		status int
	}{
		{s1, "user", s1ID, month, 403},
		{mgr2, "user", s1ID, month, 404},
		{mgr1, "department", d2, month, 404},
		{mgr1, "user", s1ID, "2026-13", 400},
		{mgr1, "user", s1ID, month, 200},
		{mgr1, "department", d1, month, 200},
	} {
		if st := put(c.who, c.kind, c.id, c.month, 100000); st != c.status {
			t.Errorf("%s %d %s: %d, want %d", c.kind, c.id, c.month, st, c.status)
		}
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if st := s1.Do("GET", fmt.Sprintf("/api/v1/targets?year=%d", now.Year()), nil, &list); st != 200 || len(list.Items) != 1 {
		t.Fatalf("salesperson's targets: %d %v", st, list.Items)
	}
	if st := mgr2.Do("GET", fmt.Sprintf("/api/v1/targets?year=%d", now.Year()), nil, &list); st != 200 || len(list.Items) != 0 {
		t.Fatalf("other manager sees: %d %v", st, list.Items)
	}
	sell(t, s1, recCustomer(t, s1, "目标客户"), now.Format("2006-01-02"), 25000)
	var att struct {
		Items []struct {
			Kind      string  `json:"kind"`
			TargetFen int64   `json:"target_fen"`
			ActualFen int64   `json:"actual_fen"`
			Rate      float64 `json:"rate"`
		} `json:"items"`
	}
	if st := s1.Do("GET", "/api/v1/targets/attainment?period=month", nil, &att); st != 200 || len(att.Items) != 1 || att.Items[0].Rate != 0.25 {
		t.Fatalf("salesperson attainment: %d %+v", st, att)
	}
	if st := mgr1.Do("GET", "/api/v1/targets/attainment?period=quarter", nil, &att); st != 200 || len(att.Items) != 2 ||
		att.Items[1].Kind != "department" || att.Items[1].TargetFen != 100000 || att.Items[1].ActualFen != 25000 {
		t.Fatalf("manager attainment: %d %+v", st, att)
	}
	if st := mgr1.Do("GET", "/api/v1/targets/attainment?period=week", nil, nil); st != 400 {
		t.Fatalf("bad period: %d", st)
	}
	var r reportview.Report
	if st := mgr1.Do("GET", "/api/v1/reports/performance?preset=this_month", nil, &r); st != 200 {
		t.Fatalf("performance: %d", st)
	}
	for _, row := range r.Tables[0].Rows {
		if row.Drill.Query["owner_id"] == fmt.Sprint(s1ID) {
			if row.Cells["target"].(float64) != 100000 || row.Cells["attainment"].(float64) != 0.25 {
				t.Fatalf("performance row: %v", row.Cells)
			}
			return
		}
	}
	t.Fatalf("no row for s1: %+v", r.Tables[0].Rows)
}
