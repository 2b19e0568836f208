package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// ErrNotFound: no such inbox entry of the person.
var ErrNotFound = errs.NotFound("inbox.not_found")

// Entry is one in-app inbox entry: a batch exactly as DingTalk received it
// (or would have: inbox-only batches), with its delivery state.
type Entry struct {
	ID         int64      `json:"id" db:"id"`
	Kind       string     `json:"kind" db:"kind"`
	Title      string     `json:"title" db:"title"`
	Body       string     `json:"body" db:"body"`
	URL        string     `json:"url" db:"url"`
	CustomerID int64      `json:"customer_id" db:"customer_id"`
	Items      int        `json:"items" db:"items"`
	Status     string     `json:"status" db:"status"`
	Reason     string     `json:"reason" db:"reason"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	SentAt     *time.Time `json:"sent_at" db:"sent_at"`
	ReadAt     *time.Time `json:"read_at" db:"read_at"`
}

// Inbox is the in-app inbox (消息): every person's own batches.
type Inbox struct{ db *store.DB }

// NewInbox returns the inbox service.
func NewInbox(db *store.DB) *Inbox { return &Inbox{db: db} }

// List returns a page of the Actor's entries, newest first, the total and
// the unread count.
func (s *Inbox) List(ctx context.Context, a *auth.Actor, unreadOnly bool, page, size int) ([]Entry, int, int, error) {
	if a == nil {
		return nil, 0, 0, errs.ErrUnauthorized
	}
	cond := "user_id = ?"
	if unreadOnly {
		cond += " AND read_at IS NULL"
	}
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM outbox_batches WHERE "+cond, a.UserID); err != nil {
		return nil, 0, 0, fmt.Errorf("inbox: count: %w", err)
	}
	unread, err := s.Unread(ctx, a)
	if err != nil {
		return nil, 0, 0, err
	}
	out := []Entry{}
	err = s.db.SelectContext(ctx, &out, `SELECT id, kind, title, body, url, customer_id, items, status, reason, created_at,
		sent_at, read_at FROM outbox_batches WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`, a.UserID, size, (page-1)*size)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("inbox: list: %w", err)
	}
	return out, total, unread, nil
}

// Unread counts the Actor's unread entries (the shell's badge).
func (s *Inbox) Unread(ctx context.Context, a *auth.Actor) (int, error) {
	if a == nil {
		return 0, errs.ErrUnauthorized
	}
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM outbox_batches WHERE user_id = ? AND read_at IS NULL", a.UserID); err != nil {
		return 0, fmt.Errorf("inbox: unread: %w", err)
	}
	return n, nil
}

// MarkRead marks one of the Actor's entries read (id 0: all of them).
func (s *Inbox) MarkRead(ctx context.Context, a *auth.Actor, id int64) error {
	if a == nil {
		return errs.ErrUnauthorized
	}
	now := store.Now()
	if id == 0 {
		_, err := s.db.ExecContext(ctx, "UPDATE outbox_batches SET read_at = ? WHERE user_id = ? AND read_at IS NULL", now, a.UserID)
		return err
	}
	var owner int64
	err := s.db.GetContext(ctx, &owner, "SELECT user_id FROM outbox_batches WHERE id = ?", id)
	if store.IsNoRows(err) || err == nil && owner != a.UserID {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("inbox: read %d: %w", id, err)
	}
	_, err = s.db.ExecContext(ctx, "UPDATE outbox_batches SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL", now, id, a.UserID)
	return err
}
