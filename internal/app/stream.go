package app

import (
	"cmp"

	"github.com/dingcrm/crm/dingtalk"
)

// startStream starts the Stream-mode transport of contact events when
// dingtalk.transport is stream: an outbound WebSocket to DingTalk's gateway
// (no public URL needed) whose events go through the same intake as
// POST /dingtalk/events (stored once per event id, applied by the event
// worker). In simulated mode it connects to the in-process fake platform,
// which then delivers its organization's changes over Stream instead of
// the HTTP callback. The chat bot's messages (CALLBACK topic
// /v1.0/im/bot/messages/get) arrive on the same connection and are
// answered like POST /dingtalk/robot's. The connection reconnects with backoff and lives
// until App.Close (OrgSync.Close closes it and waits for it). A failure to
// start is logged, not fatal: the nightly sync still catches up.
func (a *App) startStream() {
	if a.cfg.DingTalk.Transport != "stream" || a.OrgSync == nil {
		return
	}
	d := a.cfg.DingTalk
	o := dingtalk.StreamOptions{ClientID: d.AppKey, ClientSecret: d.AppSecret, BaseURL: d.APIBaseURL, Logger: a.log}
	if a.Bot != nil {
		// The chat bot's messages come over the same connection.
		o.Callbacks = map[string]dingtalk.StreamCallback{dingtalk.StreamTopicBotMessage: a.Bot.HandleJSON}
	}
	if a.FakeDingTalk != nil {
		co := a.FakeDingTalk.ClientOptions()
		o.ClientID, o.ClientSecret, o.BaseURL = co.AppKey, co.AppSecret, co.APIBaseURL
	}
	if _, err := a.OrgSync.StartStream(o); err != nil {
		a.log.Error("dingtalk stream transport not started: contact events will not arrive; `crm sync-org` catches up",
			"err", err)
		return
	}
	a.log.Info("dingtalk stream transport started", "gateway", cmp.Or(o.BaseURL, dingtalk.DefaultAPIBaseURL))
}
