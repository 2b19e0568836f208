package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/store"
)

// followupsCmd is `crmbench followups`: it adds follow-ups to a database
// `crmbench seed` loaded (once; a rerun measures the same rows) and times
// the follow-up list (GET /followups: COUNT and one page of 20) through
// the service against the single statement it replaced, whose visibility
// rule "the customer is mine OR I wrote it" no index serves. Both must
// return the same page and total.
func followupsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("followups", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN of a database crmbench seed loaded")
	n := fs.Int("followups", 500_000, "follow-ups to add when the table is empty")
	runs := fs.Int("runs", 20, "timed runs per case")
	warmup := fs.Int("warmup", 2, "untimed runs per case first")
	roles := fs.String("roles", "sales,manager,admin", "whose lists to time: the first person of each role")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *runs < 1 || *warmup < 0 {
		return errors.New("--followups and --runs must be positive")
	}
	db, err := openMySQL(ctx, *dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureFollowups(ctx, db, *n, stdout, stderr); err != nil {
		return err
	}
	actors, err := followupActors(ctx, db, strings.Split(*roles, ","))
	if err != nil {
		return err
	}
	svc := followup.NewService(db)
	fmt.Fprintf(stdout, "Follow-up list, COUNT + page of 20: split (the service) against the plain OR statement; load average %s\n\n", loadAvg())
	fmt.Fprintln(stdout, "| list | scope | rows | plain p50 | plain p95 | split p50 | split p95 | faster (p50) |")
	fmt.Fprintln(stdout, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, a := range actors {
		for _, c := range followupCases {
			fmt.Fprintf(stderr, "\rlisting %-8s %-30s", a.label, c.label)
			row, err := compareFollowups(ctx, db, svc, a.actor, c.f, *runs, *warmup)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", a.label, c.label, err)
			}
			fmt.Fprintf(stdout, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", c.label, a.label, row.total,
				ms(row.plain.p50()), ms(row.plain.p95()), ms(row.split.p50()), ms(row.split.p95()),
				times(float64(row.plain.p50())/float64(row.split.p50())))
		}
	}
	fmt.Fprintf(stderr, "\r%60s\r", "")
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", loadAvg())
	return nil
}

type followupCase struct {
	label string
	f     followup.Filter
}

var followupCases = []followupCase{
	{"no filter, page 1", followup.Filter{Page: 1}},
	{"no filter, page 25", followup.Filter{Page: 25}},
	{"method=visit, page 1", followup.Filter{Method: "visit", Page: 1}},
}

type labelledActor struct {
	label string
	actor *auth.Actor
}

// followupActors are a salesperson (scope self), a region manager (scope
// department and below) and the admin (company-wide), through the real
// loader.
func followupActors(ctx context.Context, db *store.DB, roles []string) ([]labelledActor, error) {
	loader := auth.NewLoader(db)
	var out []labelledActor
	for _, role := range roles {
		id, err := firstWithRole(ctx, db, role)
		if err != nil {
			return nil, err
		}
		a, err := loader.Load(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load %s %d: %w", role, id, err)
		}
		out = append(out, labelledActor{role, a})
	}
	return out, nil
}

type followupTimes struct {
	total        int
	plain, split samples
}

// compareFollowups times the service's runs, then the plain statement's,
// each block after its own warm-up: alternating them would have every
// plain run (a walk of the whole table) evict what the split reads from
// the buffer pool. Every answer of both must be the same page and total.
func compareFollowups(ctx context.Context, db *store.DB, svc *followup.Service, a *auth.Actor, f followup.Filter, runs, warmup int) (followupTimes, error) {
	f.PageSize = pageSize
	var out followupTimes
	type answer struct {
		ids   []int64
		total int
	}
	var first *answer
	check := func(got answer, who string) error {
		if first == nil {
			first = &got
			return nil
		}
		if got.total != first.total || !slices.Equal(got.ids, first.ids) {
			return fmt.Errorf("%s answered %d rows %v, earlier %d rows %v", who, got.total, got.ids, first.total, first.ids)
		}
		return nil
	}
	for i := range warmup + runs {
		var got answer
		d, err := timed(ctx, func(ctx context.Context) error {
			items, total, err := svc.List(ctx, a, f)
			got.total = total
			for _, it := range items {
				got.ids = append(got.ids, it.ID)
			}
			return err
		})
		if err == nil {
			err = check(got, "the service")
		}
		if err != nil {
			return out, err
		}
		if i >= warmup {
			out.split = append(out.split, d)
		}
	}
	for i := range warmup + runs {
		var got answer
		d, err := timed(ctx, func(ctx context.Context) error {
			var err error
			got.ids, got.total, err = plainFollowups(ctx, db, a, f)
			return err
		})
		if err == nil {
			err = check(got, "the plain statement")
		}
		if err != nil {
			return out, err
		}
		if i >= warmup {
			out.plain = append(out.plain, d)
		}
	}
	out.total = first.total
	return out, nil
}

// plainFollowups is the list as one statement with the OR, as before the
// split: its COUNT and its page (the same columns and joins).
func plainFollowups(ctx context.Context, db *store.DB, a *auth.Actor, f followup.Filter) ([]int64, int, error) {
	custCond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	ownCond, ownArgs := a.ScopeFilter("f.owner_id", "f.department_id")
	where := " WHERE f.deleted_at IS NULL AND c.deleted_at IS NULL AND (" + custCond + " OR " + ownCond + ")"
	args = append(args, ownArgs...)
	if f.Method != "" {
		where += " AND f.method = ?"
		args = append(args, f.Method)
	}
	var total int
	if err := db.GetContext(ctx, &total, "SELECT COUNT(*) FROM followups f JOIN customers c ON c.id = f.customer_id"+where, args...); err != nil {
		return nil, 0, err
	}
	var rows []followup.Followup
	err := db.SelectContext(ctx, &rows, `SELECT f.id, f.customer_id, c.name AS customer_name, f.opportunity_id, f.owner_id,
		COALESCE(o.name, '') AS owner_name, f.department_id, f.followed_at, f.method, f.content, f.result,
		f.next_step, f.next_follow_at, f.created_by, f.created_at, f.updated_at, f.version
		FROM followups f JOIN customers c ON c.id = f.customer_id LEFT JOIN users o ON o.id = f.owner_id`+where+
		" ORDER BY f.followed_at DESC, f.id DESC LIMIT ? OFFSET ?", append(args, f.PageSize, (f.Page-1)*f.PageSize)...)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, total, err
}

// ensureFollowups loads n follow-ups when the table is empty: each on a
// random customer, nine in ten by its owner and one in ten by another
// salesperson (a colleague who helped, or the owner before a hand-over),
// over the last two years.
func ensureFollowups(ctx context.Context, db *store.DB, n int, stdout, stderr io.Writer) error {
	var have, customers int64
	if err := db.GetContext(ctx, &have, "SELECT COUNT(*) FROM followups"); err != nil {
		return err
	}
	if err := db.GetContext(ctx, &customers, "SELECT COUNT(*) FROM customers"); err != nil {
		return err
	}
	if customers == 0 {
		return errors.New("no customers: run `crmbench seed` first")
	}
	if have > 0 {
		fmt.Fprintf(stdout, "%d customers, %d follow-ups (already loaded)\n", customers, have)
		return nil
	}
	owners, err := loadOwners(ctx, db.DB, customers)
	if err != nil {
		return err
	}
	start := time.Now()
	bar := countBar(int64(n), "follow-ups", stderr)
	const batch = 2000
	for first := 0; first < n; first += batch {
		if err := insertFollowups(ctx, db.DB, owners, first, min(batch, n-first)); err != nil {
			return err
		}
		bar.Add(min(batch, n-first))
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE followups"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d customers; loaded %d follow-ups in %s\n", customers, n, time.Since(start).Round(time.Second))
	return nil
}

func insertFollowups(ctx context.Context, db *sqlx.DB, owners []custOwner, first, n int) error {
	r := rand.New(rand.NewPCG(uint64(first), 7))
	var b strings.Builder
	b.WriteString(`INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content, result,
		next_step, created_by, created_at, updated_at, version) VALUES `)
	args := make([]any, 0, n*11)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, '', '', ?, ?, ?, 1)")
		cid := int64(1 + r.IntN(len(owners)-1))
		author := owners[cid]
		if r.IntN(10) == 0 {
			author = owners[1+r.IntN(len(owners)-1)]
		}
		at := benchNow.Add(-time.Duration(r.IntN(730*24*60)) * time.Minute)
		args = append(args, cid, author.owner, author.dept, at, followup.Methods[r.IntN(len(followup.Methods))],
			fmt.Sprintf("电话沟通了报价和交付时间（第 %d 条）", first+i+1), author.owner, at, at)
	}
	_, err := db.ExecContext(ctx, b.String(), args...)
	return err
}
