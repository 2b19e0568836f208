// Package storetest gives tests fresh, migrated databases on every engine
// that is available: SQLite always, MySQL when CRM_TEST_MYSQL_DSN is set.
// With CI=true a missing MySQL fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"

	"github.com/dingcrm/crm/internal/store"
	sqlmig "github.com/dingcrm/crm/sql"
)

// Engine is a named way to get a fresh database.
type Engine struct {
	Name string
	Open func(t testing.TB) *store.DB
}

// Engines lists SQLite and, when configured, MySQL. In CI, MySQL must be
// configured.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", Open: SQLite}}
	if os.Getenv("CRM_TEST_MYSQL_DSN") != "" {
		engines = append(engines, Engine{Name: "mysql", Open: MySQL})
	} else if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but CRM_TEST_MYSQL_DSN is not set: MySQL tests may not be skipped in CI")
	}
	return engines
}

// Each runs fn once per engine as a subtest with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e.Open(t)) })
	}
}

// SQLite opens a migrated database in a temporary folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{
		Driver: "sqlite", SQLitePath: filepath.Join(t.TempDir(), "crm.db"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db)
	return db
}

// MySQL creates a database of its own on the server named by
// CRM_TEST_MYSQL_DSN, migrates it and drops it when the test ends.
func MySQL(t testing.TB) *store.DB {
	t.Helper()
	db, name := OpenEmptyMySQL(t)
	_ = name
	migrate(t, db)
	return db
}

// OpenEmptyMySQL creates an empty database (not migrated) and returns it with
// its name; it is dropped at the end of the test.
func OpenEmptyMySQL(t testing.TB) (*store.DB, string) {
	t.Helper()
	base := os.Getenv("CRM_TEST_MYSQL_DSN")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CRM_TEST_MYSQL_DSN is not set")
		}
		t.Skip("MySQL not configured: set CRM_TEST_MYSQL_DSN=root@tcp(127.0.0.1:3306)/test")
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("CRM_TEST_MYSQL_DSN: %v", err)
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: base})
	if err != nil {
		t.Fatalf("MySQL at CRM_TEST_MYSQL_DSN unreachable: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "crm_t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: cfg.FormatDSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if a, err := store.Open(context.Background(), store.Options{Driver: "mysql", DSN: base}); err == nil {
			a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
			a.Close()
		}
	})
	return db, name
}

func migrate(t testing.TB, db *store.DB) {
	t.Helper()
	if _, err := db.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Empty opens an unmigrated database on the named engine ("sqlite" or
// "mysql").
func Empty(t testing.TB, engine string) *store.DB {
	t.Helper()
	if engine == "mysql" {
		db, _ := OpenEmptyMySQL(t)
		return db
	}
	db, err := store.Open(context.Background(), store.Options{Driver: "sqlite", SQLitePath: filepath.Join(t.TempDir(), "crm.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MigratedTo opens a database on the named engine migrated up to version
// only, for tests of a later migration on data of the earlier shape.
func MigratedTo(t testing.TB, engine string, version int64) *store.DB {
	t.Helper()
	db := Empty(t, engine)
	sub, _ := fs.Sub(sqlmig.FS, engine)
	dialect := goose.DialectSQLite3
	if engine == "mysql" {
		dialect = goose.DialectMySQL
	}
	p, err := goose.NewProvider(dialect, db.DB.DB, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db
}
