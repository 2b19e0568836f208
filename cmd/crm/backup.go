package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/schollz/progressbar/v3"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store"
)

// backupCmd is `crm backup -o FILE`: a portable archive of the whole
// database from one consistent snapshot, taken while the CRM keeps serving.
func backupCmd(args []string, stdout, stderr io.Writer) error {
	var out string
	cfg, _, _, err := load("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "o", "", "archive file to write (e.g. crm-2026-11-27.crmbak)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("usage: crm backup -o FILE")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	sum, err := writeBackup(ctx, db, out, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s (schema %d): %d tables, %d rows in %s → %s\n",
		sum.Dialect, sum.SchemaVersion, sum.Tables, sum.Rows, time.Since(start).Round(100*time.Millisecond), out)
	return nil
}

// writeBackup writes the archive with a progress bar (see backup.WriteFile).
func writeBackup(ctx context.Context, db *store.DB, path string, stderr io.Writer) (backup.Summary, error) {
	bar := newRowsBar(stderr, "backing up")
	sum, err := backup.WriteFile(ctx, db, path, backup.Options{AppVersion: app.Version, Progress: func(p backup.Progress) {
		bar.ChangeMax64(p.Total)
		bar.Describe("backing up " + p.Table)
		_ = bar.Set64(p.Done)
	}})
	_ = bar.Finish()
	return sum, err
}

// restoreCmd is `crm restore FILE`: load an archive into an empty database
// of either kind (the configured one, or --to-driver/--to-dsn/--to-data-dir).
func restoreCmd(args []string, stdout, stderr io.Writer) error {
	var force bool
	var driver, dsn, dataDir string
	if len(args) > 1 && !strings.HasPrefix(args[0], "-") {
		// Flags may follow the file: `crm restore FILE --force`.
		args = append(append([]string{}, args[1:]...), args[0])
	}
	cfg, _, rest, err := load("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "replace the data of a non-empty database")
		fs.StringVar(&driver, "to-driver", "", "target driver (sqlite or mysql), instead of the configured one")
		fs.StringVar(&dsn, "to-dsn", "", "target MySQL DSN, instead of the configured one")
		fs.StringVar(&dataDir, "to-data-dir", "", "target data dir for SQLite, instead of the configured one")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: crm restore [--force] [--to-driver D --to-dsn DSN | --to-data-dir DIR] FILE")
	}
	cfg = retarget(cfg, driver, dsn, dataDir)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid restore target:\n%w", err)
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Database.Driver == string(store.MySQL) {
		// The restore sends thousands of multi-row INSERTs once each:
		// interpolating their parameters client-side saves the prepare and
		// close round trips of every batch.
		if mc, err := mysql.ParseDSN(cfg.Database.DSN); err == nil {
			mc.InterpolateParams = true
			cfg.Database.DSN = mc.FormatDSN()
		}
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	bar := progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("restoring"),
		progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	r := progressbar.NewReader(f, bar)
	start := time.Now()
	sum, err := backup.Restore(ctx, db, &r, backup.RestoreOptions{Force: force, Progress: func(p backup.Progress) {
		bar.Describe("restoring " + p.Table)
	}})
	_ = bar.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s backup (schema %d) into %s: %d tables, %d rows in %s\n",
		sum.Dialect, sum.SchemaVersion, db.Dialect, sum.Tables, sum.Rows, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func retarget(cfg config.Config, driver, dsn, dataDir string) config.Config {
	if driver != "" {
		cfg.Database.Driver = driver
	}
	if dsn != "" {
		cfg.Database.DSN = dsn
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	return cfg
}

func openStore(ctx context.Context, cfg config.Config) (*store.DB, error) {
	return store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, SQLitePath: cfg.SQLitePath()})
}

// preMigrateBackup is the backup `crm migrate up` takes before applying
// migrations: <backup.dir>/pre-migrate-<timestamp>.crmbak (data_dir/backups by default).
func preMigrateBackup(ctx context.Context, cfg config.Config, db *store.DB, stdout, stderr io.Writer) error {
	path := filepath.Join(cfg.BackupDir(), "pre-migrate-"+time.Now().UTC().Format("20060102T150405Z")+".crmbak")
	sum, err := writeBackup(ctx, db, path, stderr)
	if err != nil {
		return fmt.Errorf("pre-migrate backup failed (use --no-backup to migrate without one): %w", err)
	}
	fmt.Fprintf(stdout, "backed up %d rows to %s\n", sum.Rows, path)
	return nil
}

func newRowsBar(w io.Writer, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}
