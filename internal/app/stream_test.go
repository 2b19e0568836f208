package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store/storetest"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// streamConfig is the default (simulated) configuration with the Stream
// transport on the named engine.
func streamConfig(t *testing.T, engine string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DingTalk.Transport = "stream"
	if engine == "mysql" {
		_, name := storetest.OpenEmptyMySQL(t)
		dsn, err := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
		if err != nil {
			t.Fatal(err)
		}
		dsn.DBName = name
		cfg.Database.Driver, cfg.Database.DSN, cfg.Database.AutoMigrate = "mysql", dsn.FormatDSN(), true
		if addr := os.Getenv("CRM_TEST_REDIS_ADDR"); addr != "" {
			cfg.Redis.Addr, cfg.Redis.Prefix = addr, "crmtest:stream:"+name+":"
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamTransportSimulated: with dingtalk.transport stream the
// simulated CRM connects to its in-process fake over Stream mode (no
// HTTP callback subscribed at all); a person added there appears in the
// CRM, a leaver is deactivated; Close ends the connection promptly.
func TestStreamTransportSimulated(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		engine := e.Name
		t.Run(engine, func(t *testing.T) {
			logs := &logBuffer{}
			a, err := app.New(context.Background(), streamConfig(t, engine), slog.New(slog.NewTextHandler(logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					a.Close()
				}
			}()
			fake := a.FakeDingTalk
			until(t, "the stream connection", func() bool { return fake.StreamConnections() == 1 })
			active := func(userid string) string {
				var v []bool
				if err := a.DB.Select(&v, "SELECT active FROM users WHERE userid = ?", userid); err != nil {
					t.Fatal(err)
				}
				if len(v) == 0 {
					return "absent"
				}
				if v[0] {
					return "active"
				}
				return "inactive"
			}
			settle := func() {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := fake.WaitStream(ctx); err != nil {
					t.Fatal(err)
				}
				if err := a.OrgSync.WaitIdle(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := fake.AddUser(dingtalktest.User{UserID: "appstream1", Name: "流式入职", DeptIDs: []int64{2}}); err != nil {
				t.Fatal(err)
			}
			settle()
			if got := active("appstream1"); got != "active" {
				t.Fatalf("appstream1 is %s", got)
			}
			if err := fake.RemoveUser("appstream1"); err != nil {
				t.Fatal(err)
			}
			settle()
			if got := active("appstream1"); got != "inactive" {
				t.Fatalf("appstream1 is %s after leaving", got)
			}
			for _, e := range fake.Events() {
				if !e.Stream || !e.Delivered {
					t.Errorf("event %s: stream %v, delivered %v (%s)", e.Type, e.Stream, e.Delivered, e.Err)
				}
			}
			if !strings.Contains(logs.String(), "dingtalk stream transport started") {
				t.Error("start not logged")
			}
			start := time.Now()
			a.Close()
			closed = true
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Close took %v", d)
			}
		})
	}
}

// TestStreamTransportRefused: a real-mode CRM with a wrong AppSecret is
// refused by the gateway; it starts anyway, logs the refusal as an error,
// does not retry in a loop, and closes promptly.
func TestStreamTransportRefused(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	defer fake.Close()
	cfg := streamConfig(t, "sqlite")
	cfg.DingTalk.Mode, cfg.DingTalk.AppKey, cfg.DingTalk.AppSecret = "real", fake.AppKey(), "wrong-secret"
	cfg.DingTalk.OAPIBaseURL, cfg.DingTalk.APIBaseURL, cfg.DingTalk.LoginBaseURL = fake.URL(), fake.URL(), fake.URL()
	logs := &logBuffer{}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	until(t, "the refusal", func() bool { return strings.Contains(logs.String(), "authFailed") })
	time.Sleep(300 * time.Millisecond)
	if n := fake.Calls(dingtalk.APIStreamOpen); n != 1 {
		t.Errorf("%d connection attempts; a refusal waits the longest backoff before the next", n)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "wrong-secret") {
		t.Errorf("logs:\n%s", logs.String())
	}
	start := time.Now()
	a.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}
