package deal_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestOpportunityLifecycle: create (first stage, its probability), edit
// with a version, lose a race, delete and restore; audited with the
// customer.
func TestOpportunityLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		s1, admin := f.As(t, "sim_s1"), f.As(t, "sim_admin")
		cust := f.Customer(t, "sim_s1", "杭州瑞丰")
		p := f.Product(t, "专业版", 3333)

		o, err := f.deals.Create(ctx, s1, deal.Input{CustomerID: &cust, Title: ptr("年度采购"), Lines: lines([2]int64{p, 3}),
			ExpectedCloseDate: deal.OptString{Set: true, Value: ptr("2026-12-31")}})
		if err != nil {
			t.Fatal(err)
		}
		if o.StageCode != "initial" || o.Probability != 10 || o.Status != deal.StatusOpen || o.AmountFen != 9999 ||
			o.Amount != "99.99" || *o.ExpectedCloseDate != "2026-12-31" || o.OwnerID != s1.UserID || o.CustomerName != "杭州瑞丰" {
			t.Fatalf("created: %+v", o)
		}
		up, err := f.deals.Update(ctx, s1, o.ID, deal.Input{Version: ptr(1), Title: ptr("年度采购（二期）"), Probability: ptr(15),
			ExpectedCloseDate: deal.OptString{Set: true}})
		if err != nil || up.Title != "年度采购（二期）" || up.Probability != 15 || up.ExpectedCloseDate != nil || up.Version != 2 || up.AmountFen != 9999 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := f.deals.Update(ctx, s1, o.ID, deal.Input{Version: ptr(1), Notes: ptr("x")}); !errors.Is(err, deal.ErrStale) {
			t.Fatalf("stale edit: %v", err)
		}
		if err := f.deals.Delete(ctx, s1, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.deals.Get(ctx, s1, o.ID); !errors.Is(err, deal.ErrNotFound) {
			t.Fatalf("deleted opportunity readable: %v", err)
		}
		if _, err := f.deals.Restore(ctx, s1, o.ID); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("salesperson restored: %v", err)
		}
		if bin, n, err := f.deals.ListDeleted(ctx, admin, deal.Filter{}); err != nil || n != 1 || bin[0].ID != o.ID {
			t.Fatalf("recycle bin: %v %d", err, n)
		}
		if _, err := f.deals.Restore(ctx, admin, o.ID); err != nil {
			t.Fatal(err)
		}
		entries := f.Audit(t, "opportunity", o.ID)
		want := []string{audit.ActCreate, audit.ActUpdate, audit.ActDelete, audit.ActRestore}
		if len(entries) != len(want) {
			t.Fatalf("audit: %+v", entries)
		}
		for i, e := range entries {
			if e.Action != want[i] || e.CustomerID != cust {
				t.Errorf("audit %d: %+v", i, e)
			}
		}
		for _, tt := range []struct {
			f    deal.Filter
			want int
		}{
			{deal.Filter{Q: "二期"}, 1}, {deal.Filter{Q: "瑞丰"}, 1}, {deal.Filter{Q: "%"}, 0},
			{deal.Filter{Status: "open"}, 1}, {deal.Filter{Status: "won"}, 0}, {deal.Filter{StageID: *f.stage("initial")}, 1},
			{deal.Filter{CustomerID: cust}, 1},
		} {
			if _, n, err := f.deals.List(ctx, s1, tt.f); err != nil || n != tt.want {
				t.Errorf("list %+v: %d %v, want %d", tt.f, n, err, tt.want)
			}
		}
	})
}

// TestStageChanges: the kanban drag sets probability and status from the
// stage, lost needs a reason, and every change is in the stage history and
// the customer's timeline.
func TestStageChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		s1 := f.As(t, "sim_s1")
		o := f.opp(t, "sim_s1", "拖拽", 10000, "initial")
		move := func(stage string, version int, reason *string) (*deal.Opportunity, error) {
			return f.deals.Move(ctx, s1, o.ID, deal.MoveInput{StageID: f.stage(stage), Version: &version, LostReason: reason})
		}
		m, err := move("proposal", 1, nil)
		if err != nil || m.StageCode != "proposal" || m.Probability != 50 || m.Status != deal.StatusOpen || m.Version != 2 {
			t.Fatalf("to proposal: %+v %v", m, err)
		}
		if _, err := move("lost", 2, nil); fields(err)["lost_reason"].Key != "deal.lost_reason_required" {
			t.Fatalf("lost without a reason: %v", err)
		}
		if _, err := move("lost", 2, ptr("bored")); fields(err)["lost_reason"].Key == "" {
			t.Fatalf("lost with a made-up reason: %v", err)
		}
		if _, err := move("proposal", 1, nil); !errors.Is(err, deal.ErrStale) {
			t.Fatalf("stale drag: %v", err)
		}
		m, err = move("lost", 2, ptr("competitor"))
		if err != nil || m.Status != deal.StatusLost || m.LostReason != "competitor" || m.Probability != 0 || m.ClosedAt == nil {
			t.Fatalf("to lost: %+v %v", m, err)
		}
		m, err = move("won", 3, nil)
		if err != nil || m.Status != deal.StatusWon || m.LostReason != "" || m.Probability != 100 || m.ClosedAt == nil {
			t.Fatalf("to won: %+v %v", m, err)
		}
		// A PATCH that changes the stage is a stage change too.
		m, err = f.deals.Update(ctx, s1, o.ID, deal.Input{Version: ptr(4), StageID: f.stage("needs"), Probability: ptr(35)})
		if err != nil || m.Status != deal.StatusOpen || m.ClosedAt != nil || m.Probability != 35 {
			t.Fatalf("reopen: %+v %v", m, err)
		}
		// Same stage again: nothing changes, nothing recorded.
		if m, err = move("needs", 5, nil); err != nil || m.Version != 5 {
			t.Fatalf("no-op drag: %+v %v", m, err)
		}
		hist, total, err := f.deals.History(ctx, s1, o.ID, 1, 20)
		if err != nil || total != 5 {
			t.Fatalf("history: %d %v", total, err)
		}
		path := []string{}
		for i := len(hist) - 1; i >= 0; i-- {
			from := "-"
			if hist[i].FromStageCode != nil {
				from = *hist[i].FromStageCode
			}
			path = append(path, from+">"+hist[i].ToStageCode)
			if hist[i].ChangedBy != s1.UserID || hist[i].ChangedByName == "" {
				t.Errorf("history by %d %q", hist[i].ChangedBy, hist[i].ChangedByName)
			}
		}
		if got := strings.Join(path, " "); got != "->initial initial>proposal proposal>lost lost>won won>needs" {
			t.Errorf("history %s", got)
		}
		entries := f.Audit(t, "opportunity", o.ID)
		if len(entries) != 5 {
			t.Fatalf("audit entries: %d, want 5", len(entries))
		}
		if e := entries[1]; e.CustomerID != o.CustomerID || !strings.Contains(e.Changes, `"stage":{"old":"初步接洽","new":"方案报价"}`) {
			t.Errorf("stage change audit: %+v", e)
		}
		if _, _, err := f.deals.History(ctx, f.As(t, "sim_s5"), o.ID, 1, 20); !errors.Is(err, deal.ErrNotFound) {
			t.Errorf("someone else read the history: %v", err)
		}
		if _, err := f.deals.Move(ctx, saletest.Without(s1, deal.PermEdit), o.ID, deal.MoveInput{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("drag without opportunity.edit: %v", err)
		}
	})
}

// TestWonBecomesSale: only a won opportunity becomes a sale, once, with its
// customer, owner, amount and lines.
func TestWonBecomesSale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		s1, mgr := f.As(t, "sim_s1"), f.As(t, "sim_mgr1")
		cust := f.Customer(t, "sim_s1", "成交客户")
		p := f.Product(t, "标准版", 3333)
		o, err := f.deals.Create(ctx, s1, deal.Input{CustomerID: &cust, Title: ptr("赢单"), Lines: lines([2]int64{p, 3})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.deals.CreateSale(ctx, s1, o.ID, deal.SaleInput{}); !errors.Is(err, deal.ErrNotWon) {
			t.Fatalf("sale from an open opportunity: %v", err)
		}
		if _, err := f.deals.Move(ctx, s1, o.ID, deal.MoveInput{StageID: f.stage("won"), Version: ptr(1)}); err != nil {
			t.Fatal(err)
		}
		// The product was withdrawn meanwhile: the won lines still carry over.
		db.Exec("UPDATE products SET active = 0 WHERE id = ?", p)
		before := f.Counts(t, "sales", "sale_items")
		sl, err := f.deals.CreateSale(ctx, mgr, o.ID, deal.SaleInput{SaleDate: ptr("2026-11-27")})
		if err != nil {
			t.Fatal(err)
		}
		if sl.CustomerID != cust || sl.OwnerID != s1.UserID || sl.AmountFen != 9999 || len(sl.Lines) != 1 ||
			sl.OpportunityID == nil || *sl.OpportunityID != o.ID || sl.SaleDate != "2026-11-27" || sl.CreatedBy != mgr.UserID {
			t.Fatalf("sale: %+v", sl)
		}
		for _, who := range []string{"sim_s1", "sim_mgr1"} {
			if _, err := f.deals.CreateSale(ctx, f.As(t, who), o.ID, deal.SaleInput{}); !errors.Is(err, deal.ErrHasSale) {
				t.Fatalf("second sale by %s: %v", who, err)
			}
		}
		after := f.Counts(t, "sales", "sale_items")
		if after["sales"] != before["sales"]+1 || after["sale_items"] != before["sale_items"]+1 {
			t.Fatalf("rows: %v → %v", before, after)
		}
		got, _ := f.deals.Get(ctx, s1, o.ID)
		if got.SaleID == nil || *got.SaleID != sl.ID {
			t.Fatalf("opportunity does not name its sale: %+v", got.SaleID)
		}
		// A hand-made sale cannot claim the same opportunity either.
		_, err = f.sales.Create(ctx, s1, sale.Input{CustomerID: &cust, AmountFen: ptr(int64(1)),
			OpportunityID: sale.OptID{Set: true, Value: &o.ID}})
		if fields(err)["opportunity_id"].Key != "sale.opportunity_has_sale" {
			t.Fatalf("second sale by hand: %v", err)
		}
		if e := f.Audit(t, "sale", sl.ID); len(e) != 1 || e[0].CustomerID != cust {
			t.Fatalf("sale audit: %+v", e)
		}
		// Someone who cannot see the opportunity gets not found.
		if _, err := f.deals.CreateSale(ctx, f.As(t, "sim_s5"), o.ID, deal.SaleInput{}); !errors.Is(err, deal.ErrNotFound) {
			t.Fatalf("out of scope: %v", err)
		}
		if _, err := f.deals.CreateSale(ctx, saletest.Without(s1, sale.PermCreate), o.ID, deal.SaleInput{}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("without sale.create: %v", err)
		}
	})
}

// TestPipeline: counts and sums per stage over the whole scope, weighted by
// each opportunity's probability; a column carries only its first cards
// and the rest page in; scope holds for counts and sums too.
func TestPipeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		for i, fen := range []int64{1000, 2000, 3001} {
			f.opp(t, "sim_s1", "s1-"+string(rune('a'+i)), fen, "initial")
		}
		f.opp(t, "sim_s1", "s1-p", 5000, "proposal")
		f.opp(t, "sim_s1", "s1-won", 7000, "won")
		f.opp(t, "sim_s3", "s3-p", 1000, "proposal")
		f.opp(t, "sim_s3", "s3-lost", 900, "lost")
		f.opp(t, "sim_s5", "s5-p", 99999, "proposal")
		f.opp(t, "sim_s5", "s5-n", 100, "negotiation")

		type want struct {
			initial, proposal, negotiation int
			initialFen, proposalFen        int64
			proposalWeighted               int64
			won, lost                      int
		}
		tests := []struct {
			who string
			flt deal.PipelineFilter
			w   want
		}{
			// 1000+2000+3001 at 10% = 600.1 → 600; 5000 at 50% = 2500.
			{"sim_s1", deal.PipelineFilter{}, want{3, 1, 0, 6001, 5000, 2500, 1, 0}},
			{"sim_s5", deal.PipelineFilter{}, want{0, 1, 1, 0, 99999, 50000, 0, 0}},
			{"sim_mgr1", deal.PipelineFilter{}, want{3, 2, 0, 6001, 6000, 3000, 1, 1}},
			{"sim_mgr1", deal.PipelineFilter{OwnerID: f.ID("sim_s3")}, want{0, 1, 0, 0, 1000, 500, 0, 1}},
			{"sim_mgr1", deal.PipelineFilter{OwnerID: f.ID("sim_s5")}, want{}},
			{"sim_admin", deal.PipelineFilter{DepartmentID: f.As(t, "sim_s5").PrimaryDeptID}, want{0, 1, 1, 0, 99999, 50000, 0, 0}},
		}
		for _, tt := range tests {
			pl, err := f.deals.Pipeline(ctx, f.As(t, tt.who), tt.flt)
			if err != nil {
				t.Fatal(err)
			}
			cols := map[string]deal.Column{}
			for _, c := range pl.Columns {
				cols[c.Stage.Code] = c
				if len(c.Items) != c.Count {
					t.Errorf("%s %s: %d cards for %d", tt.who, c.Stage.Code, len(c.Items), c.Count)
				}
			}
			got := want{cols["initial"].Count, cols["proposal"].Count, cols["negotiation"].Count, cols["initial"].AmountFen,
				cols["proposal"].AmountFen, cols["proposal"].WeightedAmountFen, pl.Won.Count, pl.Lost.Count}
			if got != tt.w {
				t.Errorf("%s %+v: %+v, want %+v", tt.who, tt.flt, got, tt.w)
			}
			if len(pl.Columns) != 4 || pl.Won.Stage.Code != "won" || pl.Lost.Stage.Code != "lost" {
				t.Errorf("board shape: %d columns", len(pl.Columns))
			}
			if w := cols["initial"].WeightedAmountFen; tt.w.initial == 3 && w != 600 {
				t.Errorf("weighted initial %d, want 600", w)
			}
		}
		// Two cards per column; the third comes with the next page.
		pl, _ := f.deals.Pipeline(ctx, f.As(t, "sim_s1"), deal.PipelineFilter{PerStage: 2})
		if c := pl.Columns[0]; c.Count != 3 || len(c.Items) != 2 || c.Items[0].Title != "s1-c" {
			t.Fatalf("first column: count %d, %d cards", c.Count, len(c.Items))
		}
		more, total, err := f.deals.StageCards(ctx, f.As(t, "sim_s1"), *f.stage("initial"), deal.PipelineFilter{}, 2, 2)
		if err != nil || total != 3 || len(more) != 1 || more[0].Title != "s1-a" {
			t.Fatalf("page 2: %d of %d %v", len(more), total, err)
		}
		if _, _, err := f.deals.StageCards(ctx, f.As(t, "sim_s1"), 9999, deal.PipelineFilter{}, 1, 20); !errors.Is(err, deal.ErrStageNotFound) {
			t.Fatalf("unknown column: %v", err)
		}
		if _, err := f.deals.Pipeline(ctx, f.As(t, "sim_s1"), deal.PipelineFilter{PerStage: 1000}); fields(err)["per_stage"].Key == "" {
			t.Fatalf("per_stage 1000: %v", err)
		}
		if _, err := f.deals.Pipeline(ctx, saletest.Without(f.As(t, "sim_s1"), deal.PermView), deal.PipelineFilter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("pipeline without opportunity.view: %v", err)
		}
	})
}

// TestOpportunityScopeAndOwner: lists and reads follow the data scope;
// assignment follows the same rules as customers.
func TestOpportunityScopeAndOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		ids := map[string]int64{}
		for _, who := range []string{"sim_s1", "sim_s3", "sim_s5"} {
			ids[who] = f.opp(t, who, who, 100, "initial").ID
		}
		for viewer, sees := range map[string]map[string]bool{
			"sim_s1": {"sim_s1": true}, "sim_s5": {"sim_s5": true},
			"sim_mgr1": {"sim_s1": true, "sim_s3": true}, "sim_admin": {"sim_s1": true, "sim_s3": true, "sim_s5": true},
		} {
			a := f.As(t, viewer)
			if _, n, _ := f.deals.List(ctx, a, deal.Filter{}); n != len(sees) {
				t.Errorf("%s lists %d, want %d", viewer, n, len(sees))
			}
			for owner, id := range ids {
				if _, err := f.deals.Get(ctx, a, id); sees[owner] != (err == nil) {
					t.Errorf("%s reads %s's: %v", viewer, owner, err)
				}
			}
		}
		mgr := f.As(t, "sim_mgr1")
		o, err := f.deals.Update(ctx, mgr, ids["sim_s1"], deal.Input{Version: ptr(1), OwnerID: ptr(f.ID("sim_s4"))})
		if err != nil || o.OwnerID != f.ID("sim_s4") || o.DepartmentID != f.As(t, "sim_s4").PrimaryDeptID {
			t.Fatalf("assign within the team: %+v %v", o, err)
		}
		if _, err := f.deals.Update(ctx, mgr, o.ID, deal.Input{Version: ptr(2), OwnerID: ptr(f.ID("sim_s6"))}); fields(err)["owner_id"].Key != "validation.owner_out_of_scope" {
			t.Fatalf("assign outside the team: %v", err)
		}
		if _, err := f.deals.Update(ctx, f.As(t, "sim_s5"), ids["sim_s5"], deal.Input{Version: ptr(1), OwnerID: ptr(f.ID("sim_s6"))}); fields(err)["owner_id"].Key != "deal.cannot_assign" {
			t.Fatalf("salesperson assigns: %v", err)
		}
	})
}

// TestOpportunityBadInput: every bad opportunity is refused per field and
// writes nothing.
func TestOpportunityBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		s1 := f.As(t, "sim_s1")
		mine := f.Customer(t, "sim_s1", "我的")
		theirs := f.Customer(t, "sim_s5", "别人的")
		p := f.Product(t, "P", 100)
		f.Deactivate(t, "sim_s2")
		mgr := f.As(t, "sim_mgr1")
		// A stage taken off the board is no longer a target.
		var old int64
		db.Get(&old, "SELECT id FROM opportunity_stages WHERE code = 'negotiation'")
		db.Exec("UPDATE opportunity_stages SET active = 0 WHERE id = ?", old)
		title := ptr("机会")
		tests := []struct {
			name  string
			who   string
			in    deal.Input
			field string
		}{
			{"no customer", "sim_s1", deal.Input{Title: title}, "customer_id"},
			{"unknown customer", "sim_s1", deal.Input{CustomerID: ptr(int64(999999)), Title: title}, "customer_id"},
			{"someone else's customer", "sim_s1", deal.Input{CustomerID: &theirs, Title: title}, "customer_id"},
			{"no title", "sim_s1", deal.Input{CustomerID: &mine}, "title"},
			{"negative amount", "sim_s1", deal.Input{CustomerID: &mine, Title: title, AmountFen: ptr(int64(-100))}, "amount_fen"},
			{"absurd amount", "sim_s1", deal.Input{CustomerID: &mine, Title: title, AmountFen: ptr(product.MaxFen * 2)}, "amount_fen"},
			{"quantity 0", "sim_s1", deal.Input{CustomerID: &mine, Title: title, Lines: lines([2]int64{p, 0})}, "lines[0].quantity"},
			{"close date not a date", "sim_s1", deal.Input{CustomerID: &mine, Title: title,
				ExpectedCloseDate: deal.OptString{Set: true, Value: ptr("2026-02-30")}}, "expected_close_date"},
			{"stage not in the list", "sim_s1", deal.Input{CustomerID: &mine, Title: title, StageID: ptr(int64(9999))}, "stage_id"},
			{"stage taken off the board", "sim_s1", deal.Input{CustomerID: &mine, Title: title, StageID: &old}, "stage_id"},
			{"lost without reason", "sim_s1", deal.Input{CustomerID: &mine, Title: title, StageID: f.stage("lost")}, "lost_reason"},
			{"probability 101", "sim_s1", deal.Input{CustomerID: &mine, Title: title, Probability: ptr(101)}, "probability"},
			{"deactivated owner", "sim_mgr1", deal.Input{CustomerID: ptr(f.Customer(t, "sim_mgr1", "经理的")), Title: title,
				OwnerID: ptr(f.ID("sim_s2"))}, "owner_id"},
		}
		tables := []string{"opportunities", "opportunity_items", "opportunity_stage_history", "audit_log"}
		before := f.Counts(t, tables...)
		for _, tt := range tests {
			a := s1
			if tt.who == "sim_mgr1" {
				a = mgr
			}
			_, err := f.deals.Create(ctx, a, tt.in)
			if errs.KindOf(err) != errs.KindInvalid || fields(err)[tt.field].Key == "" {
				t.Errorf("%s: %v, want a problem on %s", tt.name, err, tt.field)
			}
		}
		after := f.Counts(t, tables...)
		for _, tb := range tables {
			if before[tb] != after[tb] {
				t.Errorf("bad input wrote %s: %d → %d", tb, before[tb], after[tb])
			}
		}
	})
}
