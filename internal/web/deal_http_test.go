package web_test

import (
	"fmt"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

type stageJSON struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Probability int    `json:"probability"`
	Kind        string `json:"kind"`
}

type stagesJSON struct {
	Items       []stageJSON `json:"items"`
	LostReasons []struct {
		Value string `json:"value"`
		Label string `json:"label"`
	} `json:"lost_reasons"`
}

type oppJSON struct {
	ID          int64   `json:"id"`
	Title       string  `json:"title"`
	AmountFen   int64   `json:"amount_fen"`
	Amount      string  `json:"amount"`
	StageID     int64   `json:"stage_id"`
	StageName   string  `json:"stage_name"`
	Probability int     `json:"probability"`
	Status      string  `json:"status"`
	LostReason  string  `json:"lost_reason"`
	SaleID      *int64  `json:"sale_id"`
	CloseDate   *string `json:"expected_close_date"`
	Version     int     `json:"version"`
}

type pipelineJSON struct {
	Columns []struct {
		Stage          stageJSON `json:"stage"`
		Count          int       `json:"count"`
		AmountFen      int64     `json:"amount_fen"`
		WeightedAmount string    `json:"weighted_amount"`
		Items          []oppJSON `json:"items"`
	} `json:"columns"`
	Won struct {
		Count     int   `json:"count"`
		AmountFen int64 `json:"amount_fen"`
	} `json:"won"`
	Lost struct {
		Count int `json:"count"`
	} `json:"lost"`
}

func stagesByCode(t *testing.T, c *apptest.Client) map[string]stageJSON {
	t.Helper()
	var s stagesJSON
	if st := c.Do("GET", "/api/v1/opportunity-stages", nil, &s); st != 200 {
		t.Fatalf("stages: %d", st)
	}
	out := map[string]stageJSON{}
	for _, st := range s.Items {
		out[st.Code] = st
	}
	return out
}

// TestOpportunitiesHTTP: stages in the caller's language, the kanban drag
// with its history, winning into a sale once, and the pipeline's scope,
// through the API on every engine.
func TestOpportunitiesHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1, s3, s5, mgr := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_s3"),
				srv.Login(t, "sim_s5"), srv.Login(t, "sim_mgr1")
			var st stagesJSON
			s1.Lang = "en"
			s1.Do("GET", "/api/v1/opportunity-stages", nil, &st)
			if len(st.Items) != 6 || st.Items[0].Name != "Initial contact" || len(st.LostReasons) != 6 || st.LostReasons[0].Label != "Price" {
				t.Fatalf("stages in English: %+v", st)
			}
			s1.Lang = "zh-CN"
			board := stagesByCode(t, s1)
			if board["initial"].Name != "初步接洽" || board["won"].Probability != 100 {
				t.Fatalf("stages in Chinese: %+v", board)
			}

			cust := recCustomer(t, s1, "机会客户")
			var o oppJSON
			body := map[string]any{"customer_id": cust, "title": "年度合同", "amount_fen": 123456, "expected_close_date": "2026-12-31"}
			if code := s1.Do("POST", "/api/v1/opportunities", body, &o); code != 201 || o.StageName != "初步接洽" ||
				o.Probability != 10 || o.Amount != "1234.56" || o.CloseDate == nil || *o.CloseDate != "2026-12-31" {
				t.Fatalf("create: %d %+v", code, o)
			}
			path := fmt.Sprintf("/api/v1/opportunities/%d", o.ID)
			var e errJSON
			if code := s1.Do("POST", path+"/sale", nil, &e); code != 409 {
				t.Fatalf("sale from an open opportunity: %d", code)
			}
			if code := s1.Do("POST", path+"/stage", map[string]any{"stage_id": board["lost"].ID, "version": 1}, &e); code != 400 || e.Error.Fields["lost_reason"] == "" {
				t.Fatalf("lost without a reason: %d %+v", code, e)
			}
			if code := s1.Do("POST", path+"/stage", map[string]any{"stage_id": board["proposal"].ID, "version": 1}, &o); code != 200 || o.Probability != 50 {
				t.Fatalf("drag: %d %+v", code, o)
			}
			if code := s1.Do("POST", path+"/stage", map[string]any{"stage_id": board["won"].ID, "version": 1}, &e); code != 409 {
				t.Fatalf("stale drag: %d", code)
			}
			if code := s5.Do("POST", path+"/stage", map[string]any{"stage_id": board["won"].ID, "version": 2}, nil); code != 404 {
				t.Fatalf("someone else drags: %d", code)
			}
			s1.Lang = "en"
			if code := s1.Do("POST", path+"/stage", map[string]any{"stage_id": board["won"].ID, "version": 2}, &o); code != 200 || o.Status != "won" || o.StageName != "Won" {
				t.Fatalf("won: %d %+v", code, o)
			}
			var hist struct {
				Items []struct {
					FromStageName *string `json:"from_stage_name"`
					ToStageName   string  `json:"to_stage_name"`
				} `json:"items"`
				Total int `json:"total"`
			}
			if code := s1.Do("GET", path+"/history", nil, &hist); code != 200 || hist.Total != 3 || hist.Items[0].ToStageName != "Won" ||
				*hist.Items[0].FromStageName != "Proposal / quote" {
				t.Fatalf("history: %d %+v", code, hist)
			}
			s1.Lang = ""
			var sl saleJSON
			if code := s1.Do("POST", path+"/sale", map[string]any{"sale_date": "2026-11-27"}, &sl); code != 201 || sl.AmountFen != 123456 ||
				sl.CustomerID != cust || sl.OpportunityID == nil || *sl.OpportunityID != o.ID {
				t.Fatalf("sale from won: %d %+v", code, sl)
			}
			if code := s1.Do("POST", path+"/sale", nil, &e); code != 409 || e.Error.Code != "conflict" {
				t.Fatalf("second sale: %d %+v", code, e)
			}
			if code := s1.Do("GET", path, nil, &o); code != 200 || o.SaleID == nil || *o.SaleID != sl.ID {
				t.Fatalf("opportunity names its sale: %d %+v", code, o)
			}

			// The pipeline follows the scope in its counts and sums.
			s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": cust, "title": "一", "amount_fen": 1000}, nil)
			s3.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": recCustomer(t, s3, "华东"), "title": "三", "amount_fen": 2000}, nil)
			s5.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": recCustomer(t, s5, "二部"), "title": "五", "amount_fen": 4000}, nil)
			pipes := []struct {
				who            *apptest.Client
				query          string
				initial, won   int
				initialFen     int64
				initialWeighed string
			}{
				{s1, "", 1, 1, 1000, "1.00"},
				{s5, "", 1, 0, 4000, "4.00"},
				{mgr, "", 2, 1, 3000, "3.00"},
				{mgr, fmt.Sprintf("?owner_id=%d", recUserID(s3)), 1, 0, 2000, "2.00"},
				{admin, "", 3, 1, 7000, "7.00"},
			}
			for _, p := range pipes {
				var pl pipelineJSON
				if code := p.who.Do("GET", "/api/v1/pipeline"+p.query, nil, &pl); code != 200 || len(pl.Columns) != 4 {
					t.Fatalf("pipeline: %d", code)
				}
				c := pl.Columns[0]
				if c.Count != p.initial || c.AmountFen != p.initialFen || c.WeightedAmount != p.initialWeighed || len(c.Items) != p.initial || pl.Won.Count != p.won {
					t.Errorf("%s pipeline%s: %+v won %d", p.who.Me["userid"], p.query, c, pl.Won.Count)
				}
			}
			var more struct {
				Items []oppJSON `json:"items"`
				Total int       `json:"total"`
			}
			if code := mgr.Do("GET", fmt.Sprintf("/api/v1/pipeline/%d?page=1&page_size=1", board["initial"].ID), nil, &more); code != 200 || more.Total != 2 || len(more.Items) != 1 {
				t.Fatalf("more cards: %d %+v", code, more)
			}
			if code := mgr.Do("GET", "/api/v1/pipeline/999999", nil, nil); code != 404 {
				t.Fatalf("unknown column: %d", code)
			}
			if code := s1.Do("GET", "/api/v1/pipeline?per_stage=0", nil, nil); code != 400 {
				t.Fatalf("per_stage=0: %d", code)
			}

			// Stage edits: managers may not; an in-use stage cannot go; sending
			// the board back as shown (in English) keeps it localized.
			admin.Lang = "en"
			var shown stagesJSON
			admin.Do("GET", "/api/v1/opportunity-stages", nil, &shown)
			send := []map[string]any{}
			for _, s := range shown.Items {
				send = append(send, map[string]any{"id": s.ID, "name": s.Name, "probability": s.Probability, "kind": s.Kind})
			}
			if code := mgr.Do("PUT", "/api/v1/opportunity-stages", map[string]any{"stages": send}, nil); code != 403 {
				t.Fatalf("manager edits stages: %d", code)
			}
			if code := admin.Do("PUT", "/api/v1/opportunity-stages", map[string]any{"stages": send[1:]}, &e); code != 409 {
				t.Fatalf("drop the stage in use: %d %+v", code, e)
			}
			if code := admin.Do("PUT", "/api/v1/opportunity-stages", map[string]any{"stages": send}, nil); code != 200 {
				t.Fatalf("save unchanged board: %d", code)
			}
			if b := stagesByCode(t, s1); b["initial"].Name != "初步接洽" || b["proposal"].Name != "方案报价" {
				t.Fatalf("unchanged board lost its translations: %+v", b)
			}
			var tl auditJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline?page_size=100", cust), nil, &tl)
			n := 0
			for _, it := range tl.Items {
				if it.Entity == "opportunity" && it.EntityID == o.ID {
					n++
				}
			}
			if n != 3 { // create, proposal, won
				t.Fatalf("opportunity entries on the timeline: %d", n)
			}
		})
	}
}

// TestOpportunityBadInputHTTP: bad opportunities are 400s naming the field,
// and write nothing.
func TestOpportunityBadInputHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1, mgr := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1"), srv.Login(t, "sim_mgr1")
			gone := recUserID(srv.Login(t, "sim_s2"))
			admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", gone), nil, nil)
			var p productJSON
			admin.Do("POST", "/api/v1/products", map[string]any{"name": "P", "unit_price_fen": 100}, &p)
			mine, mgrs := recCustomer(t, s1, "我的"), recCustomer(t, mgr, "经理的")
			board := stagesByCode(t, s1)
			base := func(extra string) string {
				return fmt.Sprintf(`{"customer_id":%d,"title":"机会"%s}`, mine, extra)
			}
			tests := []struct {
				name  string
				who   *apptest.Client
				body  string
				field string
			}{
				{"unknown customer", s1, `{"customer_id":999999,"title":"x"}`, "customer_id"},
				{"negative amount", s1, base(`,"amount_fen":-1`), "amount_fen"},
				{"quantity 0", s1, base(fmt.Sprintf(`,"lines":[{"product_id":%d,"quantity":0}]`, p.ID)), "lines[0].quantity"},
				{"close date not a date", s1, base(`,"expected_close_date":"2026-02-30"`), "expected_close_date"},
				{"close date a word", s1, base(`,"expected_close_date":"next month"`), "expected_close_date"},
				{"stage not in the list", s1, base(`,"stage_id":999999`), "stage_id"},
				{"lost reason not in the list", s1, base(fmt.Sprintf(`,"stage_id":%d,"lost_reason":"bored"`, board["lost"].ID)), "lost_reason"},
				{"probability over 100", s1, base(`,"probability":101`), "probability"},
				{"deactivated owner", mgr, fmt.Sprintf(`{"customer_id":%d,"title":"x","owner_id":%d}`, mgrs, gone), "owner_id"},
				{"unknown field", s1, base(`,"stage":"won"`), "stage"},
			}
			tables := []string{"opportunities", "opportunity_items", "opportunity_stage_history", "audit_log"}
			before := recCounts(t, srv, tables...)
			for _, tt := range tests {
				var e errJSON
				if code := tt.who.Do("POST", "/api/v1/opportunities", tt.body, &e); code != 400 || e.Error.Fields[tt.field] == "" {
					t.Errorf("%s: %d %+v, want 400 on %s", tt.name, code, e, tt.field)
				}
			}
			if code := admin.Do("PUT", "/api/v1/opportunity-stages", `{"stages":[{"name":"只有一个","kind":"won"}]}`, nil); code != 400 {
				t.Errorf("board of one stage: %d", code)
			}
			if after := recCounts(t, srv, tables...); after != before {
				t.Fatalf("bad input wrote rows: %s → %s", before, after)
			}
			for _, q := range []string{"status=maybe", "close_from=2026-13-01", "stage=abc", "close_from=2026-12-01&close_to=2026-11-01"} {
				if code := s1.Do("GET", "/api/v1/opportunities?"+q, nil, nil); code != 400 {
					t.Errorf("GET /opportunities?%s: %d, want 400", q, code)
				}
			}
		})
	}
}
