// Package system is 系统维护: what an administrator needs to keep the CRM
// running for years — the version and schema state, backups (scheduled,
// on demand, downloaded and uploaded), and how long the operation and login
// logs are kept.
package system

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
)

// The permissions: system.view reads the page, system.manage changes
// settings and handles backups (a backup is every record of the company).
const (
	PermView   auth.Perm = "system.view"
	PermManage auth.Perm = "system.manage"
)

// Domain errors.
var (
	ErrBackupNotFound = errs.NotFound("system.backup_not_found")
	ErrBackupRunning  = errs.Conflict("system.backup_running")
	ErrBadArchive     = errs.New(errs.KindInvalid, "system.bad_archive")
)

// Options are what the service is built with (from the Config).
type Options struct {
	// Dir holds the backups.
	Dir string
	// DefaultKeep is how many scheduled backups are kept when the admin has
	// not set a number.
	DefaultKeep int
	// AppVersion goes into archive headers and the info page.
	AppVersion string
	Started    time.Time
}

// Service is 系统维护.
type Service struct {
	db   *store.DB
	kv   kv.Store
	log  *slog.Logger
	opts Options

	// Background work started by an admin (a backup) runs under bg, is
	// counted in wg, and is waited for by Wait at shutdown.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewService returns the service.
func NewService(db *store.DB, store kv.Store, log *slog.Logger, o Options) *Service {
	bg, cancel := context.WithCancel(context.Background())
	return &Service{db: db, kv: store, log: log, opts: o, bg: bg, cancel: cancel}
}

// Wait lets running background work finish, up to ctx's deadline, and then
// cancels what is left (a cancelled backup leaves no partial archive).
func (s *Service) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return fmt.Errorf("system: background work cancelled at shutdown: %w", ctx.Err())
	}
}

// Migration is one schema migration and whether it is applied.
type Migration struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// Info is the upgrade half of the page (系统升级).
type Info struct {
	Version        string      `json:"version"`
	GoVersion      string      `json:"go_version"`
	Database       string      `json:"database"`
	SchemaVersion  int64       `json:"schema_version"`
	BinarySchema   int64       `json:"binary_schema_version"`
	Pending        []Migration `json:"pending_migrations"`
	StartedAt      time.Time   `json:"started_at"`
	BackupDir      string      `json:"backup_dir"`
	SchemaTooNew   bool        `json:"schema_too_new"`
	MigrationCount int         `json:"migration_count"`
}

// Info reports the version, the schema version and pending migrations.
func (s *Service) Info(ctx context.Context, a *auth.Actor) (Info, error) {
	if err := a.Require(PermView); err != nil {
		return Info{}, err
	}
	st, err := s.db.Migrations(ctx)
	if err != nil {
		return Info{}, err
	}
	binary, err := backup.BinaryVersion(s.db)
	if err != nil {
		return Info{}, err
	}
	in := Info{Version: s.opts.AppVersion, GoVersion: runtime.Version(), Database: string(s.db.Dialect),
		BinarySchema: binary, StartedAt: s.opts.Started.UTC(), BackupDir: s.opts.Dir,
		Pending: []Migration{}, MigrationCount: len(st)}
	for _, m := range st {
		if m.Applied && m.Version > in.SchemaVersion {
			in.SchemaVersion = m.Version
		}
		if !m.Applied {
			in.Pending = append(in.Pending, Migration{Version: m.Version, Name: m.Name})
		}
	}
	var dbMax sql.NullInt64
	if err := s.db.GetContext(ctx, &dbMax, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied = 1"); err == nil && dbMax.Int64 > in.SchemaVersion {
		in.SchemaVersion = dbMax.Int64
	}
	in.SchemaTooNew = in.SchemaVersion > binary
	return in, nil
}

// Settings are the maintenance settings an admin edits.
type Settings struct {
	// BackupKeep is how many scheduled backups are kept (newest first).
	BackupKeep int `json:"backup_keep"`
	// BackupKeepDefault says BackupKeep comes from the configuration.
	BackupKeepDefault bool `json:"backup_keep_default"`
	// OperationLogDays and LoginLogDays: entries older are deleted by the
	// log-retention job; 0 keeps them forever.
	OperationLogDays int        `json:"operation_log_days"`
	LoginLogDays     int        `json:"login_log_days"`
	UpdatedAt        *time.Time `json:"updated_at"`
}

// SettingsInput changes some settings; absent fields stay. BackupKeep 0
// returns to the configured default.
type SettingsInput struct {
	BackupKeep       *int `json:"backup_keep"`
	OperationLogDays *int `json:"operation_log_days"`
	LoginLogDays     *int `json:"login_log_days"`
}

type settingsRow struct {
	BackupKeep       int        `db:"backup_keep"`
	OperationLogDays int        `db:"operation_log_days"`
	LoginLogDays     int        `db:"login_log_days"`
	UpdatedAt        *time.Time `db:"updated_at"`
}

const settingsCols = "backup_keep, operation_log_days, login_log_days, updated_at"

// maxLogDays is ten years: longer is "forever" (0), said plainly.
const maxLogDays = 3650

func (s *Service) readSettings(ctx context.Context, q sqlx.QueryerContext) (settingsRow, error) {
	var r settingsRow
	if err := sqlx.GetContext(ctx, q, &r, "SELECT "+settingsCols+" FROM maintenance_settings WHERE id = 1"); err != nil {
		return r, fmt.Errorf("system: read settings: %w", err)
	}
	return r, nil
}

func (s *Service) present(r settingsRow) Settings {
	out := Settings{BackupKeep: r.BackupKeep, OperationLogDays: r.OperationLogDays, LoginLogDays: r.LoginLogDays, UpdatedAt: r.UpdatedAt}
	if r.BackupKeep == 0 {
		out.BackupKeep, out.BackupKeepDefault = s.opts.DefaultKeep, true
	}
	return out
}

// Settings returns the maintenance settings.
func (s *Service) Settings(ctx context.Context, a *auth.Actor) (Settings, error) {
	if err := a.Require(PermView); err != nil {
		return Settings{}, err
	}
	r, err := s.readSettings(ctx, s.db)
	if err != nil {
		return Settings{}, err
	}
	return s.present(r), nil
}

// UpdateSettings validates every field at once, then writes and audits.
func (s *Service) UpdateSettings(ctx context.Context, a *auth.Actor, in SettingsInput) (Settings, error) {
	if err := a.Require(PermManage); err != nil {
		return Settings{}, err
	}
	var v errs.Invalid
	if in.BackupKeep != nil && (*in.BackupKeep < 0 || *in.BackupKeep > 1000) {
		v.Add("backup_keep", "system.out_of_range", "min", 0, "max", 1000)
	}
	for field, p := range map[string]*int{"operation_log_days": in.OperationLogDays, "login_log_days": in.LoginLogDays} {
		if p != nil && (*p < 0 || *p > maxLogDays) {
			v.Add(field, "system.out_of_range", "min", 0, "max", maxLogDays)
		}
	}
	if err := v.Err(); err != nil {
		return Settings{}, err
	}
	var after settingsRow
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		before, err := s.readSettings(ctx, tx)
		if err != nil {
			return err
		}
		after = before
		if in.BackupKeep != nil {
			after.BackupKeep = *in.BackupKeep
		}
		if in.OperationLogDays != nil {
			after.OperationLogDays = *in.OperationLogDays
		}
		if in.LoginLogDays != nil {
			after.LoginLogDays = *in.LoginLogDays
		}
		now := store.Now()
		after.UpdatedAt = &now
		if _, err := tx.ExecContext(ctx, `UPDATE maintenance_settings SET backup_keep = ?, operation_log_days = ?,
			login_log_days = ?, updated_at = ?, updated_by = ? WHERE id = 1`,
			after.BackupKeep, after.OperationLogDays, after.LoginLogDays, now, a.UserID); err != nil {
			return fmt.Errorf("system: update settings: %w", err)
		}
		changes := audit.Diff(fieldsOf(before), fieldsOf(after))
		if len(changes) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "maintenance_settings",
			EntityID: 1, EntityName: "系统维护", Changes: changes})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.present(after), nil
}

func fieldsOf(r settingsRow) map[string]any {
	return map[string]any{"backup_keep": r.BackupKeep, "operation_log_days": r.OperationLogDays, "login_log_days": r.LoginLogDays}
}

// keep is how many scheduled backups to keep now.
func (s *Service) keep(ctx context.Context) (int, error) {
	r, err := s.readSettings(ctx, s.db)
	if err != nil {
		return 0, err
	}
	if r.BackupKeep > 0 {
		return r.BackupKeep, nil
	}
	return s.opts.DefaultKeep, nil
}
