package app

import (
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/reminder"
)

// wireOutbox builds the reminders and the notification dispatcher. Without
// DingTalk credentials (and outside the simulated mode) notifications stay
// in the in-app inbox. Quiet hours are the default 22:00–08:00 in the
// company zone until company settings provide them (outbox.QuietHours).
func (a *App) wireOutbox() {
	a.Reminders = reminder.NewService(a.DB, a.cfg.Location())
	o := outbox.Options{DB: a.DB, Location: a.cfg.Location(), BaseURL: a.cfg.DingTalk.PublicURL,
		Prepare: a.Reminders.RollDue, Log: a.log}
	if a.DingTalk != nil && (a.cfg.Simulated() || a.cfg.DingTalk.AppKey != "") {
		o.DingTalk, o.Usage = a.DingTalk, a.DingTalk.Usage
	}
	a.Outbox = outbox.NewDispatcher(o)
}
