package app

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/chatbot"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/summary"
)

// outboxNotifier queues the summaries' work notifications in the outbox
// (one transaction per batch; the dedup keys make a rerun a no-op).
type outboxNotifier struct{ db *store.DB }

func (n outboxNotifier) Notify(ctx context.Context, notices []summary.Notice) error {
	msgs := make([]outbox.Message, len(notices))
	for i, x := range notices {
		msgs[i] = outbox.Message{UserID: x.UserID, Kind: outbox.KindNotice, Title: x.Title, Body: x.Body, URL: x.URL,
			DedupKey: x.DedupKey, DueAt: x.DueAt}
	}
	return n.db.WithTx(ctx, func(tx *sqlx.Tx) error { return outbox.Enqueue(ctx, tx, msgs...) })
}

// botReminders gives the chat bot the reminders module: 提醒 creates a
// reminder for the writer, 今日 lists the writer's reminders of today.
type botReminders struct{ svc *reminder.Service }

func (b botReminders) Add(ctx context.Context, a *auth.Actor, customerID int64, at time.Time, text string) error {
	when := at.UTC().Format(time.RFC3339)
	_, err := b.svc.Create(ctx, *a, reminder.Input{CustomerID: &customerID, RemindAt: &when, Content: &text})
	return err
}

func (b botReminders) Today(ctx context.Context, a *auth.Actor, _ time.Time) ([]chatbot.Reminder, error) {
	rs, err := b.svc.ListMine(ctx, *a, "today")
	if err != nil {
		return nil, err
	}
	out := make([]chatbot.Reminder, len(rs))
	for i, r := range rs {
		out[i] = chatbot.Reminder{At: r.RemindAt, Customer: r.CustomerName, Text: r.Content, Done: r.Status == "done"}
	}
	return out, nil
}
