package pool_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// followUpState is a customer's follow-up reminder as the people see it:
// its status, owner, recipients and the users its pending notifications
// are queued for.
func followUpState(t *testing.T, db *store.DB, customerID int64) string {
	t.Helper()
	var r struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
		Owner  int64  `db:"owner_id"`
	}
	if err := db.Get(&r, "SELECT id, status, owner_id FROM reminders WHERE customer_id = ? AND source = ? ORDER BY id DESC LIMIT 1",
		customerID, reminder.SourceFollowup); err != nil {
		t.Fatal(err)
	}
	var recipients, queued []int64
	db.Select(&recipients, "SELECT user_id FROM reminder_recipients WHERE reminder_id = ? ORDER BY user_id", r.ID)
	db.Select(&queued, "SELECT user_id FROM outbox_messages WHERE status = 'pending' AND dedup_key LIKE ? ORDER BY user_id",
		fmt.Sprintf("reminder:%d:%%", r.ID))
	return fmt.Sprintf("%s owner %d recipients %v queued %v", r.Status, r.Owner, recipients, queued)
}

// TestOwnerChangeMovesFollowUpReminder: a customer's pending follow-up
// reminder (from its next follow-up time) follows the customer in the same
// transaction: a transfer gives it, and its queued notification, to the
// new owner; a release to the pool cancels it. Other customers' reminders
// stay as they were.
func TestOwnerChangeMovesFollowUpReminder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s3, mgr1 := f.actor("sim_s1"), f.actor("sim_s3"), f.actor("sim_mgr1")
		a, b := f.customer(s1), f.customer(s1)
		next := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		for _, id := range []int64{a.ID, b.ID} {
			if err := db.WithTx(f.ctx, func(tx *sqlx.Tx) error {
				return reminder.SyncFollowUp(f.ctx, tx, id, &next, time.Now().UTC())
			}); err != nil {
				t.Fatal(err)
			}
		}
		want := func(id int64, s string) {
			t.Helper()
			if got := followUpState(t, db, id); got != s {
				t.Errorf("customer %d follow-up reminder: %s, want %s", id, got, s)
			}
		}
		want(a.ID, fmt.Sprintf("pending owner %d recipients [%d] queued [%d]", s1.UserID, s1.UserID, s1.UserID))

		if _, err := f.pool.Transfer(f.ctx, mgr1, pool.TransferInput{CustomerIDs: []int64{a.ID}, ToUserID: &s3.UserID}); err != nil {
			t.Fatal(err)
		}
		want(a.ID, fmt.Sprintf("pending owner %d recipients [%d] queued [%d]", s3.UserID, s3.UserID, s3.UserID))
		want(b.ID, fmt.Sprintf("pending owner %d recipients [%d] queued [%d]", s1.UserID, s1.UserID, s1.UserID))
		var remindAt time.Time
		db.Get(&remindAt, "SELECT remind_at FROM reminders WHERE customer_id = ?", a.ID)
		if !remindAt.Equal(next) {
			t.Errorf("the moved reminder is due %v, want %v", remindAt, next)
		}

		reason := "不再跟进"
		if err := f.pool.Release(f.ctx, s1, b.ID, pool.ReleaseInput{Reason: &reason}); err != nil {
			t.Fatal(err)
		}
		want(b.ID, fmt.Sprintf("cancelled owner %d recipients [%d] queued []", s1.UserID, s1.UserID))
	})
}
