// Command crm is the DingTalk CRM: `crm serve` (the default) runs the server;
// `crm migrate up|status` manages the schema; `crm version` prints the version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crm:", err)
		os.Exit(1)
	}
}

const usage = `Usage: crm [command] [flags]

Commands:
  serve            run the CRM (the default)   flags: --config FILE, --migrate
  migrate up       apply pending schema migrations (backs up first; --no-backup to skip)
  migrate status   list migrations and whether each is applied
  sync-org         sync departments and people from DingTalk now (with progress)
  jobs list        list the jobs that can be run once by hand
  jobs run NAME    run one job now (e.g. pool-reclaim)
  backup -o FILE   write a portable archive of all data (while serving)
  restore FILE     load an archive into an empty database  flags: --force, --to-driver, --to-dsn, --to-data-dir
  version          print the version

Configuration: defaults run with no file; a YAML file (--config, see
configs/crm.example.yaml) and CRM_* environment variables override them.
`

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stdout, stderr)
	case "migrate":
		return migrate(args, stdout, stderr)
	case "jobs":
		return runJobs(args, stdout, stderr)
	case "sync-org":
		return syncOrg(args, stdout, stderr)
	case "backup":
		return backupCmd(args, stdout, stderr)
	case "restore":
		return restoreCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "crm", app.Version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// load parses the common flags and builds a validated Config and logger.
func load(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, *slog.Logger, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	path := fs.String("config", "", "YAML config file")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, nil, err
	}
	cfg, err := config.Load(*path, os.LookupEnv)
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, newLogger(cfg, stderr), fs.Args(), nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(args []string, stdout, stderr io.Writer) error {
	var migrateFlag bool
	cfg, log, _, err := load("serve", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&migrateFlag, "migrate", false, "apply pending migrations at start (MySQL)")
	})
	if err != nil {
		return err
	}
	if migrateFlag {
		cfg.Database.AutoMigrate = true
	}
	log.Info("starting", "version", app.Version, "config", cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, func(addr string) {
		mode := "DingTalk"
		if cfg.Simulated() {
			mode = "simulated DingTalk organization (模拟钉钉组织)"
		}
		fmt.Fprintf(stdout, "CRM listening on http://%s  (%s, %s)\n", addr, cfg.Database.Driver, mode)
		if cfg.Simulated() {
			// The fake DingTalk pushes its organization's changes to this
			// server's own event endpoint, as DingTalk would.
			if err := a.SubscribeFakeEvents("http://" + addr); err != nil {
				log.Warn("simulated DingTalk events not subscribed", "err", err)
			}
		}
	})
}

func migrate(args []string, stdout, stderr io.Writer) error {
	var noBackup bool
	if len(args) > 1 && (args[0] == "up" || args[0] == "status") {
		// Flags may follow the action: `crm migrate up --no-backup`.
		args = append(append([]string{}, args[1:]...), args[0])
	}
	cfg, _, rest, err := load("migrate", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&noBackup, "no-backup", false, "migrate up without the pre-migrate backup")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 || (rest[0] != "up" && rest[0] != "status") {
		return errors.New("usage: crm migrate up|status")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, SQLitePath: cfg.SQLitePath()})
	if err != nil {
		return err
	}
	defer db.Close()
	if rest[0] == "up" {
		if pending, err := db.CheckSchema(ctx); err != nil {
			return err
		} else if pending > 0 && !noBackup {
			if err := preMigrateBackup(ctx, cfg, db, stdout, stderr); err != nil {
				return err
			}
		}
		n, err := db.MigrateUp(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return nil
	}
	st, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(stdout, "%05d  %-8s %s\n", m.Version, state, m.Name)
	}
	return nil
}
