package app

import (
	"context"
	"time"

	"github.com/dingcrm/crm/internal/metrics"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/reminder"
	"github.com/dingcrm/crm/internal/store"
)

// wireOutbox builds the reminders and the notification dispatcher. Without
// DingTalk credentials (and outside the simulated mode) notifications stay
// in the in-app inbox. Quiet hours come from the company settings (系统设置),
// read on every dispatch so a change applies at once on every instance.
func (a *App) wireOutbox() {
	a.Reminders = reminder.NewService(a.DB, a.zone)
	o := outbox.Options{DB: a.DB, Location: a.cfg.Location(), BaseURL: a.cfg.DingTalk.PublicURL,
		Prepare: a.Reminders.RollDue, Log: a.log, Quiet: outbox.QuietFunc(a.quietHours)}
	if a.DingTalk != nil && (a.cfg.Simulated() || a.cfg.DingTalk.AppKey != "") {
		o.DingTalk, o.Usage = a.DingTalk, a.DingTalk.Usage
	}
	a.Outbox = outbox.NewDispatcher(o)
	metrics.SetOutbox(func() (int64, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, age, err := outbox.Backlog(ctx, a.DB, store.Now())
		if err != nil {
			a.log.Warn("metrics: outbox backlog", "err", err)
		}
		return n, age
	})
}

// quietHours is the company's quiet hours; if the settings cannot be read it
// falls back to the default 22:00–08:00 rather than sending at night.
func (a *App) quietHours(now time.Time) (bool, time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := a.settings.Company(ctx)
	if err != nil {
		return outbox.DefaultQuietHours(a.cfg.Location()).Quiet(now)
	}
	return c.InQuiet(now)
}
