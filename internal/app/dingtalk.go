package app

import (
	"cmp"
	"context"
	"net/url"
	"strings"

	"fmt"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/dtcalls"
	"github.com/dingcrm/crm/internal/metrics"
	"strconv"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// openDingTalk builds the DingTalk client. In simulated mode the fake
// DingTalk platform runs inside this process, loaded with the simulated
// organization, and the client talks to it over loopback exactly as it
// would to DingTalk: the org sync, logins and notifications all take their
// real code paths.
//
// In simulated mode with dingtalk.oapi_base_url set, the fake runs
// elsewhere instead (cmd/crmload's fault run serves one fake to several
// instances, so deliveries can be counted across them and the platform can
// be taken down): the client talks to that URL with the fake's default
// credentials unless others are configured.
func (a *App) openDingTalk() error {
	var opts dingtalk.Options
	if a.cfg.Simulated() && a.cfg.DingTalk.OAPIBaseURL != "" {
		a.cfg.DingTalk = externalFake(a.cfg.DingTalk)
	}
	if a.cfg.Simulated() && a.cfg.DingTalk.OAPIBaseURL == "" {
		a.FakeDingTalk = dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg(), Logger: a.log})
		opts = a.FakeDingTalk.ClientOptions()
	} else {
		agent, err := strconv.ParseInt(a.cfg.DingTalk.AgentID, 10, 64)
		if err != nil && a.cfg.DingTalk.AgentID != "" {
			return fmt.Errorf("app: dingtalk agent_id %q is not a number", a.cfg.DingTalk.AgentID)
		}
		d := a.cfg.DingTalk
		opts = dingtalk.Options{AppKey: d.AppKey, AppSecret: d.AppSecret, AgentID: agent, CorpID: d.CorpID,
			OAPIBaseURL: d.OAPIBaseURL, APIBaseURL: d.APIBaseURL, LoginBaseURL: d.LoginBaseURL}
	}
	opts.KV = a.KV
	opts.Counter = dtcalls.New(a.DB)
	opts.OnAlert = a.dingTalkAlert
	opts.QPS = a.cfg.DingTalk.QPS
	opts.Logger = a.log
	opts.Observe = metrics.DingTalkCall
	c, err := dingtalk.New(opts)
	if err != nil {
		return fmt.Errorf("app: dingtalk client: %w", err)
	}
	a.DingTalk = c
	return nil
}

// externalFake fills what a fake DingTalk in another process needs and the
// configuration left empty: its default credentials, and its one URL for
// every host.
func externalFake(d config.DingTalk) config.DingTalk {
	d.AppKey = cmp.Or(d.AppKey, dingtalktest.DefaultAppKey)
	d.AppSecret = cmp.Or(d.AppSecret, dingtalktest.DefaultAppSecret)
	d.CorpID = cmp.Or(d.CorpID, dingtalktest.DefaultCorpID)
	d.AgentID = cmp.Or(d.AgentID, strconv.Itoa(dingtalktest.DefaultAgentID))
	d.APIBaseURL = cmp.Or(d.APIBaseURL, d.OAPIBaseURL)
	d.LoginBaseURL = cmp.Or(d.LoginBaseURL, d.OAPIBaseURL)
	return d
}

// dingTalkAlert puts what an admin must act on (the monthly call quota spent,
// this server's IP banned) into the operation log, where admins look, and
// the error log. It runs in its own goroutine: the client must not block.
func (a *App) dingTalkAlert(ctx context.Context, al dingtalk.Alert) {
	a.log.Error("dingtalk alert: an admin must act", "kind", al.Kind, "api", al.API, "err", al.Err)
	go func() {
		detail := ""
		if al.Err != nil {
			detail = al.Err.Error()
		}
		err := audit.Record(context.WithoutCancel(ctx), a.DB, audit.Who{Name: "system"}, audit.Entry{
			Action: "alert", Entity: "dingtalk", EntityName: string(al.Kind),
			Changes: map[string]audit.Change{"api": {New: al.API}, "error": {New: detail}},
		})
		if err != nil {
			a.log.Error("dingtalk alert not recorded", "err", err)
		}
	}()
}

// robotSecret is the AppSecret that signs the robot's HTTP callbacks (the
// fake platform's in simulated mode).
func (a *App) robotSecret() string {
	if a.FakeDingTalk != nil {
		return a.FakeDingTalk.ClientOptions().AppSecret
	}
	return a.cfg.DingTalk.AppSecret
}

// robotWebhookAllowed accepts a robot message's sessionWebhook only on
// DingTalk's own HTTPS hosts (on the fake platform in simulated mode), so
// a reply is never posted elsewhere even if a message were forged.
func (a *App) robotWebhookAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if a.FakeDingTalk != nil {
		return strings.HasPrefix(raw, a.FakeDingTalk.URL()+"/")
	}
	base, err := url.Parse(cmp.Or(a.cfg.DingTalk.OAPIBaseURL, dingtalk.DefaultOAPIBaseURL))
	if err == nil && u.Scheme == base.Scheme && u.Host == base.Host {
		return true
	}
	return u.Scheme == "https" && (u.Hostname() == "dingtalk.com" || strings.HasSuffix(u.Hostname(), ".dingtalk.com"))
}
