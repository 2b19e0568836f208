package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// FollowupContent is the text of a reminder made from a follow-up's next
// follow-up time.
const FollowupContent = "按计划跟进客户（下次跟进时间）"

// SyncFollowUp keeps the customer's follow-up reminder in step with its
// next follow-up time, inside the follow-up's transaction: next set → the
// customer's owner has one pending reminder at that time (created or
// moved); next nil, or the customer in the pool → it is cancelled. A
// follow-up reminder that was done or cancelled is left alone and a new
// one is made.
func SyncFollowUp(ctx context.Context, tx *sqlx.Tx, customerID int64, next *time.Time, now time.Time) error {
	var c struct {
		Name  string `db:"name"`
		Owner int64  `db:"owner_id"`
		Dept  int64  `db:"department_id"`
	}
	if err := tx.GetContext(ctx, &c, "SELECT name, owner_id, department_id FROM customers WHERE id = ?", customerID); err != nil {
		return fmt.Errorf("reminder: follow-up customer %d: %w", customerID, err)
	}
	var r Reminder
	err := tx.GetContext(ctx, &r, selectCols+" WHERE r.followup_key = ?", customerID)
	exists := err == nil
	if err != nil && !store.IsNoRows(err) {
		return fmt.Errorf("reminder: follow-up reminder of %d: %w", customerID, err)
	}
	if exists {
		if err := loadRecipients(ctx, tx, []*Reminder{&r}); err != nil {
			return err
		}
	}
	owner := []Person{{ID: c.Owner}}
	switch {
	case next == nil || c.Owner == 0:
		if !exists {
			return nil
		}
		r.Status = "cancelled"
	case exists:
		r.RemindAt, r.Recipients, r.OwnerID, r.DepartmentID = next.UTC(), owner, c.Owner, c.Dept
	default:
		r = Reminder{CustomerID: customerID, CustomerName: c.Name, RemindAt: next.UTC(), Content: FollowupContent,
			Repeat: "none", Status: "pending", Source: SourceFollowup, OwnerID: c.Owner, DepartmentID: c.Dept,
			Recipients: owner, CreatedAt: now, UpdatedAt: now}
		key := customerID
		return insert(ctx, tx, &r, &key, nil)
	}
	r.UpdatedAt = now
	r.Version++
	if _, err := tx.ExecContext(ctx, "UPDATE reminders SET owner_id = ?, department_id = ? WHERE id = ?", r.OwnerID, r.DepartmentID, r.ID); err != nil {
		return fmt.Errorf("reminder: follow-up owner: %w", err)
	}
	return save(ctx, tx, &r)
}

// MoveOwner follows the customers' change of owner inside the transaction
// that made it (transfer, assignment, claim, release, a leaver's
// hand-over): each pending follow-up reminder of a customer whose owner
// changed goes to the new owner at the same time (its notification is
// withdrawn from the former owner and queued for the new one); a customer
// now in the pool has it cancelled. Reminders people set by hand keep
// their recipients.
func MoveOwner(ctx context.Context, tx *sqlx.Tx, customerIDs []int64, now time.Time) error {
	if len(customerIDs) == 0 {
		return nil
	}
	var rows []struct {
		CustomerID int64     `db:"followup_key"`
		RemindAt   time.Time `db:"remind_at"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT r.followup_key, r.remind_at FROM reminders r
		JOIN customers c ON c.id = r.followup_key
		WHERE r.status = 'pending' AND r.owner_id <> c.owner_id AND r.followup_key IN (`+store.Placeholders(len(customerIDs))+`)
		ORDER BY r.followup_key`, store.Int64Args(customerIDs)...); err != nil {
		return fmt.Errorf("reminder: follow-up reminders to move: %w", err)
	}
	for _, r := range rows {
		at := r.RemindAt
		if err := SyncFollowUp(ctx, tx, r.CustomerID, &at, now); err != nil {
			return err
		}
	}
	return nil
}
