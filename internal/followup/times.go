package followup

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
)

// syncCustomer keeps a customer's follow-up times true. It runs in the
// transaction of every follow-up write, after the write; before is the
// follow-up as it was (nil on create), after as it is now (nil on delete).
//
//   - customers.last_follow_at is the latest followed_at among the
//     customer's live follow-ups; NULL when there are none.
//   - customers.next_follow_at moves only when the write involves a planned
//     next follow-up: the follow-up had or has a next_follow_at, and on an
//     edit its next_follow_at or followed_at changed. It then becomes the
//     next_follow_at of the most recent live follow-up (latest followed_at,
//     then highest id) that has one. When no live follow-up has one, a
//     value that came from this follow-up (equal to its old
//     next_follow_at) is cleared, and any other value, which someone set on
//     the customer by hand, stays.
//
// The customer's version and updated_at move as well: a customer edit form
// opened before the follow-up was logged gets a 409 rather than writing
// back the old times, and the customer rises in "recently updated" lists.
func (s *Store) syncCustomer(ctx context.Context, tx *sqlx.Tx, customerID int64, before, after *Followup, at time.Time) error {
	last, err := s.optTime(ctx, tx, `SELECT followed_at FROM followups WHERE customer_id = ? AND deleted_at IS NULL
		ORDER BY followed_at DESC, id DESC LIMIT 1`, customerID)
	if err != nil {
		return err
	}
	next, err := s.optTime(ctx, tx, "SELECT next_follow_at FROM customers WHERE id = ?", customerID)
	if err != nil {
		return err
	}
	if involvesNext(before, after) {
		latest, err := s.optTime(ctx, tx, `SELECT next_follow_at FROM followups WHERE customer_id = ?
			AND deleted_at IS NULL AND next_follow_at IS NOT NULL ORDER BY followed_at DESC, id DESC LIMIT 1`, customerID)
		if err != nil {
			return err
		}
		switch {
		case latest != nil:
			next = latest
		case before != nil && sameTime(next, before.NextFollowAt):
			next = nil
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE customers SET last_follow_at = ?, next_follow_at = ?, updated_at = ?,
		version = version + 1 WHERE id = ?`, last, next, at, customerID)
	if err != nil {
		return fmt.Errorf("followup: set follow-up times of customer %d: %w", customerID, err)
	}
	if involvesNext(before, after) {
		// The owner's follow-up reminder moves with the next follow-up time,
		// in this same transaction (internal/reminder).
		return reminder.SyncFollowUp(ctx, tx, customerID, next, at)
	}
	return nil
}

// involvesNext reports whether a write can change the customer's next
// follow-up time (see syncCustomer).
func involvesNext(before, after *Followup) bool {
	switch {
	case before == nil:
		return after.NextFollowAt != nil
	case after == nil:
		return before.NextFollowAt != nil
	case before.NextFollowAt == nil && after.NextFollowAt == nil:
		return false
	}
	return !sameTime(before.NextFollowAt, after.NextFollowAt) || !before.FollowedAt.Equal(after.FollowedAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// optTime reads one nullable time; no row is nil.
func (s *Store) optTime(ctx context.Context, tx *sqlx.Tx, q string, args ...any) (*time.Time, error) {
	var t *time.Time
	err := tx.GetContext(ctx, &t, q, args...)
	if store.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("followup: read time: %w", err)
	}
	if t != nil {
		u := t.UTC()
		t = &u
	}
	return t, nil
}
