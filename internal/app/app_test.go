package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestMySQLRefusesPendingMigrations: production never changes its schema
// behind an admin's back; --migrate (AutoMigrate) opts in.
func TestMySQLRefusesPendingMigrations(t *testing.T) {
	_, name := storetest.OpenEmptyMySQL(t)
	dsn, _ := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
	dsn.DBName = name
	cfg := config.Default()
	cfg.Database.Driver, cfg.Database.DSN = "mysql", dsn.FormatDSN()
	ctx := context.Background()
	if _, err := app.New(ctx, cfg, quiet); !errors.Is(err, app.ErrPendingMigrations) {
		t.Fatalf("want ErrPendingMigrations, got %v", err)
	}
	cfg.Database.AutoMigrate = true
	a, err := app.New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var people int
	a.DB.Get(&people, "SELECT COUNT(*) FROM users")
	a.Close()
	if people != 12 {
		t.Fatalf("simulated org has %d people, want 12", people)
	}
	// Starting again keeps the data and does not seed twice.
	a, err = app.New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.DB.Get(&people, "SELECT COUNT(*) FROM users")
	if people != 12 {
		t.Fatalf("restart reseeded: %d people", people)
	}
}

// TestRefusesNewerSchema: a binary older than its database stops at start.
func TestRefusesNewerSchema(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	a, err := app.New(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	a.DB.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)")
	a.Close()
	_, err = app.New(ctx, cfg, quiet)
	var tooNew *store.ErrSchemaTooNew
	if !errors.As(err, &tooNew) {
		t.Fatalf("want ErrSchemaTooNew, got %v", err)
	}
}
