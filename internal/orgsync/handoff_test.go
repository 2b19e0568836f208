package orgsync_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestLeaverHandoff: a person who left DingTalk is deactivated by the sync,
// their sessions end, their live customers go to their main department's
// manager (the nearest one up the tree when their own department has none)
// or to the public pool (by setting, or when no manager is found), their
// open opportunities to the same manager; closed opportunities and deleted
// customers stay; nothing is deleted; every move is on the customer's
// timeline; the handover is recorded for notification and the notifier is
// told.
func TestLeaverHandoff(t *testing.T) {
	cases := []struct {
		name   string
		leaver string
		mode   string // the setting
		to     string // who gets the customers; "" the pool
		oppsTo string // who gets the open opportunities; "" they stay
	}{
		{"manager of the main department", "sim_s8", orgsync.LeaverToManager, "sim_mgr1", "sim_mgr1"},
		{"manager up the tree", "sim_s3", orgsync.LeaverToManager, "sim_mgr1", "sim_mgr1"},
		{"pool by setting", "sim_s1", orgsync.LeaverToPool, "", "sim_mgr1"},
		{"no manager anywhere: the pool", "sim_mgr2", orgsync.LeaverToManager, "", ""},
	}
	// One organization; each case is one more person leaving.
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		f.sync()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				svc := f.service(func(o *orgsync.Options) { o.LeaverCustomers = tc.mode })
				leaver := f.userID(tc.leaver)
				live := f.customers(tc.leaver, 3)
				deleted := f.customers(tc.leaver, 1)[0]
				if _, err := db.Exec("UPDATE customers SET deleted_at = ?, deleted_by = ? WHERE id = ?", store.Now(), leaver, deleted); err != nil {
					t.Fatal(err)
				}
				open := f.opportunity(live[0], tc.leaver, "open")
				won := f.opportunity(live[1], tc.leaver, "won")
				if _, _, err := f.sessions.Create(f.ctx, db, leaver, "127.0.0.1", "test"); err != nil {
					t.Fatal(err)
				}
				customersBefore, oppsBefore := f.count("SELECT COUNT(*) FROM customers"), f.count("SELECT COUNT(*) FROM opportunities")
				seen := len(f.notified.all())
				// A pending follow-up reminder of one of the customers.
				next := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
				if err := db.WithTx(f.ctx, func(tx *sqlx.Tx) error {
					return reminder.SyncFollowUp(f.ctx, tx, live[2], &next, time.Now().UTC())
				}); err != nil {
					t.Fatal(err)
				}

				if err := f.fake.RemoveUser(tc.leaver); err != nil {
					t.Fatal(err)
				}
				sy, err := svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
				if err != nil {
					t.Fatal(err)
				}
				sum := sy.Summary
				if sum.PeopleDeactivated != 1 || sum.CustomersHandedOver != 3 {
					t.Errorf("summary: %+v", sum)
				}
				if n := f.count("SELECT COUNT(*) FROM users WHERE id = ? AND active = 0 AND left_at IS NOT NULL", leaver); n != 1 {
					t.Error("the leaver is not deactivated as a leaver")
				}
				if n := f.count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", leaver); n != 0 {
					t.Errorf("the leaver still has %d sessions", n)
				}
				if f.count("SELECT COUNT(*) FROM customers") != customersBefore || f.count("SELECT COUNT(*) FROM opportunities") != oppsBefore {
					t.Error("something was deleted")
				}
				to := int64(0)
				if tc.to != "" {
					to = f.userID(tc.to)
				}
				for _, id := range live {
					if owner := f.count("SELECT owner_id FROM customers WHERE id = ?", id); int64(owner) != to {
						t.Errorf("customer %d owned by %d, want %d", id, owner, to)
					}
					action := "transfer"
					if tc.to == "" {
						action = "release"
					}
					if n := f.count("SELECT COUNT(*) FROM audit_log WHERE customer_id = ? AND entity = 'customer' AND action = ?", id, action); n != 1 {
						t.Errorf("customer %d: %d %s entries on its timeline, want 1", id, n, action)
					}
				}
				// The follow-up reminder went with the customer: to its new
				// owner (recipient and queued notification), or cancelled in
				// the pool.
				var rem struct {
					ID     int64  `db:"id"`
					Status string `db:"status"`
					Owner  int64  `db:"owner_id"`
				}
				if err := db.Get(&rem, "SELECT id, status, owner_id FROM reminders WHERE customer_id = ?", live[2]); err != nil {
					t.Fatal(err)
				}
				wantStatus, wantQueued := "pending", fmt.Sprint([]int64{to})
				if tc.to == "" {
					wantStatus, wantQueued = "cancelled", "[]"
				}
				queued := []int64{}
				db.Select(&queued, "SELECT user_id FROM outbox_messages WHERE status = 'pending' AND dedup_key LIKE ?", fmt.Sprintf("reminder:%d:%%", rem.ID))
				if rem.Status != wantStatus || (tc.to != "" && rem.Owner != to) || fmt.Sprint(queued) != wantQueued {
					t.Errorf("follow-up reminder: %+v queued for %v, want %s for %d queued for %s", rem, queued, wantStatus, to, wantQueued)
				}
				if tc.to == "" {
					if n := f.count("SELECT COUNT(*) FROM customers WHERE id IN (?, ?, ?) AND pool_entered_at IS NOT NULL AND former_owner_id = ?",
						live[0], live[1], live[2], leaver); n != 3 {
						t.Errorf("%d customers entered the pool from the leaver, want 3", n)
					}
				}
				if owner := f.count("SELECT owner_id FROM customers WHERE id = ?", deleted); int64(owner) != leaver {
					t.Error("a deleted customer was moved")
				}
				oppsTo := leaver
				if tc.oppsTo != "" {
					oppsTo = f.userID(tc.oppsTo)
				}
				if owner := f.count("SELECT owner_id FROM opportunities WHERE id = ?", open); int64(owner) != oppsTo {
					t.Errorf("open opportunity owned by %d, want %d", owner, oppsTo)
				}
				if owner := f.count("SELECT owner_id FROM opportunities WHERE id = ?", won); int64(owner) != leaver {
					t.Error("a won opportunity was moved")
				}
				if tc.oppsTo != "" {
					if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'opportunity' AND entity_id = ? AND customer_id = ?", open, live[0]); n != 1 {
						t.Error("the opportunity's move is not on its customer's timeline")
					}
				}
				handoffs := f.notified.all()[seen:]
				if len(handoffs) != 1 || handoffs[0].LeaverID != leaver || handoffs[0].Mode != modeOf(tc.to) ||
					!slices.Equal(handoffs[0].CustomerIDs, live) {
					t.Fatalf("notified: %+v", handoffs)
				}
				wantRow := fmt.Sprintf("%d %s 3", handoffs[0].ToUserID, modeOf(tc.to))
				var row struct {
					To        int64  `db:"to_user_id"`
					Mode      string `db:"mode"`
					Customers int    `db:"customers"`
				}
				if err := db.Get(&row, "SELECT to_user_id, mode, customers FROM org_handoffs WHERE leaver_id = ?", leaver); err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprintf("%d %s %d", row.To, row.Mode, row.Customers); got != wantRow {
					t.Errorf("org_handoffs: %s, want %s", got, wantRow)
				}
				if again := f.sync(); again.Changed() {
					t.Errorf("the next sync handed over again: %+v", again)
				}
				if err := customer.NewStore(db).CheckIndex(f.ctx); err != nil {
					t.Errorf("the hand-over left the search index behind: %v", err)
				}
			})
		}
	})
}

func modeOf(to string) string {
	if to == "" {
		return orgsync.LeaverToPool
	}
	return orgsync.LeaverToManager
}
