package reminder

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Service is what handlers, jobs and the chat bot call for reminders.
type Service struct {
	db        *store.DB
	customers *customer.Store
	loc       *time.Location
	now       func() time.Time
}

// NewService wires the reminder service; loc is the company time zone
// (today / overdue / upcoming, repeats).
func NewService(db *store.DB, loc *time.Location) *Service {
	if loc == nil {
		loc = time.Local
	}
	return &Service{db: db, customers: customer.NewStore(db), loc: loc, now: store.Now}
}

// ListMine returns the pending reminders the Actor receives: when is
// "today" (due today), "overdue" (due before now), "upcoming" (due from now
// on), "" (all pending) or "all" (every status).
func (s *Service) ListMine(ctx context.Context, actor auth.Actor, when string) ([]Reminder, error) {
	return s.List(ctx, actor, Filter{When: when})
}

// List is ListMine with filters on a customer or an opportunity.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) ([]Reminder, error) {
	if err := actor.Require(PermView); err != nil {
		return nil, err
	}
	if !slices.Contains(Whens, f.When) {
		return nil, errs.InvalidField("when", "validation.not_an_option")
	}
	return list(ctx, s.db, &actor, f, s.now(), s.loc)
}

// Get returns one reminder the Actor sees.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (Reminder, error) {
	if err := actor.Require(PermView); err != nil {
		return Reminder{}, err
	}
	r, err := get(ctx, s.db, &actor, id)
	if err != nil {
		return Reminder{}, err
	}
	return *r, nil
}

// Create sets a reminder on a customer the Actor sees (and optionally one
// of its opportunities), for the Actor or, with reminder.assign, for people
// in the Actor's scope. Its notifications are enqueued in the same
// transaction.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in Input) (Reminder, error) {
	a := &actor
	if err := a.Require(PermCreate); err != nil {
		return Reminder{}, err
	}
	now := s.now()
	r := &Reminder{Status: "pending", Source: SourceManual, Repeat: "none", OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID,
		CreatedAt: now, UpdatedAt: now}
	var v errs.Invalid
	for field, missing := range map[string]bool{"customer_id": in.CustomerID == nil, "remind_at": in.RemindAt == nil, "content": in.Content == nil} {
		if missing {
			v.Add(field, "validation.required")
		}
	}
	if in.RecipientIDs == nil {
		in.RecipientIDs = &[]int64{a.UserID}
	}
	if in.CustomerID != nil {
		r.CustomerID = *in.CustomerID
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.apply(ctx, tx, a, &v, r, in, now); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := insert(ctx, tx, r, nil, nil); err != nil {
			return err
		}
		return record(ctx, tx, a, audit.ActCreate, r, audit.Diff(nil, r.auditFields()))
	})
	if err != nil {
		return Reminder{}, err
	}
	return s.Get(ctx, actor, r.ID)
}

// apply validates in against r (customer, opportunity, time, content,
// repeat, recipients) and writes the set fields onto r.
func (s *Service) apply(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, v *errs.Invalid, r *Reminder, in Input, now time.Time) error {
	if in.CustomerID != nil {
		switch {
		case *in.CustomerID < 1:
			v.Add("customer_id", "validation.number")
		default:
			name, ok, err := s.customers.VisibleName(ctx, x, a, *in.CustomerID)
			if err != nil {
				return err
			}
			if !ok {
				v.Add("customer_id", "customer.not_found")
			}
			r.CustomerID, r.CustomerName = *in.CustomerID, name
		}
	}
	if in.OpportunityID.Set {
		r.OpportunityID, r.OpportunityName = in.OpportunityID.Value, ""
		if p := in.OpportunityID.Value; p != nil && !v.Has("customer_id") {
			var o struct {
				CustomerID int64  `db:"customer_id"`
				Title      string `db:"title"`
			}
			err := sqlx.GetContext(ctx, x, &o, "SELECT customer_id, title FROM opportunities WHERE id = ? AND deleted_at IS NULL", *p)
			switch {
			case store.IsNoRows(err) || err == nil && o.CustomerID != r.CustomerID:
				v.Add("opportunity_id", "reminder.opportunity_other")
			case err != nil:
				return fmt.Errorf("reminder: opportunity: %w", err)
			}
			r.OpportunityName = o.Title
		}
	}
	if in.RemindAt != nil {
		if t, ok := v.Time("remind_at", *in.RemindAt, "reminder.bad_time"); ok {
			r.RemindAt = t
		}
	}
	if in.Content != nil {
		r.Content = strings.TrimSpace(*in.Content)
		switch {
		case r.Content == "":
			v.Add("content", "validation.required")
		case utf8.RuneCountInString(r.Content) > maxContent:
			v.Add("content", "validation.too_long", "max", maxContent)
		case strings.IndexFunc(r.Content, func(c rune) bool { return unicode.IsControl(c) && c != '\n' && c != '\t' }) >= 0:
			v.Add("content", "validation.control_chars")
		}
	}
	if in.Repeat != nil {
		r.Repeat = *in.Repeat
		if !slices.Contains(Repeats, r.Repeat) {
			v.Add("repeat", "validation.not_an_option")
		}
	}
	if in.RecipientIDs != nil {
		people, err := s.recipients(ctx, x, a, v, *in.RecipientIDs)
		if err != nil {
			return err
		}
		r.Recipients = people
	}
	return nil
}

// recipients checks the chosen people: the Actor alone needs nothing more;
// anyone else needs reminder.assign, and must be active and in the Actor's
// data scope (a department it reaches).
func (s *Service) recipients(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, v *errs.Invalid, ids []int64) ([]Person, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		v.Add("recipient_ids", "validation.required")
		return nil, nil
	case len(ids) > maxRecipients:
		v.Add("recipient_ids", "validation.too_many", "max", maxRecipients)
		return nil, nil
	}
	var people []struct {
		ID     int64  `db:"id"`
		Name   string `db:"name"`
		Active bool   `db:"active"`
	}
	if err := sqlx.SelectContext(ctx, x, &people, "SELECT id, name, active FROM users WHERE id IN ("+store.Placeholders(len(ids))+") ORDER BY id",
		store.Int64Args(ids)...); err != nil {
		return nil, fmt.Errorf("reminder: recipients: %w", err)
	}
	if len(people) != len(ids) {
		v.Add("recipient_ids", "validation.unknown_ref")
		return nil, nil
	}
	out := make([]Person, 0, len(people))
	for _, p := range people {
		out = append(out, Person{ID: p.ID, Name: p.Name})
		if p.ID == a.UserID {
			continue
		}
		if !a.Can(PermAssign) {
			v.Add("recipient_ids", "reminder.cannot_assign")
			return nil, nil
		}
		if !p.Active {
			v.Add("recipient_ids", "validation.owner_inactive")
			return nil, nil
		}
		ok, err := s.inScope(ctx, x, a, p.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			v.Add("recipient_ids", "validation.owner_out_of_scope")
			return nil, nil
		}
	}
	return out, nil
}

func (s *Service) inScope(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, uid int64) (bool, error) {
	if a.Scope == auth.ScopeAll {
		return true, nil
	}
	if len(a.ScopeDeptIDs) == 0 || a.Scope == auth.ScopeSelf {
		return false, nil
	}
	var n int
	err := sqlx.GetContext(ctx, x, &n, "SELECT COUNT(*) FROM user_departments WHERE user_id = ? AND department_id IN ("+
		store.Placeholders(len(a.ScopeDeptIDs))+")", append([]any{uid}, store.Int64Args(a.ScopeDeptIDs)...)...)
	if err != nil {
		return false, fmt.Errorf("reminder: scope of %d: %w", uid, err)
	}
	return n > 0, nil
}

// Update applies a partial edit to a pending reminder if the Actor saw the
// latest version. The customer is fixed.
func (s *Service) Update(ctx context.Context, actor auth.Actor, id int64, in Input) (Reminder, error) {
	if err := actor.Require(PermEdit); err != nil {
		return Reminder{}, err
	}
	if in.Version == nil {
		return Reminder{}, errs.InvalidField("version", "validation.required")
	}
	return s.change(ctx, actor, id, in.Version, func(tx *sqlx.Tx, r *Reminder) error {
		var v errs.Invalid
		if in.CustomerID != nil && *in.CustomerID != r.CustomerID {
			v.Add("customer_id", "reminder.customer_fixed")
		}
		in.CustomerID = nil
		if err := s.apply(ctx, tx, &actor, &v, r, in, s.now()); err != nil {
			return err
		}
		return v.Err()
	})
}

// Done marks a reminder done; a repeating one gets its next occurrence.
func (s *Service) Done(ctx context.Context, actor auth.Actor, id int64) (Reminder, error) {
	if err := actor.Require(PermEdit); err != nil {
		return Reminder{}, err
	}
	return s.change(ctx, actor, id, nil, func(tx *sqlx.Tx, r *Reminder) error {
		now := s.now()
		r.Status, r.DoneAt = "done", &now
		return s.roll(ctx, tx, r, now)
	})
}

// Cancel cancels a pending reminder (and, for a repeating one, the series).
func (s *Service) Cancel(ctx context.Context, actor auth.Actor, id int64) (Reminder, error) {
	if err := actor.Require(PermDelete); err != nil {
		return Reminder{}, err
	}
	return s.change(ctx, actor, id, nil, func(tx *sqlx.Tx, r *Reminder) error {
		r.Status = "cancelled"
		return nil
	})
}

// Snooze moves a pending reminder to a later time.
func (s *Service) Snooze(ctx context.Context, actor auth.Actor, id int64, in SnoozeInput) (Reminder, error) {
	if err := actor.Require(PermEdit); err != nil {
		return Reminder{}, err
	}
	now := s.now()
	var v errs.Invalid
	var until time.Time
	switch {
	case in.Until != nil && in.Minutes != nil:
		v.Add("until", "reminder.snooze_one")
	case in.Until != nil:
		if t, ok := v.Time("until", *in.Until, "reminder.bad_time"); ok {
			if !t.After(now) {
				v.Add("until", "reminder.snooze_future")
			}
			until = t
		}
	case in.Minutes != nil:
		if *in.Minutes < 1 || *in.Minutes > maxSnooze {
			v.Add("minutes", "validation.number")
		}
		until = now.Add(time.Duration(*in.Minutes) * time.Minute)
	default:
		v.Add("minutes", "validation.required")
	}
	if err := v.Err(); err != nil {
		return Reminder{}, err
	}
	return s.change(ctx, actor, id, nil, func(tx *sqlx.Tx, r *Reminder) error {
		r.RemindAt = until
		return nil
	})
}

// change runs one edit of a pending reminder under its row lock: fn
// changes r; the row, recipients, notifications and audit entry follow.
func (s *Service) change(ctx context.Context, actor auth.Actor, id int64, version *int, fn func(tx *sqlx.Tx, r *Reminder) error) (Reminder, error) {
	a := &actor
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE reminders SET version = version WHERE id = ?", id); err != nil {
			return fmt.Errorf("reminder: lock %d: %w", id, err)
		}
		r, err := get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if version != nil && *version != r.Version {
			return ErrStale
		}
		if r.Status != "pending" {
			return ErrClosed
		}
		before := *r
		if err := fn(tx, r); err != nil {
			return err
		}
		changes := audit.Diff(before.auditFields(), r.auditFields())
		if len(changes) == 0 {
			return nil
		}
		r.UpdatedAt = s.now()
		r.Version++
		if err := save(ctx, tx, r); err != nil {
			return err
		}
		action := audit.ActUpdate
		switch {
		case r.Status == "done":
			action = "done"
		case r.Status == "cancelled":
			action = "cancel"
		case !before.RemindAt.Equal(r.RemindAt) && len(changes) == 1:
			action = "snooze"
		}
		return record(ctx, tx, a, action, r, changes)
	})
	if err != nil {
		return Reminder{}, err
	}
	return s.Get(ctx, actor, id)
}

// save writes r's fields, recipients and notifications.
func save(ctx context.Context, tx *sqlx.Tx, r *Reminder) error {
	_, err := tx.ExecContext(ctx, `UPDATE reminders SET opportunity_id = ?, remind_at = ?, content = ?, repeat_rule = ?,
		status = ?, done_at = ?, rolled = ?, updated_at = ?, version = ?,
		followup_key = CASE WHEN ? = 'pending' THEN followup_key ELSE NULL END WHERE id = ?`,
		r.OpportunityID, r.RemindAt, r.Content, r.Repeat, r.Status, r.DoneAt, r.Rolled, r.UpdatedAt, r.Version, r.Status, r.ID)
	if err != nil {
		return fmt.Errorf("reminder: update %d: %w", r.ID, err)
	}
	if err := setRecipients(ctx, tx, r.ID, r.Recipients); err != nil {
		return err
	}
	return notify(ctx, tx, r)
}

func record(ctx context.Context, tx *sqlx.Tx, a *auth.Actor, action string, r *Reminder, changes map[string]audit.Change) error {
	return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: action, Entity: "reminder", EntityID: r.ID,
		EntityName: cut(r.Content, 60), CustomerID: r.CustomerID, Changes: changes})
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Recipients lists the people the Actor may remind: themself, and with
// reminder.assign the active people of their data scope (everyone for
// ScopeAll), by name.
func (s *Service) Recipients(ctx context.Context, actor auth.Actor) ([]Person, error) {
	a := &actor
	if err := a.Require(PermCreate); err != nil {
		return nil, err
	}
	q := "SELECT id, name FROM users WHERE id = ?"
	args := []any{a.UserID}
	switch {
	case !a.Can(PermAssign):
	case a.Scope == auth.ScopeAll:
		q = "SELECT id, name FROM users WHERE active = 1 OR id = ?"
	case a.Scope != auth.ScopeSelf && len(a.ScopeDeptIDs) > 0:
		q = `SELECT id, name FROM users WHERE id = ? OR (active = 1 AND id IN (SELECT user_id FROM user_departments
			WHERE department_id IN (` + store.Placeholders(len(a.ScopeDeptIDs)) + ")))"
		args = append(args, store.Int64Args(a.ScopeDeptIDs)...)
	}
	out := []Person{}
	if err := s.db.SelectContext(ctx, &out, q+" ORDER BY id LIMIT 2000", args...); err != nil {
		return nil, fmt.Errorf("reminder: recipients: %w", err)
	}
	return out, nil
}
