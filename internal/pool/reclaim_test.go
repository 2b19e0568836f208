package pool_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestReclaim runs the reclaim rules at fixed times with the seeded rules
// (no follow-up: a 30, b 20, c 15, d 10, others 15 days; no deal 90 days;
// warning 3 days ahead): owners are warned 3 days before, once per cycle;
// customers are reclaimed when due and warned at least 3 days earlier;
// limits depend on the level; a follow-up or a recent claim resets the clock;
// runs are idempotent, and each reclaim is audited as the system.
func TestReclaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s5 := f.actor("sim_s1"), f.actor("sim_s5")
		t0 := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
		days := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
		ids := map[string]int64{}
		set := func(name string, owner int64, level, status string, created, lastFollow time.Time, ownerSince *time.Time) {
			c := f.customer(f.actor(map[int64]string{s1.UserID: "sim_s1", s5.UserID: "sim_s5"}[owner]))
			ids[name] = c.ID
			// A customer in status deal won its last deal when it was last
			// followed up (last_won_at drives the no-deal rule).
			var lastWon *time.Time
			if status == "deal" {
				lastWon = &lastFollow
			}
			if _, err := db.Exec(`UPDATE customers SET level = ?, status = ?, created_at = ?, last_follow_at = ?, owner_since = ?,
				last_won_at = ? WHERE id = ?`, level, status, created, lastFollow, ownerSince, lastWon, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		long := days(-400)
		// Customers that deal or were acquired recently are under the
		// follow-up rule only (no deal is due 90 days after acquisition).
		set("a_due_in_3", s1.UserID, "a", "intent", days(-40), days(-27), nil)  // 30 days: due t0+3
		set("d_due_in_3", s5.UserID, "d", "intent", days(-40), days(-7), nil)   // 10 days: due t0+3
		set("a_fresh", s1.UserID, "a", "intent", days(-60), days(-7), nil)      // due t0+23; no deal t0+30
		set("deal", s1.UserID, "", "deal", long, days(-1), nil)                 // 15 days: due t0+14
		set("no_deal", s1.UserID, "a", "potential", days(-88), days(-1), nil)   // no deal: due t0+2
		set("overdue", s5.UserID, "c", "deal", long, days(-100), nil)           // long overdue, never warned
		set("claimed", s1.UserID, "d", "deal", long, days(-100), ptr(days(-1))) // owner since t0-1: due t0+9
		inPool := f.customer(s1)
		if err := f.pool.Release(f.ctx, s1, inPool.ID, pool.ReleaseInput{Reason: ptr("已在公海")}); err != nil {
			t.Fatal(err)
		}

		var last pool.Summary
		run := func(at time.Time) (warned []string, reclaimed []string) {
			t.Helper()
			sum, err := f.pool.Reclaim(f.ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			last = sum
			for name, id := range ids {
				for _, w := range sum.Warned {
					if w.CustomerID == id {
						warned = append(warned, name)
					}
				}
				if slices.Contains(sum.Reclaimed, id) {
					reclaimed = append(reclaimed, name)
				}
			}
			sort.Strings(warned)
			sort.Strings(reclaimed)
			return warned, reclaimed
		}
		steps := []struct {
			at                time.Time
			warned, reclaimed []string
		}{
			{t0, []string{"a_due_in_3", "d_due_in_3", "no_deal", "overdue"}, nil},
			{t0, nil, nil},      // idempotent
			{days(2), nil, nil}, // no_deal is due but was warned only 2 days ago
			{days(3), nil, []string{"a_due_in_3", "no_deal", "overdue"}}, // d_due_in_3 was followed up (below)
			{days(3), nil, nil}, // idempotent
			{days(8), []string{"claimed", "d_due_in_3"}, nil},
			{days(11), []string{"deal"}, []string{"claimed", "d_due_in_3"}},
		}
		for i, st := range steps {
			if i == 3 {
				// d_due_in_3 is followed up at t0+1: a new cycle, due t0+11.
				if _, err := db.Exec("UPDATE customers SET last_follow_at = ? WHERE id = ?", days(1), ids["d_due_in_3"]); err != nil {
					t.Fatal(err)
				}
			}
			warned, reclaimed := run(st.at)
			if !slices.Equal(warned, st.warned) || !slices.Equal(reclaimed, st.reclaimed) {
				t.Fatalf("step %d at t0%+dh: warned %v reclaimed %v, want %v and %v", i, int(st.at.Sub(t0).Hours()),
					warned, reclaimed, st.warned, st.reclaimed)
			}
			if i == 0 {
				// The overdue customer was never warned: it gets its full notice.
				for _, w := range last.Warned {
					if w.CustomerID == ids["overdue"] && (w.Rule != pool.CauseNoFollow || !w.ReclaimAt.Equal(days(3)) || !w.DueAt.Before(t0)) {
						t.Errorf("overdue warning: %+v", w)
					}
					if w.CustomerID == ids["a_due_in_3"] && (!w.DueAt.Equal(days(3)) || w.OwnerID != s1.UserID || w.CustomerName == "") {
						t.Errorf("warning: %+v", w)
					}
				}
			}
		}
		// A reclaimed customer is in the pool with its cause, its former
		// owner on the cooldown, and a system entry on its timeline.
		var row struct {
			Owner  int64  `db:"owner_id"`
			Cause  string `db:"pool_cause"`
			Former int64  `db:"former_owner_id"`
		}
		db.Get(&row, "SELECT owner_id, pool_cause, former_owner_id FROM customers WHERE id = ?", ids["no_deal"])
		if row.Owner != 0 || row.Cause != pool.CauseNoDeal || row.Former != s1.UserID {
			t.Errorf("reclaimed customer: %+v", row)
		}
		var actor string
		db.Get(&actor, "SELECT actor_name FROM audit_log WHERE action = 'reclaim' AND customer_id = ?", ids["overdue"])
		if actor != "system" {
			t.Errorf("reclaim audited as %q", actor)
		}
		// Switched off, nothing happens.
		f.setRules(func(in *pool.RulesInput) { in.ReclaimEnabled = ptr(false) })
		if warned, reclaimed := run(days(100)); len(warned)+len(reclaimed) != 0 {
			t.Fatalf("disabled rules still ran: %v %v", warned, reclaimed)
		}
		if err := customer.NewStore(db).CheckIndex(context.Background()); err != nil {
			t.Errorf("reclaims left the search index behind: %v", err)
		}
	})
}

// TestReclaimInBatches covers more customers than one batch: every one is
// warned once, then reclaimed once.
func TestReclaimInBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		const n = 250
		long := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		args := []any{}
		for i := 0; i < n; i++ {
			args = append(args, "批量"+itoa(int64(i)), s1.UserID, s1.PrimaryDeptID, long, long, long)
		}
		_, err := db.Exec(`INSERT INTO customers (name, level, status, note, owner_id, department_id, created_by, created_at,
			updated_at, last_follow_at) VALUES `+strings.TrimSuffix(strings.Repeat("(?, 'c', 'deal', '', ?, ?, 1, ?, ?, ?), ", n), ", "), args...)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		for _, st := range []struct {
			at                int
			warned, reclaimed int
		}{{0, n, 0}, {0, 0, 0}, {3, 0, n}, {3, 0, 0}} {
			sum, err := f.pool.Reclaim(f.ctx, t0.Add(time.Duration(st.at)*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Warned) != st.warned || len(sum.Reclaimed) != st.reclaimed {
				t.Fatalf("day %d: warned %d reclaimed %d, want %d and %d", st.at, len(sum.Warned), len(sum.Reclaimed), st.warned, st.reclaimed)
			}
		}
		var owned int
		db.Get(&owned, "SELECT COUNT(*) FROM customers WHERE owner_id = ?", s1.UserID)
		if owned != 0 {
			t.Fatalf("%d customers not reclaimed", owned)
		}
	})
}
