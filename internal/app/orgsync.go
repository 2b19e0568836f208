package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/pool"
)

// openOrgSync builds the organization sync. In simulated mode without a
// configured event subscription it makes up a token and AES key, which
// SubscribeFakeEvents hands to the fake platform.
func (a *App) openOrgSync() error {
	d := a.cfg.DingTalk
	token, key := d.CallbackToken, d.AESKey
	owners := []string{a.DingTalk.AppKey(), d.CorpID}
	if a.cfg.Simulated() {
		if a.FakeDingTalk != nil { // else the external fake's, in d (externalFake)
			owners[1] = a.FakeDingTalk.CorpID()
		}
		if token == "" || key == "" {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			token, key = hex.EncodeToString(b), dingtalk.GenerateAESKey()
		}
	}
	loader := auth.NewLoader(a.DB)
	svc, err := orgsync.New(orgsync.Deps{
		DB: a.DB, DingTalk: a.DingTalk, KV: a.KV,
		Sessions: auth.NewSessions(a.DB, a.KV, a.cfg.Session.TTL, a.log),
		People:   loader, Pool: pool.NewService(a.DB, loader),
	}, orgsync.Options{LeaverCustomers: d.LeaverCustomers, CallbackToken: token, CallbackAESKey: key,
		Notifier:  &orgsync.WorkNoticeNotifier{DB: a.DB, Log: a.log},
		OwnerKeys: owners, Logger: a.log})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	a.OrgSync = svc
	svc.Resume(context.Background())
	return nil
}

// SubscribeFakeEvents points the simulated platform's event pushes at the
// CRM listening at baseURL (e.g. "http://127.0.0.1:8080"), with the CRM's
// token and AES key: from then on an edit of the fake organization reaches
// POST /dingtalk/events like DingTalk's own pushes. The listener's address
// is known only once it listens, hence this call after Serve's ready (or,
// in tests, after httptest.NewServer).
func (a *App) SubscribeFakeEvents(baseURL string) error {
	if a.FakeDingTalk == nil && a.cfg.Simulated() {
		return nil // a fake in another process: whoever runs it subscribes the CRM
	}
	if a.FakeDingTalk == nil {
		return errors.New("app: not in simulated mode")
	}
	token, key := a.OrgSync.CallbackSettings()
	a.FakeDingTalk.SetCallback(&dingtalktest.Callback{URL: strings.TrimRight(baseURL, "/") + "/dingtalk/events",
		Token: token, AESKey: key})
	return nil
}
