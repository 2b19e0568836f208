package store

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	sqlmig "github.com/dingcrm/crm/sql"
)

// MigrationStatus is one migration's state.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

// ErrSchemaTooNew means the database was migrated by a newer binary.
type ErrSchemaTooNew struct{ DB, Binary int64 }

func (e *ErrSchemaTooNew) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this binary's %d; run the newer binary or restore a backup", e.DB, e.Binary)
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(sqlmig.FS, string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectMySQL
	if db.Dialect == SQLite {
		dialect = goose.DialectSQLite3
	}
	return goose.NewProvider(dialect, db.DB.DB, sub)
}

// Migrations lists every known migration and whether it is applied.
func (db *DB) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// CheckSchema returns the number of pending migrations, or ErrSchemaTooNew
// when the database is ahead of this binary.
func (db *DB) CheckSchema(ctx context.Context) (pending int, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	if current > target {
		return 0, &ErrSchemaTooNew{DB: current, Binary: target}
	}
	st, err := db.Migrations(ctx)
	if err != nil {
		return 0, err
	}
	for _, s := range st {
		if !s.Applied {
			pending++
		}
	}
	return pending, nil
}

// MigrateUp applies every pending migration and returns how many ran.
func (db *DB) MigrateUp(ctx context.Context) (int, error) {
	if _, err := db.CheckSchema(ctx); err != nil {
		return 0, err
	}
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("store: migrate up: %w", err)
	}
	return len(res), nil
}
