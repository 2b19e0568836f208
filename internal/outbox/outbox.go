// Package outbox is the transactional outbox of notifications: a change
// writes its notifications as rows in its own transaction (Enqueue), and a
// Dispatcher later merges a person's due rows into one DingTalk work
// notification and one in-app inbox entry, sends it, checks what DingTalk
// did with it, and retries or gives up with an alert. Several dispatchers
// may run at once: they share the work through leases in the database.
package outbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// Kinds of messages. A digest always travels alone and is the one kind
// still sent to DingTalk when the monthly call quota runs low.
const (
	KindReminder = "reminder"
	KindDigest   = "digest"
	KindNotice   = "notice"
)

// Message is one notification to one person.
type Message struct {
	UserID     int64
	Kind       string
	Title      string
	Body       string // markdown
	URL        string // a path inside the micro-app, e.g. "#/customers/42"
	CustomerID int64
	// DedupKey is unique: a second Enqueue with the same key is a no-op.
	DedupKey string
	// DueAt is when the message may go out; zero means now.
	DueAt time.Time
}

// Message statuses.
const (
	msgPending   = "pending"
	msgBatched   = "batched"
	msgCancelled = "cancelled"
)

// Enqueue writes msgs inside tx, the transaction of the change that causes
// them, so a notification exists exactly when its cause was committed.
// A message whose DedupKey is already there is skipped.
func Enqueue(ctx context.Context, tx *sqlx.Tx, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	now := store.Now()
	mysql := tx.DriverName() == "mysql"
	for start := 0; start < len(msgs); start += 200 {
		part := msgs[start:min(start+200, len(msgs))]
		rows := make([]string, len(part))
		args := make([]any, 0, len(part)*10)
		for i, m := range part {
			if err := m.check(); err != nil {
				return err
			}
			due := m.DueAt
			if due.IsZero() {
				due = now
			}
			kind := m.Kind
			if kind == "" {
				kind = KindNotice
			}
			rows[i] = "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)"
			args = append(args, m.UserID, kind, cut(m.Title, 200), m.Body, cut(m.URL, 500), m.CustomerID,
				m.DedupKey, due.UTC().Truncate(time.Millisecond), now)
		}
		q := `INSERT INTO outbox_messages (user_id, kind, title, body, url, customer_id, dedup_key, due_at, status, created_at)
			VALUES ` + strings.Join(rows, ", ")
		if mysql {
			q += " ON DUPLICATE KEY UPDATE id = id"
		} else {
			q += " ON CONFLICT (dedup_key) DO NOTHING"
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("outbox: enqueue: %w", err)
		}
	}
	return nil
}

func (m Message) check() error {
	switch {
	case m.UserID <= 0:
		return fmt.Errorf("outbox: message %q has no recipient", m.DedupKey)
	case m.DedupKey == "" || len(m.DedupKey) > 191:
		return fmt.Errorf("outbox: message to %d needs a dedup key of 1–191 bytes", m.UserID)
	}
	return nil
}

// CancelPending withdraws the messages whose dedup key starts with prefix
// and that no dispatcher has taken yet (e.g. a reminder snoozed, done or
// cancelled before it fell due). It runs in the caller's transaction.
func CancelPending(ctx context.Context, tx *sqlx.Tx, prefix string) error {
	_, err := tx.ExecContext(ctx, `UPDATE outbox_messages SET status = 'cancelled'
		WHERE status = 'pending' AND dedup_key LIKE ? ESCAPE '!'`, store.EscapeLike(prefix)+"%")
	if err != nil {
		return fmt.Errorf("outbox: cancel %q: %w", prefix, err)
	}
	return nil
}

// cut shortens s to at most n characters.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
