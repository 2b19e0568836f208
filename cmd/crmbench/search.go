package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
)

// searchOptions are the flags of `crmbench search`.
type searchOptions struct {
	dsn       string
	runs      int
	warmup    int
	salesUser int64
	target    float64
	budget    time.Duration
}

func parseSearchFlags(args []string, stderr io.Writer) (searchOptions, error) {
	var o searchOptions
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN of a database loaded by `crmbench seed`")
	fs.IntVar(&o.runs, "runs", 20, "timed runs of each query and path")
	fs.IntVar(&o.warmup, "warmup", 2, "untimed runs first (caches, run budget), also checked for identical results")
	fs.Int64Var(&o.salesUser, "sales-user", 0, "user id of the salesperson (default: the first one)")
	fs.Float64Var(&o.target, "target", 50, "required speed-up of search over the faster scan (p50)")
	fs.DurationVar(&o.budget, "budget", 20*time.Second, "time allowed per path and query; slower paths get fewer runs (at least 3)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.runs < 1 || o.warmup < 1 {
		return o, errors.New("--runs and --warmup must be positive")
	}
	return o, nil
}

// scope is an Actor the benchmark searches as.
type scope struct {
	label   string
	actor   *auth.Actor
	visible int // customers in the Actor's scope
}

// benchQuery is a search box input and what kind of input it stands for.
type benchQuery struct {
	kind string
	q    string
}

func searchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseSearchFlags(args, stderr)
	if err != nil {
		return err
	}
	// The same connection settings as the server (store.Open: arguments
	// interpolated by the driver, one round trip per query), for the
	// service and the scans alike.
	db, err := openMySQL(ctx, o.dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	loader := auth.NewLoader(db)
	svc := customer.NewService(db, customer.NewStore(db), loader, audit.NewService(db))
	scopes, err := loadScopes(ctx, db, loader, svc, o.salesUser)
	if err != nil {
		return err
	}
	queries, err := benchQueries(ctx, db, scopes[0].actor.UserID)
	if err != nil {
		return err
	}
	if err := printEnvironment(ctx, db, scopes, o, stdout); err != nil {
		return err
	}
	b := searchBench{svc: svc, scan: likeScan{db: db}, runs: o.runs, warmup: o.warmup, budget: o.budget, progress: stderr}
	misses, err := b.compareAll(ctx, scopes, queries, o.target, stdout)
	if err != nil {
		return err
	}
	if err := listBench(ctx, svc, scopes, o, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "load average at the end: %s\n", loadAvg())
	if misses > 0 {
		return fmt.Errorf("%d of %d search comparisons missed the %.0f× target", misses, len(scopes)*len(queries), o.target)
	}
	return nil
}

// loadScopes builds the two Actors through the real auth loader: the
// salesperson (scope self) and the admin (scope all).
func loadScopes(ctx context.Context, db *store.DB, loader *auth.Loader, svc *customer.Service, salesID int64) ([]scope, error) {
	if salesID == 0 {
		var err error
		if salesID, err = firstWithRole(ctx, db, "sales"); err != nil {
			return nil, err
		}
	}
	adminID, err := firstWithRole(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	var out []scope
	for _, s := range []struct {
		label string
		id    int64
	}{{"sales", salesID}, {"admin", adminID}} {
		a, err := loader.Load(ctx, s.id)
		if err != nil {
			return nil, fmt.Errorf("load %s actor %d: %w", s.label, s.id, err)
		}
		_, visible, err := svc.List(ctx, a, customer.Filter{PageSize: 1})
		if err != nil {
			return nil, err
		}
		out = append(out, scope{label: s.label, actor: a, visible: visible})
	}
	return out, nil
}

func firstWithRole(ctx context.Context, db *store.DB, role string) (int64, error) {
	var id int64
	err := db.GetContext(ctx, &id, `SELECT COALESCE(MIN(ur.user_id), 0) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
		WHERE r.code = ?`, role)
	if err != nil {
		return 0, fmt.Errorf("find a %s user: %w", role, err)
	}
	if id == 0 {
		return 0, fmt.Errorf("no %s user in the database (run `crmbench seed` first)", role)
	}
	return id, nil
}

// benchQueries are what people type into the search box. Some are taken
// from one of the salesperson's own customers, as a salesperson looking a
// customer up would type them, so the sales scope finds something.
func benchQueries(ctx context.Context, db *store.DB, salesID int64) ([]benchQuery, error) {
	var sample struct {
		Name  string `db:"name"`
		Phone string `db:"phone"`
	}
	err := db.GetContext(ctx, &sample, `SELECT name, phone FROM customers
		WHERE owner_id = ? AND CHAR_LENGTH(name) = 3 AND CHAR_LENGTH(phone) = 11 ORDER BY id LIMIT 1`, salesID)
	if err != nil {
		return nil, fmt.Errorf("pick a sample customer: %w", err)
	}
	return []benchQuery{
		{"surname + given name (2 chars)", "王芳"},
		{"full name (3 chars)", sample.Name},
		{"company fragment", "瑞丰电子"},
		{"city + brand", "杭州瑞丰"},
		{"phone, last 4 digits", sample.Phone[7:]},
		{"phone, 7 digits", sample.Phone[3:10]},
		{"Latin fragment", "apex"},
	}, nil
}

// printEnvironment says what was measured, on what.
func printEnvironment(ctx context.Context, db *store.DB, scopes []scope, o searchOptions, w io.Writer) error {
	var version string
	var pool, customers, grams int64
	for _, q := range []struct {
		dst any
		sql string
	}{
		{&version, "SELECT VERSION()"}, {&pool, "SELECT @@innodb_buffer_pool_size"},
		{&customers, "SELECT COUNT(*) FROM customers"}, {&grams, "SELECT COUNT(*) FROM customer_grams"},
	} {
		if err := db.GetContext(ctx, q.dst, q.sql); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "server %s, innodb_buffer_pool_size %d MiB; %d customers, %d index rows; load average %s\n",
		version, pool>>20, customers, grams, loadAvg())
	for _, s := range scopes {
		fmt.Fprintf(w, "scope %-5s: user %d (%s, scope %s) sees %d customers\n", s.label, s.actor.UserID, s.actor.Name, s.actor.Scope, s.visible)
	}
	fmt.Fprintf(w, "up to %d timed runs per query and path (fewer for paths slower than the %s budget) after %d warm-up runs; paths take turns\n\n",
		o.runs, o.budget, o.warmup)
	return nil
}

// searchBench times the service's keyword search against the scans.
type searchBench struct {
	svc      *customer.Service
	scan     likeScan
	runs     int
	warmup   int
	budget   time.Duration
	progress io.Writer
}

// path is one way of answering a query, and its timings.
type path struct {
	run   func(context.Context) (result, error)
	times samples
	quota int // timed runs it gets
}

// compareAll runs every query in every scope and prints one table; it
// returns how many comparisons missed the target. Different results from
// any two paths are an error: a fast search that finds other rows is wrong.
func (b searchBench) compareAll(ctx context.Context, scopes []scope, queries []benchQuery, target float64, w io.Writer) (int, error) {
	fmt.Fprintf(w, "Keyword search: service (gram index) vs a plain LIKE '%%q%%' scan with the same scope, ORDER BY, LIMIT and COUNT.\n")
	fmt.Fprintf(w, "scan = as MySQL plans it; full scan = the same SQL with USE INDEX (); speed-up = the faster scan's p50 / search p50.\n\n")
	fmt.Fprintln(w, "| query | q | scope | rows | search p50 | search p95 | scan p50 | scan p95 | full scan p50 | full scan p95 | speed-up | target | result | runs |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|")
	misses := 0
	for _, s := range scopes {
		for _, q := range queries {
			fmt.Fprintf(b.progress, "\rsearching %-5s %-32s", s.label, q.kind)
			rows, ps, err := b.compare(ctx, s.actor, q.q)
			if err != nil {
				return misses, fmt.Errorf("%s, q=%q: %w", s.label, q.q, err)
			}
			search, scan, full := ps[0].times, ps[1].times, ps[2].times
			ratio := float64(min(scan.p50(), full.p50())) / float64(search.p50())
			result := "pass"
			if ratio < target {
				result, misses = "FAIL", misses+1
			}
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %.0f× | %s | %d/%d/%d |\n",
				q.kind, q.q, s.label, rows, ms(search.p50()), ms(search.p95()), ms(scan.p50()), ms(scan.p95()),
				ms(full.p50()), ms(full.p95()), times(ratio), target, result, len(search), len(scan), len(full))
		}
	}
	fmt.Fprintf(b.progress, "\r%60s\r", "")
	fmt.Fprintln(w)
	return misses, nil
}

// compare answers q through the service, the scan as planned and the full
// scan, taking turns in a rotating order so none always finds the others'
// pages in the cache, and checks every answer is the same page and total.
// A path slower than the time budget allows gets fewer timed runs (at
// least three): an unindexed plan can take seconds a run.
func (b searchBench) compare(ctx context.Context, a *auth.Actor, q string) (int, []*path, error) {
	f := customer.Filter{Q: q, PageSize: pageSize}
	ps := []*path{
		{run: func(ctx context.Context) (result, error) { return serviceResult(b.svc.List(ctx, a, f)) }},
		{run: func(ctx context.Context) (result, error) { return b.scan.list(ctx, a, q, "") }},
		{run: func(ctx context.Context) (result, error) { return b.scan.list(ctx, a, q, "USE INDEX ()") }},
	}
	for _, p := range ps {
		p.quota = b.runs
	}
	var ref *result
	for i := 0; ; i++ {
		busy := false
		for k := range ps {
			p := ps[(i+k)%len(ps)]
			if i >= b.warmup && len(p.times) >= p.quota {
				continue
			}
			busy = true
			var r result
			d, err := timed(ctx, func(ctx context.Context) (err error) { r, err = p.run(ctx); return err })
			if err != nil {
				return 0, nil, err
			}
			if ref == nil {
				ref = &r
			} else if err := r.sameAs(*ref); err != nil {
				return 0, nil, err
			}
			switch {
			case i >= b.warmup:
				p.times = append(p.times, d)
			case i == b.warmup-1:
				p.quota = max(3, min(b.runs, int(b.budget/max(d, time.Microsecond))))
			}
		}
		if !busy {
			return ref.total, ps, nil
		}
	}
}

func serviceResult(items []customer.Customer, total int, err error) (result, error) {
	r := result{total: total}
	for _, c := range items {
		r.ids = append(r.ids, c.ID)
	}
	return r, err
}

// result is one page of ids and the total count.
type result struct {
	ids   []int64
	total int
}

func (r result) sameAs(ref result) error {
	if r.total != ref.total || !slices.Equal(r.ids, ref.ids) {
		return fmt.Errorf("RESULTS DIFFER: total %d ids %v, but an earlier answer had total %d ids %v", r.total, r.ids, ref.total, ref.ids)
	}
	return nil
}

// pageSize is the list page the web app asks for.
const pageSize = 20

// likeScan is the baseline: what keyword search would be without its
// index, a LIKE '%q%' over search_text, restricted by the same data scope
// and paged and counted the same way as the service.
type likeScan struct {
	db *store.DB
}

// list answers q; hint is an index hint for customers, "" for none.
func (s likeScan) list(ctx context.Context, a *auth.Actor, q, hint string) (result, error) {
	cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	from := " FROM customers c " + hint + " WHERE c.deleted_at IS NULL AND " + cond +
		" AND c.owner_id > 0 AND c.search_text LIKE ? ESCAPE '!'"
	args = append(args, "%"+escapeLike(customer.NormalizeQuery(q))+"%")
	var r result
	if err := s.db.GetContext(ctx, &r.total, "SELECT COUNT(*)"+from, args...); err != nil {
		return r, fmt.Errorf("scan count: %w", err)
	}
	var rows []struct {
		ID        int64     `db:"id"`
		Name      string    `db:"name"`
		Phone     string    `db:"phone"`
		Company   string    `db:"company"`
		OwnerID   int64     `db:"owner_id"`
		UpdatedAt time.Time `db:"updated_at"`
	}
	err := s.db.SelectContext(ctx, &rows, "SELECT c.id, c.name, c.phone, c.company, c.owner_id, c.updated_at"+from+
		" ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", append(args, pageSize)...)
	if err != nil {
		return r, fmt.Errorf("scan page: %w", err)
	}
	for _, row := range rows {
		r.ids = append(r.ids, row.ID)
	}
	return r, nil
}

// escapeLike makes q match literally under ESCAPE '!' (a character with
// no special meaning in MySQL strings, unlike the backslash).
func escapeLike(q string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(q)
}
