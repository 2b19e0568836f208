package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/report"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/store"
)

type reportOptions struct {
	dsn       string
	sales     int
	steps     []int
	customers int
	runs      int
	reset     bool
}

func parseReportFlags(args []string, stderr io.Writer) (reportOptions, error) {
	var o reportOptions
	var steps string
	fs := flag.NewFlagSet("reports", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", "root@tcp(127.0.0.1:3306)/crm_bench_reports", "MySQL DSN of the benchmark database (created if missing)")
	fs.StringVar(&steps, "steps", "100000,1000000", "sales counts at which to measure (loaded cumulatively)")
	fs.IntVar(&o.customers, "customers", 50_000, "customers")
	fs.IntVar(&o.runs, "runs", 15, "timed runs per report and path")
	fs.BoolVar(&o.reset, "reset", true, "drop and recreate the database first")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || len(o.steps) > 0 && n <= o.steps[len(o.steps)-1] {
			return o, errors.New("--steps must be increasing positive counts")
		}
		o.steps = append(o.steps, n)
	}
	if o.customers < 1 || o.runs < 1 {
		return o, errors.New("--customers and --runs must be positive")
	}
	return o, nil
}

// reportsCmd loads sales (two years, 200 people, the customers) through
// plain INSERTs (so the summary triggers do their work as in production),
// and at each step times the monthly sales report and the performance
// report through the summaries against the direct GROUP BY over the raw
// tables, checking both give the same report.
func reportsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseReportFlags(args, stderr)
	if err != nil {
		return err
	}
	if !o.reset {
		return errors.New("the reports benchmark loads its own data: run it with --reset (the default)")
	}
	_, err = runReports(ctx, o, stdout)
	return err
}

// reportCase is one report timed through the summaries (fast) and the
// direct GROUP BY (slow) at one number of sales.
type reportCase struct {
	name       string
	sales      int
	fast, slow samples
}

// runReports loads the data, prints each step's table as it goes and
// returns every timed case, for `crmbench all`.
func runReports(ctx context.Context, o reportOptions, stdout io.Writer) ([]reportCase, error) {
	var out []reportCase
	err := measureReports(ctx, o, stdout, func(c reportCase) { out = append(out, c) })
	return out, err
}

func measureReports(ctx context.Context, o reportOptions, stdout io.Writer, record func(reportCase)) error {
	if err := prepareDatabase(ctx, o.dsn, true); err != nil {
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
	var pool int64
	if err := db.GetContext(ctx, &pool, "SELECT @@innodb_buffer_pool_size"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "MySQL/MariaDB innodb_buffer_pool_size %d MiB; %d CPUs; load %s\n", pool>>20, runtime.NumCPU(), loadAvg())
	gen := &generator{owners: owners, now: benchNow}
	keys, err := hasKeyColumns(ctx, db)
	if err != nil {
		return err
	}
	if keys {
		gen.uniqueKeys(o.customers, 2000)
	}
	start := time.Now()
	l := loader{db: db, gen: gen, batch: 2000, workers: 1, keys: keys} // one writer: the summary rows are shared
	if err := l.load(ctx, o.customers, io.Discard); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d customers in %s\n", o.customers, time.Since(start).Round(time.Second))
	sellers := owners[5:] // the salespeople (admin and managers first)
	b := &benchData{db: db, rnd: rand.New(rand.NewSource(14)), sellers: sellers, customers: o.customers}
	if err := b.products(ctx); err != nil {
		return err
	}
	svc := report.NewService(db, shanghaiZone(), i18n.MustLoad())
	loader := auth.NewLoader(db)
	admin, err := loader.Load(ctx, owners[0].ID)
	if err != nil {
		return err
	}
	manager, err := loader.Load(ctx, owners[1].ID)
	if err != nil {
		return err
	}
	loaded := 0
	for _, step := range o.steps {
		start := time.Now()
		if err := b.load(ctx, loaded, step); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nloaded sales %d..%d (+ items, opportunities, follow-ups) in %s (%.0f sales/s with the triggers)\n",
			loaded+1, step, time.Since(start).Round(time.Second), float64(step-loaded)/time.Since(start).Seconds())
		loaded = step
		for _, t := range []string{"sales", "sale_items", "opportunities", "followups", "report_sales_day", "report_sales_month", "report_activity_day", "report_activity_month"} {
			if _, err := db.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%-44s %10s %10s %10s %10s %8s\n", "report ("+strconv.Itoa(step)+" sales)", "p50", "p95", "direct p50", "direct p95", "ratio")
		for _, c := range []struct {
			name string
			a    *auth.Actor
			p    report.Params
		}{
			{"monthly sales, 12 months, admin", admin, report.Params{Type: "sales", GroupBy: "month", From: "2025-12-01", To: "2026-11-30"}},
			{"monthly sales, 24 months, admin", admin, report.Params{Type: "sales", GroupBy: "month", From: "2024-12-01", To: "2026-11-30"}},
			{"monthly sales, 12 months, region manager", manager, report.Params{Type: "sales", GroupBy: "month", From: "2025-12-01", To: "2026-11-30"}},
			{"performance by salesperson, month, admin", admin, report.Params{Type: "performance", GroupBy: "user", From: "2026-10-01", To: "2026-10-31"}},
			{"performance by salesperson, year, admin", admin, report.Params{Type: "performance", GroupBy: "user", From: "2026-01-01", To: "2026-12-31"}},
			{"performance by department, quarter, manager", manager, report.Params{Type: "performance", GroupBy: "department", From: "2026-07-01", To: "2026-09-30"}},
		} {
			fast, slow, err := compare(ctx, svc, c.a, c.p, o.runs)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			fmt.Fprintf(stdout, "%-44s %10s %10s %10s %10s %8s\n", c.name, ms(fast.p50()), ms(fast.p95()), ms(slow.p50()), ms(slow.p95()),
				times(float64(slow.p50())/float64(fast.p50())))
			record(reportCase{name: c.name, sales: step, fast: fast, slow: slow})
		}
	}
	fmt.Fprintf(stdout, "load %s\n", loadAvg())
	return nil
}

// compare times a report through the summaries and through the direct
// GROUP BY (Params.Raw), alternating, after checking they agree.
func compare(ctx context.Context, svc *report.Service, a *auth.Actor, p report.Params, runs int) (fast, slow samples, err error) {
	build := func(raw bool) (*reportview.Report, error) {
		q := p
		q.Raw = raw
		return svc.Build(ctx, a, q)
	}
	x, err := build(false)
	if err != nil {
		return nil, nil, err
	}
	y, err := build(true)
	if err != nil {
		return nil, nil, err
	}
	x.GeneratedAt, y.GeneratedAt = "", ""
	if !reflect.DeepEqual(x, y) {
		return nil, nil, errors.New("the summary and the direct query disagree")
	}
	for range runs {
		for _, raw := range []bool{false, true} {
			d, err := timed(ctx, func(ctx context.Context) error { _, err := build(raw); return err })
			if err != nil {
				return nil, nil, err
			}
			if raw {
				slow = append(slow, d)
			} else {
				fast = append(fast, d)
			}
		}
	}
	return fast, slow, nil
}

func shanghaiZone() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// benchData generates the sales side: products, sales with line items,
// opportunities and follow-ups, spread over two years to benchNow.
type benchData struct {
	db        *store.DB
	rnd       *rand.Rand
	sellers   []owner
	customers int
	productID []int64
}

func (b *benchData) products(ctx context.Context) error {
	for i := range 50 {
		res, err := b.db.ExecContext(ctx, "INSERT INTO products (name, code, unit, unit_price_fen, active, created_at, updated_at, version) VALUES (?, ?, '件', ?, 1, ?, ?, 1)",
			fmt.Sprintf("压测产品%02d", i), fmt.Sprintf("P%02d", i), 1000+i*100, benchNow, benchNow)
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		b.productID = append(b.productID, id)
	}
	return nil
}

const benchDays = 730

// load writes sales from+1..to, with one or two items each; per ten sales
// one opportunity (a third won, a third lost) and two follow-ups.
func (b *benchData) load(ctx context.Context, from, to int) error {
	const batch = 1000
	for first := from; first < to; first += batch {
		n := min(batch, to-first)
		err := b.db.WithTx(ctx, func(tx *sqlx.Tx) error { return b.batch(ctx, tx, int64(first+1), n) })
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *benchData) batch(ctx context.Context, tx *sqlx.Tx, firstID int64, n int) error {
	var sales, items, opps, fups strings.Builder
	var sa, ia, oa, fa []any
	sales.WriteString("INSERT INTO sales (id, customer_id, owner_id, department_id, sale_date, amount_fen, notes, created_by, created_at, updated_at, version) VALUES ")
	items.WriteString("INSERT INTO sale_items (sale_id, product_id, quantity, unit_price_fen, total_fen, sort_order) VALUES ")
	opps.WriteString("INSERT INTO opportunities (customer_id, title, amount_fen, owner_id, department_id, stage_id, probability, status, notes, closed_at, created_by, created_at, updated_at, expected_close_date) VALUES ")
	fups.WriteString("INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content, created_by, created_at, updated_at) VALUES ")
	r := b.rnd
	for i := range n {
		id := firstID + int64(i)
		o := b.sellers[r.Intn(len(b.sellers))]
		cust := 1 + r.Intn(b.customers)
		at := benchNow.Add(-time.Duration(r.Int63n(int64(benchDays * 24 * time.Hour))))
		date := at.In(shanghaiZone()).Format("2006-01-02")
		lines := 1 + r.Intn(2)
		var total int64
		for j := range lines {
			qty, price := int64(1+r.Intn(5)), int64(100+r.Intn(200000))
			if len(ia) > 0 {
				items.WriteString(", ")
			}
			items.WriteString("(?, ?, ?, ?, ?, ?)")
			ia = append(ia, id, b.productID[r.Intn(len(b.productID))], qty, price, qty*price, j+1)
			total += qty * price
		}
		if i > 0 {
			sales.WriteString(", ")
		}
		sales.WriteString("(?, ?, ?, ?, ?, ?, '', ?, ?, ?, 1)")
		sa = append(sa, id, cust, o.ID, o.Dept, date, total, o.ID, at, at)
		if i%10 == 0 {
			status, stage, prob := []string{"won", "lost", "open"}[r.Intn(3)], int64(5), 100
			var closed any
			switch status {
			case "won":
				closed = at
			case "lost":
				closed, stage, prob = at, 6, 0
			default:
				stage, prob = int64(1+r.Intn(4)), 10+20*r.Intn(4)
			}
			if len(oa) > 0 {
				opps.WriteString(", ")
			}
			opps.WriteString("(?, '压测机会', ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)")
			created := at.Add(-time.Duration(r.Intn(90*24)) * time.Hour)
			oa = append(oa, cust, total, o.ID, o.Dept, stage, prob, status, closed, o.ID, created, at, date)
			for range 2 {
				if len(fa) > 0 {
					fups.WriteString(", ")
				}
				fups.WriteString("(?, ?, ?, ?, 'phone', '', ?, ?, ?)")
				fat := at.Add(-time.Duration(r.Intn(72)) * time.Hour)
				fa = append(fa, cust, o.ID, o.Dept, fat, o.ID, fat, fat)
			}
		}
	}
	for _, s := range []struct {
		q    *strings.Builder
		args []any
	}{{&sales, sa}, {&items, ia}, {&opps, oa}, {&fups, fa}} {
		if len(s.args) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q.String(), s.args...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}
