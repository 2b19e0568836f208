package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
)

// TestDevLoginOnlyWhenSimulated: with a real DingTalk configured, the
// simulated organization's picker and login do not exist (404), so nobody
// can sign in as anyone by naming a userid.
func TestDevLoginOnlyWhenSimulated(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Options{})
	defer fake.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DingTalk.Mode = "real"
	cfg.DingTalk.AppKey, cfg.DingTalk.AppSecret = fake.AppKey(), fake.AppSecret()
	cfg.DingTalk.OAPIBaseURL, cfg.DingTalk.APIBaseURL, cfg.DingTalk.LoginBaseURL = fake.URL(), fake.URL(), fake.URL()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/auth/dev-users", ""},
		{"POST", "/api/v1/auth/dev-login", `{"userid":"sim_admin"}`},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s %s in real mode: %d, want 404", r.method, r.path, resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "crm_session" {
				t.Errorf("%s %s set a session cookie in real mode", r.method, r.path)
			}
		}
	}
}
