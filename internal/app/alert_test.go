package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
)

// TestQuotaSpentAlertsAdmins: when DingTalk answers that the month's call
// quota is spent (90020), the operation log gets an alert admins can see.
func TestQuotaSpentAlertsAdmins(t *testing.T) {
	a := embeddedApp(t)
	a.FakeDingTalk.FailNext("topapi/user/listadmin", 90020, 1)
	if _, err := a.DingTalk.ListAdmins(context.Background()); err == nil {
		t.Fatal("the fake answered past a spent quota")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		a.DB.Get(&n, "SELECT COUNT(*) FROM audit_log WHERE action = 'alert' AND entity = 'dingtalk' AND entity_name = 'quota_exhausted'")
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d quota alerts in the operation log, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// embeddedApp starts the app on its embedded default (SQLite in a fresh
// folder, the simulated organization) and closes it when the test ends.
func embeddedApp(t *testing.T) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	a, err := app.New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
