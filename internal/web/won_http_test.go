package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestWinningMakesTheCustomerADeal: winning an opportunity (or recording a
// sale) makes the customer 已成交, restarts the pool's no-deal clock, and
// shows on the customer's timeline.
func TestWinningMakesTheCustomerADeal(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			var c customerJSON
			s1.Do("POST", "/api/v1/customers", map[string]any{"name": "赢单客户", "status": "intent"}, &c)
			var o oppJSON
			if st := s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": c.ID, "title": "大单", "amount_fen": 100000}, &o); st != 201 {
				t.Fatalf("opportunity: %d", st)
			}
			won := stagesByCode(t, s1)["won"]
			if st := s1.Do("POST", fmt.Sprintf("/api/v1/opportunities/%d/stage", o.ID), map[string]any{"stage_id": won.ID, "version": o.Version}, &o); st != 200 || o.Status != "won" {
				t.Fatalf("win: %d %+v", st, o)
			}
			var got customerJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &got)
			if got.Status != "deal" {
				t.Fatalf("customer status after a win: %q", got.Status)
			}
			var wonAt *time.Time
			srv.App.DB.Get(&wonAt, "SELECT last_won_at FROM customers WHERE id = ?", c.ID)
			if wonAt == nil || time.Since(*wonAt) > time.Minute {
				t.Fatalf("last_won_at: %v", wonAt)
			}
			var tl auditJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline", c.ID), nil, &tl)
			found := false
			for _, it := range tl.Items {
				if it.Entity == "customer" && it.Changes["status"]["new"] == "deal" {
					found = true
				}
			}
			if !found {
				t.Fatalf("timeline lacks the status change: %+v", tl.Items)
			}
		})
	}
}

// TestEmptyPipelineShowsZeros: a stage without opportunities reports its
// amounts as "0.00", like every other amount.
func TestEmptyPipelineShowsZeros(t *testing.T) {
	srv := apptest.Start(t)
	var p pipelineJSON
	if st := srv.Login(t, "sim_s2").Do("GET", "/api/v1/pipeline", nil, &p); st != 200 || len(p.Columns) == 0 {
		t.Fatalf("pipeline: %d %+v", st, p)
	}
	for _, col := range p.Columns {
		if col.Count != 0 || col.WeightedAmount != "0.00" {
			t.Errorf("empty column %s: count %d weighted %q", col.Stage.Code, col.Count, col.WeightedAmount)
		}
	}
}
