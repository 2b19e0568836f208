package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// next is the first occurrence of r's repeat after now (zero for "none").
func (s *Service) next(r *Reminder, now time.Time) time.Time {
	t := r.RemindAt.In(s.loc)
	step := func(t time.Time) time.Time {
		switch r.Repeat {
		case "daily":
			return t.AddDate(0, 0, 1)
		case "weekly":
			return t.AddDate(0, 0, 7)
		case "monthly":
			return t.AddDate(0, 1, 0)
		}
		return time.Time{}
	}
	for i := 0; i < 10000; i++ {
		if t = step(t); t.IsZero() || t.After(now) {
			return t.UTC()
		}
	}
	return time.Time{}
}

// roll creates the next occurrence of a repeating reminder once (rolled
// marks it), inside tx.
func (s *Service) roll(ctx context.Context, tx *sqlx.Tx, r *Reminder, now time.Time) error {
	if r.Repeat == "none" || r.Rolled {
		return nil
	}
	at := s.next(r, now)
	if at.IsZero() {
		return nil
	}
	r.Rolled = true
	n := *r
	n.ID, n.RemindAt, n.Status, n.DoneAt, n.Rolled, n.CreatedAt, n.UpdatedAt = 0, at, "pending", nil, false, now, now
	prev := r.ID
	return insert(ctx, tx, &n, nil, &prev)
}

// RollDue creates the next occurrence of every repeating reminder that fell
// due (its notification went out): the dispatcher runs it first. Each is
// claimed with an UPDATE on rolled, so several instances roll it once.
func (s *Service) RollDue(ctx context.Context, now time.Time) error {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM reminders WHERE status = 'pending' AND repeat_rule <> 'none'
		AND rolled = 0 AND remind_at <= ? ORDER BY id LIMIT 500`, now)
	if err != nil {
		return fmt.Errorf("reminder: due repeats: %w", err)
	}
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, "UPDATE reminders SET rolled = 1 WHERE id = ? AND rolled = 0", id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			var r Reminder
			if err := tx.GetContext(ctx, &r, selectCols+" WHERE r.id = ?", id); err != nil {
				return err
			}
			if err := loadRecipients(ctx, tx, []*Reminder{&r}); err != nil {
				return err
			}
			r.Rolled = false
			if err := s.roll(ctx, tx, &r, now); err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reminder: roll %d: %w", id, err)
		}
	}
	return nil
}
