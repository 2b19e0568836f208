package main

import (
	"context"
	"time"

	"github.com/dingcrm/crm/internal/app"
)

// The notification jobs (internal/outbox, internal/reminder): send what is
// due, check what DingTalk did with it, and the morning digest.
func init() {
	jobs["dispatch-reminders"] = func(ctx context.Context, a *app.App) (string, error) {
		return a.Outbox.Dispatch(ctx)
	}
	jobs["check-send-results"] = func(ctx context.Context, a *app.App) (string, error) {
		return a.Outbox.CheckSendResults(ctx)
	}
	jobs["morning-digest"] = func(ctx context.Context, a *app.App) (string, error) {
		return a.Reminders.MorningDigest(ctx, time.Now())
	}
}
