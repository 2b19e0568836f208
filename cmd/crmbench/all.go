package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// benchScale is what `crmbench all --scale` loads and runs.
type benchScale struct {
	customers  int          // customers (and sales records, for backup) in the main database
	salesSteps []int        // sales counts at which the reports are timed
	reminders  reminderSize // the reminder dispatch window
	runs       int          // timed runs per search, list and report
}

// scales: full is the size every issue names (1,000,000 customers and
// sales, 50,000 reminders in ten minutes); the smaller ones keep the same
// shape so a run fits in a coffee break (small, ~25 min) or a test (tiny).
var scales = map[string]benchScale{
	"tiny":   {customers: 2000, salesSteps: []int{1000, 5000}, reminders: reminderSize{1000, 100, 30}, runs: 5},
	"small":  {customers: 100_000, salesSteps: []int{10_000, 100_000}, reminders: reminderSize{10_000, 1_000, 180}, runs: 20},
	"medium": {customers: 300_000, salesSteps: []int{100_000, 300_000}, reminders: reminderSize{25_000, 2_000, 300}, runs: 20},
	"full":   {customers: 1_000_000, salesSteps: []int{100_000, 1_000_000}, reminders: reminderSize{50_000, 2_000, 600}, runs: 20},
}

// benchNames are the benchmarks of `crmbench all`, in the order they run
// (--only and --skip take these names).
var benchNames = []string{"startup", "seed", "search", "list", "reports", "timeline", "pipeline", "import",
	"pool", "export", "orgsync", "reminders", "backup"}

type allOptions struct {
	dsn      string
	scale    string
	size     benchScale
	only     map[string]bool
	skip     map[string]bool
	out      string
	strict   bool
	reseed   bool
	settle   time.Duration
	argsLine string
}

func parseAllFlags(args []string, stderr io.Writer) (allOptions, error) {
	o := allOptions{argsLine: strings.Join(append([]string{"crmbench", "all"}, args...), " ")}
	var only, skip string
	var customers int
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", "", "MySQL DSN of the benchmark database, created if missing (default root@tcp(127.0.0.1:3306)/crm_bench_<scale>)")
	fs.StringVar(&o.scale, "scale", "small", "tiny | small (100,000 customers) | medium (300,000) | full (1,000,000: the issues' size)")
	fs.IntVar(&customers, "customers", 0, "customers to load, overriding the scale's")
	fs.StringVar(&only, "only", "", "comma-separated benchmarks to run: "+strings.Join(benchNames, ","))
	fs.StringVar(&skip, "skip", "", "comma-separated benchmarks to leave out")
	fs.StringVar(&o.out, "out", "", "also write the table as markdown to this file")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 when a target is missed (errors always exit 1)")
	fs.BoolVar(&o.reseed, "reseed", false, "reload the customers even if the database already holds the right number")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "idle time before reading the server's memory")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	size, ok := scales[o.scale]
	if !ok {
		return o, fmt.Errorf("unknown --scale %q (tiny, small, medium, full)", o.scale)
	}
	if customers > 0 {
		size.customers = customers
		o.scale = "custom"
	}
	o.size = size
	if o.dsn == "" {
		o.dsn = "root@tcp(127.0.0.1:3306)/crm_bench_" + o.scale
	}
	var err error
	if o.only, err = nameSet(only); err != nil {
		return o, err
	}
	if o.skip, err = nameSet(skip); err != nil {
		return o, err
	}
	return o, nil
}

func nameSet(list string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if n == "idle" {
			n = "startup" // idle memory is measured on the first start
		}
		if !slices.Contains(benchNames, n) {
			return nil, fmt.Errorf("unknown benchmark %q (known: %s)", n, strings.Join(benchNames, ", "))
		}
		set[n] = true
	}
	return set, nil
}

func (o allOptions) wants(name string) bool {
	return (len(o.only) == 0 || o.only[name]) && !o.skip[name]
}

// allCmd is `crmbench all`: everything the issues asked to measure, each
// figure beside its baseline from the same run, in one table.
func allCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseAllFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := mysql.ParseDSN(o.dsn)
	if err != nil {
		return fmt.Errorf("bad --dsn: %w", err)
	}
	// The package benchmarks make their own databases through this one.
	if err := prepareDatabase(ctx, o.dsn, false); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crmbench-all-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := describeRun(ctx, o)
	fmt.Fprintln(stderr, env)
	start := time.Now()
	r := allRun{o: o, cfg: cfg, dir: dir, log: stderr}
	rows := r.runAll(ctx)
	env += fmt.Sprintf("; took %s; load average at the end %s", time.Since(start).Round(time.Second), loadAvg())

	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, env)
	fmt.Fprintln(stdout)
	printTable(stdout, rows)
	pass, fail, errs, info := summary(rows)
	fmt.Fprintf(stdout, "\n%d pass, %d FAIL, %d ERROR, %d reported without a target\n", pass, fail, errs, info)
	if o.out != "" {
		if err := writeMarkdown(o.out, env, rows); err != nil {
			return err
		}
	}
	switch {
	case errs > 0:
		return fmt.Errorf("%d benchmarks did not run", errs)
	case fail > 0 && o.strict:
		return fmt.Errorf("%d targets missed", fail)
	}
	return nil
}

func writeMarkdown(path, env string, rows []benchRow) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "%s\n\n", env)
	printMarkdown(f, rows)
	return f.Close()
}

// allRun carries one `crmbench all` run.
type allRun struct {
	o   allOptions
	cfg *mysql.Config
	dir string
	bin string
	log io.Writer
}

// dsnFor is the DSN of a sibling database: <benchmark db>_<suffix>.
func (r allRun) dsnFor(suffix string) string {
	c := r.cfg.Clone()
	if suffix != "" {
		c.DBName += "_" + suffix
	}
	return c.FormatDSN()
}

func (r *allRun) runAll(ctx context.Context) []benchRow {
	var rows []benchRow
	step := func(name string, fn func() ([]benchRow, error)) {
		if !r.o.wants(name) || ctx.Err() != nil {
			return
		}
		fmt.Fprintf(r.log, "\n=== %s (%s, load average %s)\n", name, time.Now().UTC().Format("15:04:05"), loadAvg())
		got, err := fn()
		rows = append(rows, got...)
		if err != nil {
			rows = append(rows, failed(name, err))
			fmt.Fprintf(r.log, "%s: %v\n", name, err)
		}
		// The rows so far, so a long run stopped half-way keeps them.
		printMarkdown(r.log, got)
		if r.o.out != "" {
			writeMarkdown(r.o.out, "(incomplete: the run is still going)", rows)
		}
	}
	needServer := r.o.wants("startup") || r.o.wants("backup")
	if needServer {
		r.bin = filepath.Join(r.dir, "crm")
		fmt.Fprintln(r.log, "building ./cmd/crm …")
		if err := buildServer(ctx, r.bin, r.log); err != nil {
			return append(rows, failed("build", err))
		}
	}
	seeded, seedErr := false, error(nil)
	seed := func() error {
		if seeded || seedErr != nil {
			return seedErr
		}
		var got []benchRow
		got, seedErr = r.ensureSeeded(ctx)
		rows = append(rows, got...)
		seeded = seedErr == nil
		return seedErr
	}
	step("startup", func() ([]benchRow, error) {
		return serverRows(ctx, r.bin, r.dir, r.dsnFor("startup"), r.o.settle), nil
	})
	step("seed", func() ([]benchRow, error) { return nil, seed() })
	for _, name := range []string{"search", "list"} {
		step(name, func() ([]benchRow, error) {
			if err := seed(); err != nil {
				return nil, err
			}
			return searchListRows(ctx, r.o.dsn, r.o.size.runs, name == "search", name == "list", r.log)
		})
	}
	step("reports", func() ([]benchRow, error) { return r.reportRows(ctx) })
	mysqlDSN := r.dsnFor("")
	for _, g := range []struct {
		name  string
		bench []goBench
		rows  []func(benchResults) ([]benchRow, error)
	}{
		{"timeline", []goBench{timelineBench()}, []func(benchResults) ([]benchRow, error){timelineRows}},
		{"pipeline", []goBench{pipelineBench()}, []func(benchResults) ([]benchRow, error){pipelineRows}},
		{"import", []goBench{importBench()}, []func(benchResults) ([]benchRow, error){importRows}},
		{"pool", []goBench{reclaimBench()}, []func(benchResults) ([]benchRow, error){reclaimRows}},
		{"export", []goBench{exportBench()}, []func(benchResults) ([]benchRow, error){exportRows}},
		{"orgsync", []goBench{orgSyncBench(), dingtalkWalkBench()}, []func(benchResults) ([]benchRow, error){orgSyncRows, dingtalkWalkRows}},
		{"reminders", []goBench{remindersBench(r.o.size.reminders)}, []func(benchResults) ([]benchRow, error){remindersRows(r.o.size.reminders)}},
	} {
		step(g.name, func() ([]benchRow, error) {
			var out []benchRow
			for i, b := range g.bench {
				res, err := b.run(ctx, mysqlDSN, r.log)
				if err != nil {
					return out, err
				}
				got, err := g.rows[i](res)
				out = append(out, got...)
				if err != nil {
					return out, err
				}
			}
			return out, nil
		})
	}
	step("backup", func() ([]benchRow, error) {
		if err := seed(); err != nil {
			return nil, err
		}
		return r.backupRows(ctx)
	})
	return rows
}

// ensureSeeded loads the customers unless the database already holds
// exactly the scale's number (a rerun reuses the data: seeding is
// deterministic), and the same number of sales records for the backup.
func (r *allRun) ensureSeeded(ctx context.Context) ([]benchRow, error) {
	n := r.o.size.customers
	have, sales, err := countSeeded(ctx, r.o.dsn)
	if err != nil {
		return nil, err
	}
	var rows []benchRow
	if have != n || r.o.reseed {
		fmt.Fprintf(r.log, "loading %d customers into %s (it holds %d)\n", n, r.cfg.DBName, have)
		start := time.Now()
		// One writer: the report summary triggers make concurrent bulk
		// writers of customers and sales deadlock on shared summary rows.
		err := seedCmd(ctx, []string{"--dsn", r.o.dsn, "--customers", strconv.Itoa(n), "--reset", "--workers", "1"}, r.log, r.log)
		if err != nil {
			return nil, err
		}
		took := time.Since(start).Seconds()
		row := reported("seed", fmt.Sprintf("bulk-load %d customers with their search index", n), sQ(took), quantity{})
		row.note = fmt.Sprintf("%.0f customers/s (the foundation's aim: 1,000,000 in under 15 minutes)", float64(n)/took)
		rows = append(rows, row)
		sales = 0
	} else {
		fmt.Fprintf(r.log, "%s already holds %d customers: reusing them (--reseed to reload)\n", r.cfg.DBName, have)
	}
	if sales == 0 && r.o.wants("backup") {
		if err := seedSalesCmd(ctx, []string{"--dsn", r.o.dsn, "--sales", strconv.Itoa(n), "--workers", "1"}, r.log, r.log); err != nil {
			return rows, fmt.Errorf("seed-sales: %w", err)
		}
	}
	return rows, nil
}

// countSeeded counts customers and sales, 0 for a database or table
// that does not exist yet.
func countSeeded(ctx context.Context, dsn string) (customers, sales int, err error) {
	if err := prepareDatabase(ctx, dsn, false); err != nil {
		return 0, 0, err
	}
	db, err := openMySQL(ctx, dsn, false)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if db.GetContext(ctx, &customers, "SELECT COUNT(*) FROM customers") != nil {
		return 0, 0, nil
	}
	var users int
	if db.GetContext(ctx, &users, "SELECT COUNT(*) FROM users") != nil || users == 0 {
		return 0, 0, nil
	}
	db.GetContext(ctx, &sales, "SELECT COUNT(*) FROM sales")
	return customers, sales, nil
}

// reportTarget is the reports issue's: at least 20× the direct GROUP BY.
const reportTarget = 20

// reportRows runs `crmbench reports` into <db>_reports at the scale's
// steps. Each report at the largest step is a row against the direct
// GROUP BY; its growth from the first step is a row against "roughly flat".
func (r *allRun) reportRows(ctx context.Context) ([]benchRow, error) {
	steps := r.o.size.salesSteps
	o := reportOptions{dsn: r.dsnFor("reports"), steps: steps, customers: min(50_000, r.o.size.customers), runs: min(15, r.o.size.runs), reset: true}
	cases, err := runReports(ctx, o, r.log)
	dropDatabase(ctx, o.dsn)
	if err != nil {
		return nil, err
	}
	first := map[string]reportCase{}
	var rows []benchRow
	last := steps[len(steps)-1]
	for _, c := range cases {
		if c.sales == steps[0] {
			first[c.name] = c
		}
		if c.sales != last {
			continue
		}
		row := faster("reports", fmt.Sprintf("%s, %d sales, p50", c.name, last), msQ(ms64(c.fast.p50())), msQ(ms64(c.slow.p50())), reportTarget)
		row.note = fmt.Sprintf("p95 %s against %s", ms(c.fast.p95()), ms(c.slow.p95()))
		rows = append(rows, row)
		if f, ok := first[c.name]; ok && len(steps) > 1 {
			growth := within("reports", fmt.Sprintf("%s: p50 at %d sales (baseline: at %d)", c.name, last, steps[0]),
				msQ(ms64(c.fast.p50())), msQ(ms64(f.fast.p50())), 2)
			growth.target = "≤ 2× (\"roughly flat\")"
			growth.note = fmt.Sprintf("the data grew %.0f×; the direct query's p50 grew %.1f×", float64(last)/float64(steps[0]),
				float64(c.slow.p50())/float64(f.slow.p50()))
			rows = append(rows, growth)
		}
	}
	return rows, nil
}

// backupRows runs `crmbench backup` on the main database (its customers
// and sales): crm backup against mysqldump, crm restore against the mysql
// load, each in the same run, and the peak memory of each.
func (r *allRun) backupRows(ctx context.Context) ([]benchRow, error) {
	dir, err := os.MkdirTemp(r.dir, "backup-")
	if err != nil {
		return nil, err
	}
	b := backupBench{src: r.cfg, dir: dir, bin: r.bin, stderr: r.log}
	if err := b.describe(ctx, r.log); err != nil {
		return nil, err
	}
	results, err := b.runAll(ctx)
	for _, db := range []string{b.name("crm"), b.name("mysql")} {
		b.server(ctx, "DROP DATABASE IF EXISTS `"+db+"`")
	}
	if err != nil {
		return nil, err
	}
	if len(results) != 4 {
		return nil, errors.New("the backup benchmark returned an unexpected number of steps")
	}
	size := fmt.Sprintf("%d rows", b.rows)
	rss := func(s stepResult) quantity { return quantity{float64(s.maxKB) / 1024, "MiB"} }
	backup := within("backup", "crm backup, "+size+" (baseline: mysqldump --single-transaction --quick)",
		sQ(results[1].took.Seconds()), sQ(results[0].took.Seconds()), 2)
	restore := within("backup", "crm restore into MySQL (baseline: mysql < dump.sql)",
		sQ(results[3].took.Seconds()), sQ(results[2].took.Seconds()), 2)
	backupMem := reported("backup", "crm backup peak RSS (baseline: mysqldump's)", rss(results[1]), rss(results[0]))
	backupMem.note = "the target is memory flat with size: compare runs at two scales"
	restoreMem := reported("backup", "crm restore peak RSS (baseline: the mysql client's)", rss(results[3]), rss(results[2]))
	return []benchRow{backup, restore, backupMem, restoreMem}, nil
}

// dropDatabase removes a database the run made for itself, once measured.
func dropDatabase(ctx context.Context, dsn string) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil || cfg.DBName == "" {
		return
	}
	name := cfg.DBName
	cfg.DBName = ""
	db, err := openMySQL(ctx, cfg.FormatDSN(), false)
	if err != nil {
		return
	}
	defer db.Close()
	db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+strings.ReplaceAll(name, "`", "")+"`")
}

// describeRun is the line printed above the table: when, on what, how.
func describeRun(ctx context.Context, o allOptions) string {
	parts := []string{time.Now().UTC().Format("2006-01-02 15:04 MST")}
	parts = append(parts, fmt.Sprintf("%d CPUs, %s RAM", runtime.NumCPU(), memTotal()))
	if v, err := os.ReadFile("/etc/debian_version"); err == nil {
		parts = append(parts, "Debian "+strings.TrimSpace(string(v)))
	}
	parts = append(parts, runtime.Version())
	if server := serverVersion(ctx, o.dsn); server != "" {
		parts = append(parts, server)
	}
	parts = append(parts, fmt.Sprintf("scale %s (%d customers)", o.scale, o.size.customers), "load average at the start "+loadAvg())
	return strings.Join(parts, "; ") + "\ncommand: " + o.argsLine
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}

// serverVersion is the MySQL server's version and buffer pool, "" if it
// cannot be reached (the benchmarks that need it will say so).
func serverVersion(ctx context.Context, dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return ""
	}
	cfg.DBName = ""
	db, err := openMySQL(ctx, cfg.FormatDSN(), false)
	if err != nil {
		return ""
	}
	defer db.Close()
	var version string
	var pool int64
	if db.QueryRowContext(ctx, "SELECT VERSION(), @@innodb_buffer_pool_size").Scan(&version, &pool) != nil {
		return ""
	}
	return fmt.Sprintf("MySQL server %s at %s, innodb_buffer_pool_size %d MiB", version, cfg.Addr, pool>>20)
}
