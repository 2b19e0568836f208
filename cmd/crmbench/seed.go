package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
)

// seedOptions are the flags of `crmbench seed`.
type seedOptions struct {
	dsn       string
	customers int
	workers   int
	batch     int
	reset     bool
}

func parseSeedFlags(args []string, stderr io.Writer) (seedOptions, error) {
	var o seedOptions
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN of the benchmark database (created if missing)")
	fs.IntVar(&o.customers, "customers", 1_000_000, "customers to load")
	fs.IntVar(&o.workers, "workers", 4, "concurrent loading connections")
	fs.IntVar(&o.batch, "batch", 2000, "customers per INSERT and per transaction")
	fs.BoolVar(&o.reset, "reset", false, "drop and recreate the database first")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.customers < 1 || o.workers < 1 || o.batch < 1 || o.batch > 3000 {
		return o, errors.New("--customers and --workers must be positive, --batch between 1 and 3000")
	}
	return o, nil
}

// benchNow is the benchmark's "today", fixed so reruns load identical data.
var benchNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseSeedFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := prepareDatabase(ctx, o.dsn, o.reset); err != nil {
		return err
	}
	db, err := openMySQL(ctx, o.dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db); err != nil {
		return err
	}
	owners, err := createOrg(ctx, db, benchNow)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "organization: %d departments, %d people\n", len(benchDepts), len(owners))
	keys, err := hasKeyColumns(ctx, db)
	if err != nil {
		return err
	}
	start := time.Now()
	gen := &generator{owners: owners, now: benchNow}
	if keys {
		gen.uniqueKeys(o.customers, o.batch)
	}
	l := loader{db: db, gen: gen, batch: o.batch, workers: o.workers, keys: keys}
	if err := l.load(ctx, o.customers, stderr); err != nil {
		return err
	}
	loaded := time.Since(start)
	if err := analyze(ctx, db); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %d customers in %s (%.0f customers/s), statistics in %s\n",
		o.customers, loaded.Round(time.Second), float64(o.customers)/loaded.Seconds(), (time.Since(start) - loaded).Round(time.Second))
	if err := printSizes(ctx, db, stdout); err != nil {
		return err
	}
	return checkIndex(ctx, db, 2000, stdout)
}

// prepareSchema migrates, adds the built-in roles and refuses a database
// that already holds people or customers: loading twice would mix two
// organizations and break the per-owner figures.
func prepareSchema(ctx context.Context, db *store.DB) error {
	if _, err := db.MigrateUp(ctx); err != nil {
		return err
	}
	if err := seed.EnsureRoles(ctx, db); err != nil {
		return err
	}
	var people, customers int
	if err := db.GetContext(ctx, &people, "SELECT COUNT(*) FROM users"); err != nil {
		return err
	}
	if err := db.GetContext(ctx, &customers, "SELECT COUNT(*) FROM customers"); err != nil {
		return err
	}
	if people+customers > 0 {
		return fmt.Errorf("the database already holds %d people and %d customers; rerun with --reset to start over", people, customers)
	}
	return nil
}

// analyze refreshes the optimizer's statistics, as a real installation's
// would be after growing to this size; without it MySQL plans the gram
// joins on the estimates of an empty table.
func analyze(ctx context.Context, db *store.DB) error {
	for _, t := range []string{"customers", "customer_grams", "users", "departments"} {
		if _, err := db.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nil
}

// printSizes reports rows and on-disk size of the two big tables.
func printSizes(ctx context.Context, db *store.DB, w io.Writer) error {
	var sizes []struct {
		Table string `db:"table_name"`
		Data  int64  `db:"data_length"`
		Index int64  `db:"index_length"`
	}
	err := db.SelectContext(ctx, &sizes, `SELECT table_name AS table_name, data_length AS data_length, index_length AS index_length
		FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('customers', 'customer_grams')
		ORDER BY table_name`)
	if err != nil {
		return err
	}
	for _, s := range sizes {
		var n int64
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+s.Table); err != nil {
			return err
		}
		fmt.Fprintf(w, "%-15s %10d rows  data %5d MiB  indexes %5d MiB\n", s.Table, n, s.Data>>20, s.Index>>20)
	}
	return nil
}
