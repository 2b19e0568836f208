package deal_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func TestDefaultStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, saletest.NewOrg(t, db))
		got, err := f.deals.Stages(context.Background(), f.As(t, "sim_s5"))
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			code, name, kind string
			prob             int
		}{
			{"initial", "初步接洽", "open", 10}, {"needs", "需求确认", "open", 30}, {"proposal", "方案报价", "open", 50},
			{"negotiation", "谈判审核", "open", 70}, {"won", "赢单", "won", 100}, {"lost", "输单", "lost", 0},
		}
		if len(got) != len(want) {
			t.Fatalf("stages: %+v", got)
		}
		for i, w := range want {
			g := got[i]
			if g.Code != w.code || g.Name != w.name || g.Kind != w.kind || g.Probability != w.prob || !deal.IsDefaultName(g.Code, g.Name) {
				t.Errorf("stage %d: %+v, want %+v", i, g, w)
			}
		}
		if _, err := f.deals.Stages(context.Background(), nil); !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("stages without a person: %v", err)
		}
	})
}

func boardInput(stages []deal.Stage) []deal.StageInput {
	out := make([]deal.StageInput, len(stages))
	for i, st := range stages {
		id, name, prob, kind := st.ID, st.Name, st.Probability, st.Kind
		out[i] = deal.StageInput{ID: &id, Name: &name, Probability: &prob, Kind: &kind}
	}
	return out
}

// TestReplaceStages: an admin renames, reorders, adds and removes stages;
// a stage with opportunities in it cannot be removed or change kind; the
// board keeps exactly one won and one lost stage; salespeople cannot edit.
func TestReplaceStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, saletest.NewOrg(t, db))
		admin := f.As(t, "sim_admin")
		cur, _ := f.deals.Stages(ctx, admin)
		f.opp(t, "sim_s1", "在用", 100, "needs")

		if _, err := f.deals.ReplaceStages(ctx, f.As(t, "sim_mgr1"), deal.StagesInput{Stages: boardInput(cur)}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("manager edited the stages: %v", err)
		}
		// Rename 方案报价, drop the unused 谈判审核, add 合同签订 before won.
		in := boardInput(cur)
		in[2].Name = ptr("报价")
		in[2].Probability = ptr(40)
		next := append(in[:3:3], deal.StageInput{Code: ptr("contract"), Name: ptr("合同签订"), Probability: ptr(90), Kind: ptr("open")})
		next = append(next, in[4:]...)
		got, err := f.deals.ReplaceStages(ctx, admin, deal.StagesInput{Stages: next})
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, st := range got {
			names = append(names, st.Name)
		}
		if want := "初步接洽 需求确认 报价 合同签订 赢单 输单"; join(names) != want {
			t.Fatalf("board %q, want %q", join(names), want)
		}
		if got[2].Probability != 40 || deal.IsDefaultName(got[2].Code, got[2].Name) || !deal.IsDefaultName(got[0].Code, got[0].Name) {
			t.Errorf("renamed stage: %+v", got[2])
		}
		var inactive int
		db.Get(&inactive, "SELECT COUNT(*) FROM opportunity_stages WHERE active = 0 AND code = 'negotiation'")
		if inactive != 1 {
			t.Errorf("removed stage not kept inactive")
		}
		if n := f.Count(t, "audit_log WHERE entity = 'opportunity_stage'"); n != 1 {
			t.Errorf("stage edits audited %d times, want 1", n)
		}

		conflicts := map[string][]deal.StageInput{
			"remove a stage in use": append(append([]deal.StageInput{}, boardInput(got)[:1]...), boardInput(got)[2:]...),
			"re-kind a stage in use": func() []deal.StageInput {
				b := boardInput(got)
				b[1].Kind = ptr("lost")
				b[5].Kind = ptr("open")
				b[5].Probability = ptr(5)
				return b
			}(),
		}
		for name, stages := range conflicts {
			if _, err := f.deals.ReplaceStages(ctx, admin, deal.StagesInput{Stages: stages}); errs.KindOf(err) != errs.KindConflict {
				t.Errorf("%s: %v, want a conflict", name, err)
			}
		}
		invalid := map[string]func(b []deal.StageInput) []deal.StageInput{
			"two won stages": func(b []deal.StageInput) []deal.StageInput { b[0].Kind = ptr("won"); return b },
			"no lost stage":  func(b []deal.StageInput) []deal.StageInput { return b[:5] },
			"unknown id":     func(b []deal.StageInput) []deal.StageInput { b[0].ID = ptr(int64(9999)); return b },
			"same id twice":  func(b []deal.StageInput) []deal.StageInput { b[3].ID = b[2].ID; return b },
			"blank name":     func(b []deal.StageInput) []deal.StageInput { b[0].Name = ptr(" "); return b },
			"same name":      func(b []deal.StageInput) []deal.StageInput { b[1].Name = b[0].Name; return b },
			"probability":    func(b []deal.StageInput) []deal.StageInput { b[0].Probability = ptr(101); return b },
			"bad kind":       func(b []deal.StageInput) []deal.StageInput { b[0].Kind = ptr("maybe"); return b },
			"taken code": func(b []deal.StageInput) []deal.StageInput {
				return append(b, deal.StageInput{Code: ptr("negotiation"), Name: ptr("新"), Probability: ptr(1), Kind: ptr("open")})
			},
			"bad code": func(b []deal.StageInput) []deal.StageInput {
				return append(b, deal.StageInput{Code: ptr("Bad Code"), Name: ptr("新"), Probability: ptr(1), Kind: ptr("open")})
			},
			"too few": func(b []deal.StageInput) []deal.StageInput { return b[:2] },
		}
		before := f.Counts(t, "opportunity_stages", "audit_log")
		for name, mutate := range invalid {
			if _, err := f.deals.ReplaceStages(ctx, admin, deal.StagesInput{Stages: mutate(boardInput(got))}); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		after := f.Counts(t, "opportunity_stages", "audit_log")
		if before["opportunity_stages"] != after["opportunity_stages"] || before["audit_log"] != after["audit_log"] {
			t.Errorf("refused edits wrote rows: %v → %v", before, after)
		}
		again, _ := f.deals.Stages(ctx, admin)
		if join(namesOf(again)) != join(names) {
			t.Errorf("refused edits changed the board: %v", namesOf(again))
		}
	})
}

func namesOf(stages []deal.Stage) []string {
	out := []string{}
	for _, st := range stages {
		out = append(out, st.Name)
	}
	return out
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
