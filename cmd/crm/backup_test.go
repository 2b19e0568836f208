package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/store"
)

// TestBackupRestoreCLI backs up a SQLite data dir with `crm backup -o` and
// restores it into another with `crm restore --to-data-dir`, then checks
// a second restore without --force is refused.
func TestBackupRestoreCLI(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	t.Setenv("CRM_DATA_DIR", src)
	t.Setenv("CRM_DATABASE_DRIVER", "sqlite")
	var out, errb bytes.Buffer
	if err := run([]string{"migrate", "up", "--no-backup"}, &out, &errb); err != nil {
		t.Fatalf("migrate: %v %s", err, errb.String())
	}
	db := openDataDirDB(t, src)
	if _, err := db.Exec("INSERT INTO departments (name, sort_order, created_at, updated_at) VALUES ('销售一部 🚀', 1, ?, ?)", store.Now(), store.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	archive := filepath.Join(t.TempDir(), "crm.crmbak")
	out.Reset()
	if err := run([]string{"backup", "-o", archive}, &out, &errb); err != nil {
		t.Fatalf("backup: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "backup of sqlite") {
		t.Fatalf("backup output: %q", out.String())
	}
	if err := run([]string{"restore", "--to-data-dir", dst, archive}, &out, &errb); err != nil {
		t.Fatalf("restore: %v %s", err, errb.String())
	}
	restored := openDataDirDB(t, dst)
	var name string
	if err := restored.Get(&name, "SELECT name FROM departments WHERE sort_order = 1"); err != nil || name != "销售一部 🚀" {
		t.Fatalf("restored department %q, %v", name, err)
	}
	restored.Close()
	if err := run([]string{"restore", "--to-data-dir", dst, archive}, &out, &errb); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore into a non-empty database: %v, want a refusal naming --force", err)
	}
	if err := run([]string{"restore", archive, "--force", "--to-data-dir", dst}, &out, &errb); err != nil {
		t.Fatalf("restore --force: %v", err)
	}
}

// TestMigrateUpBacksUpFirst checks `crm migrate up` writes a pre-migrate
// backup to data_dir/backups when there is something to apply, and that
// --no-backup skips it.
func TestMigrateUpBacksUpFirst(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CRM_DATA_DIR", dir)
	t.Setenv("CRM_DATABASE_DRIVER", "sqlite")
	var out, errb bytes.Buffer
	if err := run([]string{"migrate", "up"}, &out, &errb); err != nil {
		t.Fatalf("migrate up: %v %s", err, errb.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "backups", "pre-migrate-*.crmbak"))
	if len(files) != 1 || !strings.Contains(out.String(), "backed up") {
		t.Fatalf("pre-migrate backups %v, output %q", files, out.String())
	}
	if st, err := os.Stat(files[0]); err != nil || st.Size() == 0 {
		t.Fatalf("backup file: %v", err)
	}
	// Nothing pending: no second backup.
	if err := run([]string{"migrate", "up"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if again, _ := filepath.Glob(filepath.Join(dir, "backups", "*.crmbak")); len(again) != 1 {
		t.Fatalf("backups after a no-op migrate: %v", again)
	}
	fresh := t.TempDir()
	t.Setenv("CRM_DATA_DIR", fresh)
	if err := run([]string{"migrate", "up", "--no-backup"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "backups")); !os.IsNotExist(err) {
		t.Fatalf("--no-backup still wrote a backup: %v", err)
	}
}

func openDataDirDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{Driver: "sqlite", SQLitePath: filepath.Join(dir, "crm.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
