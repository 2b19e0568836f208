package reminder

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
)

const selectCols = `SELECT r.id, r.customer_id, c.name AS customer_name, r.opportunity_id,
	COALESCE(o.title, '') AS opportunity_name, r.remind_at, r.content, r.repeat_rule, r.status, r.source,
	r.owner_id, COALESCE(u.name, '') AS owner_name, r.department_id, r.created_at, r.updated_at, r.done_at,
	r.version, r.rolled
	FROM reminders r
	JOIN customers c ON c.id = r.customer_id
	LEFT JOIN opportunities o ON o.id = r.opportunity_id
	LEFT JOIN users u ON u.id = r.owner_id`

// visible is the condition for a reminder the Actor may see: one they
// receive, or one set by someone in their data scope; never one whose
// customer is in the recycle bin.
func visible(a *auth.Actor) (string, []any) {
	cond, args := a.ScopeFilter("r.owner_id", "r.department_id")
	return `c.deleted_at IS NULL AND (EXISTS (SELECT 1 FROM reminder_recipients rr WHERE rr.reminder_id = r.id
		AND rr.user_id = ?) OR ` + cond + ")", append([]any{a.UserID}, args...)
}

func get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*Reminder, error) {
	cond, args := visible(a)
	var r Reminder
	err := sqlx.GetContext(ctx, x, &r, selectCols+" WHERE r.id = ? AND "+cond, append([]any{id}, args...)...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reminder: get %d: %w", id, err)
	}
	if err := loadRecipients(ctx, x, []*Reminder{&r}); err != nil {
		return nil, err
	}
	return &r, nil
}

func loadRecipients(ctx context.Context, x sqlx.QueryerContext, rs []*Reminder) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]int64, len(rs))
	byID := map[int64]*Reminder{}
	for i, r := range rs {
		ids[i] = r.ID
		byID[r.ID] = r
		r.Recipients = []Person{}
	}
	var rows []struct {
		ReminderID int64  `db:"reminder_id"`
		ID         int64  `db:"id"`
		Name       string `db:"name"`
	}
	err := sqlx.SelectContext(ctx, x, &rows, `SELECT rr.reminder_id, u.id, u.name FROM reminder_recipients rr
		JOIN users u ON u.id = rr.user_id WHERE rr.reminder_id IN (`+store.Placeholders(len(ids))+`) ORDER BY rr.reminder_id, u.id`,
		store.Int64Args(ids)...)
	if err != nil {
		return fmt.Errorf("reminder: recipients: %w", err)
	}
	for _, row := range rows {
		byID[row.ReminderID].Recipients = append(byID[row.ReminderID].Recipients, Person{ID: row.ID, Name: row.Name})
	}
	return nil
}

// list returns the reminders the Actor receives, filtered.
func list(ctx context.Context, db *store.DB, a *auth.Actor, f Filter, now time.Time, loc *time.Location) ([]Reminder, error) {
	where := []string{"c.deleted_at IS NULL"}
	args := []any{a.UserID}
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	t := now.In(loc)
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).UTC()
	end := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc).UTC()
	order := "r.remind_at, r.id"
	switch f.When {
	case "":
		add("r.status = 'pending'")
	case "today":
		add("r.status = 'pending' AND r.remind_at >= ? AND r.remind_at < ?", start, end)
	case "overdue":
		add("r.status = 'pending' AND r.remind_at < ?", now)
	case "upcoming":
		add("r.status = 'pending' AND r.remind_at >= ?", now)
	case "all":
		order = "r.remind_at DESC, r.id DESC"
	}
	if f.CustomerID > 0 {
		add("r.customer_id = ?", f.CustomerID)
	}
	if f.OpportunityID > 0 {
		add("r.opportunity_id = ?", f.OpportunityID)
	}
	q := selectCols + " JOIN reminder_recipients me ON me.reminder_id = r.id AND me.user_id = ? WHERE " +
		strings.Join(where, " AND ") + " ORDER BY " + order + " LIMIT 500"
	var rows []Reminder
	if err := db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("reminder: list: %w", err)
	}
	ptrs := make([]*Reminder, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	if err := loadRecipients(ctx, db, ptrs); err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []Reminder{}
	}
	return rows, nil
}

// insert writes a new reminder with its recipients and, if pending, its
// notifications.
func insert(ctx context.Context, tx *sqlx.Tx, r *Reminder, followupKey *int64, previous *int64) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO reminders (customer_id, opportunity_id, remind_at, content, repeat_rule,
		status, source, followup_key, owner_id, department_id, rolled, previous_id, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 1)`,
		r.CustomerID, r.OpportunityID, r.RemindAt, r.Content, r.Repeat, r.Status, r.Source, followupKey, r.OwnerID,
		r.DepartmentID, previous, r.OwnerID, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return ErrStale
		}
		return fmt.Errorf("reminder: insert: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	r.Version = 1
	if err := setRecipients(ctx, tx, r.ID, r.Recipients); err != nil {
		return err
	}
	return notify(ctx, tx, r)
}

func setRecipients(ctx context.Context, tx *sqlx.Tx, id int64, people []Person) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM reminder_recipients WHERE reminder_id = ?", id); err != nil {
		return fmt.Errorf("reminder: clear recipients: %w", err)
	}
	if len(people) == 0 {
		return nil
	}
	rows := make([]string, len(people))
	args := make([]any, 0, 2*len(people))
	for i, p := range people {
		rows[i] = "(?, ?)"
		args = append(args, id, p.ID)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO reminder_recipients (reminder_id, user_id) VALUES "+strings.Join(rows, ", "), args...); err != nil {
		return fmt.Errorf("reminder: recipients: %w", err)
	}
	return nil
}

// keyPrefix is the outbox dedup-key prefix of a reminder's notifications.
func keyPrefix(id int64) string { return fmt.Sprintf("reminder:%d:", id) }

// notify withdraws the reminder's waiting notifications and, while it is
// pending, enqueues one per recipient for its time. The version in the key
// makes every state of the reminder a distinct notification.
func notify(ctx context.Context, tx *sqlx.Tx, r *Reminder) error {
	if err := outbox.CancelPending(ctx, tx, keyPrefix(r.ID)); err != nil {
		return err
	}
	if r.Status != "pending" {
		return nil
	}
	title := r.CustomerName
	url := fmt.Sprintf("#/customers/%d", r.CustomerID)
	if r.OpportunityID != nil {
		url = fmt.Sprintf("#/opportunities/%d", *r.OpportunityID)
		if r.OpportunityName != "" {
			title += " · " + r.OpportunityName
		}
	}
	msgs := make([]outbox.Message, len(r.Recipients))
	for i, p := range r.Recipients {
		msgs[i] = outbox.Message{UserID: p.ID, Kind: outbox.KindReminder, Title: title, Body: r.Content,
			URL: url, CustomerID: r.CustomerID, DueAt: r.RemindAt,
			DedupKey: fmt.Sprintf("%sv%d:u%d", keyPrefix(r.ID), r.Version, p.ID)}
	}
	return outbox.Enqueue(ctx, tx, msgs...)
}
