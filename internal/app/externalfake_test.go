package app_test

import (
	"context"
	"testing"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/settings"
)

// TestSimulatedWithExternalFake: in simulated mode with
// dingtalk.oapi_base_url set, the CRM starts no fake of its own and talks
// to the one at that URL with the fake's default credentials — the org
// sync reads its organization and the dispatcher's work notifications land
// in its record (so a fault run can count deliveries across instances).
// Without the URL the in-process fake runs as before.
func TestSimulatedWithExternalFake(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	defer fake.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DingTalk.OAPIBaseURL = fake.URL()
	ctx := context.Background()
	a, err := app.New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.FakeDingTalk != nil {
		t.Fatal("an in-process fake was started although oapi_base_url names one")
	}
	var people int
	a.DB.Get(&people, "SELECT COUNT(*) FROM users WHERE source = 'dingtalk'")
	if people != 12 || fake.Calls("topapi/v2/user/list") == 0 {
		t.Fatalf("org synced from the external fake: %d people, %d user/list calls", people, fake.Calls("topapi/v2/user/list"))
	}
	var uid int64
	if err := a.DB.Get(&uid, "SELECT id FROM users WHERE userid = 'sim_s1'"); err != nil {
		t.Fatal(err)
	}
	// No quiet hours: the test may run at night in the company's zone.
	var admin int64
	if err := a.DB.Get(&admin, "SELECT id FROM users WHERE userid = 'sim_admin'"); err != nil {
		t.Fatal(err)
	}
	actor, err := auth.NewLoader(a.DB).Load(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	none := ""
	if _, err := a.Settings().Update(ctx, actor, settings.Input{QuietStart: &none, QuietEnd: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO outbox_messages (user_id, kind, title, body, dedup_key, due_at, created_at)
		VALUES (?, 'reminder', '提醒', '外部假钉钉', 'test:external', '2000-01-01 00:00:00', '2000-01-01 00:00:00')`, uid); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Outbox.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := fake.DeliveriesTo("sim_s1"); len(got) != 1 {
		t.Fatalf("the external fake recorded %d deliveries to sim_s1, want 1", len(got))
	}
}
