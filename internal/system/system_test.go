package system_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
	"github.com/dingcrm/crm/internal/system"
)

func newService(t *testing.T, db *store.DB) *system.Service {
	return system.NewService(db, kv.NewMemory(), slog.New(slog.NewTextHandler(io.Discard, nil)),
		system.Options{Dir: t.TempDir(), DefaultKeep: 7, AppVersion: "test", Started: time.Now()})
}

func admin() *auth.Actor { return auth.System() }

func ptr(n int) *int { return &n }

// addEntries writes n audit entries of action at the given time.
func addEntries(t *testing.T, db *store.DB, action string, at time.Time, n int) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		k := min(500, n-i)
		q := "INSERT INTO audit_log (at, actor_id, actor_name, action, entity, changes) VALUES "
		args := []any{}
		for j := 0; j < k; j++ {
			if j > 0 {
				q += ", "
			}
			q += "(?, 1, 'x', ?, 'customer', '{}')"
			args = append(args, at, action)
		}
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
}

func countActions(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	var rows []struct {
		Action string `db:"action"`
		N      int    `db:"n"`
	}
	if err := db.SelectContext(context.Background(), &rows, "SELECT action, COUNT(*) AS n FROM audit_log GROUP BY action"); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Action] = r.N
	}
	return out
}

// TestLogRetention: login-log entries older than login_log_days go (in
// several batches), the operation log is kept forever by default, and the
// cleanup records itself; with operation_log_days set, old operation
// entries go too and recent ones stay.
func TestLogRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		old, recent := now.AddDate(-2, 0, 0), now.AddDate(0, 0, -10)
		addEntries(t, db, audit.ActLogin, old, 1500) // more than one batch
		addEntries(t, db, audit.ActLoginFailed, old, 20)
		addEntries(t, db, audit.ActLogin, recent, 5)
		addEntries(t, db, audit.ActUpdate, old, 30)
		addEntries(t, db, audit.ActUpdate, recent, 3)

		c, err := s.CleanupLogs(ctx, now) // defaults: login 365 days, operations forever
		if err != nil {
			t.Fatal(err)
		}
		got := countActions(t, db)
		if c.LoginDeleted != 1520 || c.OperationDeleted != 0 || got[audit.ActLogin] != 5 || got[audit.ActLoginFailed] != 0 ||
			got[audit.ActUpdate] != 33 || got["log_retention"] != 1 {
			t.Fatalf("first cleanup: %+v, left %v", c, got)
		}

		if _, err := s.UpdateSettings(ctx, admin(), system.SettingsInput{OperationLogDays: ptr(30), LoginLogDays: ptr(0)}); err != nil {
			t.Fatal(err)
		}
		if c, err = s.CleanupLogs(ctx, now); err != nil {
			t.Fatal(err)
		}
		got = countActions(t, db)
		// The settings change and the first cleanup are recent: they stay.
		if c.OperationDeleted != 30 || c.LoginDeleted != 0 || got[audit.ActUpdate] != 4 || got[audit.ActLogin] != 5 || got["log_retention"] != 2 {
			t.Fatalf("second cleanup: %+v, left %v", c, got)
		}
		// Nothing left to delete: no run is recorded.
		if c, err = s.CleanupLogs(ctx, now); err != nil || c.OperationDeleted+c.LoginDeleted != 0 || countActions(t, db)["log_retention"] != 2 {
			t.Fatalf("idle cleanup: %+v %v", c, err)
		}
	})
}

// TestBackupRetention: each scheduled backup keeps the newest N scheduled
// archives; uploads and pre-migrate archives are never pruned.
func TestBackupRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		if _, err := s.UpdateSettings(ctx, admin(), system.SettingsInput{BackupKeep: ptr(2)}); err != nil {
			t.Fatal(err)
		}
		base := time.Now().Add(-time.Hour)
		for i, name := range []string{"crm-20200101-000000.crmbak", "crm-20200102-000000.crmbak", "crm-20200103-000000.crmbak",
			"uploaded-20200101-000000.crmbak", "pre-migrate-20200101T000000Z.crmbak"} {
			p := filepath.Join(s.Dir(), name)
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute))
		}
		if _, err := s.RunBackup(ctx); err != nil {
			t.Fatal(err)
		}
		files, err := s.Backups(ctx, admin())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range files {
			names = append(names, f.Kind+":"+f.Name)
		}
		sort.Strings(names)
		if len(names) != 4 || names[0] != "pre-migrate:pre-migrate-20200101T000000Z.crmbak" ||
			names[1] != "scheduled:crm-20200103-000000.crmbak" || names[2][:len("scheduled:crm-202")] != "scheduled:crm-202" || names[2] == names[1] ||
			names[3] != "uploaded:uploaded-20200101-000000.crmbak" {
			t.Fatalf("after pruning to 2: %v", names)
		}
	})
}

// TestShutdownWaitsForBackup: an admin's backup started just before
// shutdown completes (Wait returns after the archive is in place).
func TestShutdownWaitsForBackup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newService(t, db)
		addEntries(t, db, audit.ActUpdate, time.Now(), 5000) // something to write
		if _, err := s.StartBackup(ctx, admin()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartBackup(ctx, admin()); err == nil {
			t.Fatal("a second backup started while one runs")
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Wait(wctx); err != nil {
			t.Fatal(err)
		}
		files, _ := s.Backups(ctx, admin())
		p, _ := s.BackupProgress(ctx, admin())
		if len(files) != 1 || p.Running || p.Error != "" || p.File != files[0].Name {
			t.Fatalf("after Wait: %+v %+v", files, p)
		}
	})
}
