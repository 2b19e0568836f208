package orgsync_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// platformQPS is DingTalk's limit per app and API, which the fake enforces
// over any one-second window.
const platformQPS = 20

// BenchmarkFullSync syncs a generated organization of 10,000 people in 500
// departments (about 5 % in two) from the fake DingTalk at the platform's
// real 20 calls/s per API, into an empty database (MySQL when
// CRM_TEST_MYSQL_DSN is set, else SQLite). It reports:
//
//   - calls: the API calls the fake received (retries included), against
//     min_calls, the fewest the APIs allow: one listsub per department (the
//     only way to find a department's children; leaves included), one
//     v2/user/list page per started 100 direct members of each department
//     (one for an empty department, to learn that it is empty), one
//     listadmin, one department/get (the root's name: listsub never returns
//     the root), and one gettoken;
//   - wall_s, the sync's wall time, against bound_s, the busiest API's calls
//     ÷ 20/s: the APIs have separate limits and run side by side, so the
//     busiest one bounds the whole;
//   - second_sync_writes: 1 if a second sync of the unchanged organization
//     wrote anything (audit rows, row counts or updated_at), else 0.
//
// Run it with: go test -run X -bench FullSync -benchtime 1x ./internal/orgsync/
// (one sync takes about half a minute, paced by the rate limit).
func BenchmarkFullSync(b *testing.B) {
	org := dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 10000, Departments: 500, Seed: 1})
	minCalls, perAPI := minimumCalls(org)
	qps := 19.0 // the client's pace: a hair under 20, so arrival jitter never fills a window
	if v, err := strconv.ParseFloat(os.Getenv("CRM_BENCH_CLIENT_QPS"), 64); err == nil && v > 0 {
		qps = v
	}
	var last benchResult
	for b.Loop() {
		last = runFullSync(b, org, qps)
	}
	calls := float64(last.calls)
	bound := 0.0
	for _, n := range last.perAPI {
		bound = max(bound, float64(n)/platformQPS)
	}
	b.ReportMetric(calls, "calls")
	b.ReportMetric(float64(minCalls), "min_calls")
	b.ReportMetric(calls/float64(minCalls), "calls/min")
	b.ReportMetric(last.wall.Seconds(), "wall_s")
	b.ReportMetric(bound, "bound_s")
	b.ReportMetric(last.wall.Seconds()/bound, "wall/bound")
	b.ReportMetric(last.apply.Seconds(), "apply_s")
	b.ReportMetric(float64(last.secondWrites), "second_sync_writes")
	b.Logf("engine %s, client %.1f calls/s per API; calls per API %v (minimum %v); people %d, departments %d",
		last.engine, qps, last.perAPI, perAPI, last.people, last.depts)
}

// minimumCalls computes the fewest calls a full read of org needs.
func minimumCalls(org *dingtalktest.Org) (int, map[string]int) {
	members := map[int64]int{}
	for _, u := range org.Users {
		for _, d := range u.DeptIDs {
			members[d]++
		}
	}
	pages := 0
	for _, d := range org.Departments {
		pages += max(1, (members[d.ID]+dingtalk.MaxPageSize-1)/dingtalk.MaxPageSize)
	}
	per := map[string]int{dingtalk.APIDeptListSub: len(org.Departments), dingtalk.APIUserList: pages,
		dingtalk.APIListAdmin: 1, dingtalk.APIDeptGet: 1, dingtalk.APIGetToken: 1}
	total := 0
	for _, n := range per {
		total += n
	}
	return total, per
}

type benchResult struct {
	engine        string
	calls         int
	perAPI        map[string]int
	wall, apply   time.Duration
	secondWrites  int
	people, depts int
}

func runFullSync(b *testing.B, org *dingtalktest.Org, qps float64) benchResult {
	b.StopTimer()
	ctx := context.Background()
	engine, db := "sqlite", (*store.DB)(nil)
	if os.Getenv("CRM_TEST_MYSQL_DSN") != "" {
		engine, db = "mysql", storetest.MySQL(b)
	} else {
		db = storetest.SQLite(b)
	}
	if err := seed.EnsureRoles(ctx, db); err != nil {
		b.Fatal(err)
	}
	fake := dingtalktest.New(dingtalktest.Options{Org: org}) // 20 calls/s per API, like DingTalk
	defer fake.Close()
	co := fake.ClientOptions()
	co.QPS = qps
	dt, err := dingtalk.New(co)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	mem := kv.NewMemory()
	loader := auth.NewLoader(db)
	svc, err := orgsync.New(orgsync.Deps{DB: db, DingTalk: dt, KV: mem, Sessions: auth.NewSessions(db, mem, time.Hour, log),
		People: loader, Pool: pool.NewService(db, loader)}, orgsync.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	b.StartTimer()
	start := time.Now()
	sy, err := svc.Run(ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
	wall := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	r := benchResult{engine: engine, wall: wall, perAPI: map[string]int{}, people: sy.Summary.People,
		depts: sy.Summary.Departments, apply: time.Duration(sy.Summary.WriteMS) * time.Millisecond}
	for _, api := range []string{dingtalk.APIDeptListSub, dingtalk.APIUserList, dingtalk.APIListAdmin, dingtalk.APIDeptGet, dingtalk.APIGetToken} {
		r.perAPI[api] = fake.Calls(api)
		r.calls += fake.Calls(api)
	}
	if sy.Summary.People != len(org.Users) || sy.Summary.PeopleAdded != len(org.Users) {
		b.Fatalf("synced %d people (%d added), want %d", sy.Summary.People, sy.Summary.PeopleAdded, len(org.Users))
	}
	before := snapshotWrites(b, db)
	sy2, err := svc.Run(ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
	if err != nil {
		b.Fatal(err)
	}
	if sy2.Summary.Changed() || snapshotWrites(b, db) != before {
		r.secondWrites = 1
	}
	b.StartTimer()
	return r
}

// snapshotWrites is the organization tables' and the log's row counts and
// newest update times.
func snapshotWrites(b *testing.B, db *store.DB) string {
	out := ""
	for _, q := range []string{"SELECT COUNT(*) FROM audit_log", "SELECT COUNT(*) FROM users",
		"SELECT COUNT(*) FROM user_departments", "SELECT COUNT(*) FROM user_roles", "SELECT COUNT(*) FROM departments",
		"SELECT COALESCE(CAST(MAX(updated_at) AS CHAR), '') FROM users",
		"SELECT COALESCE(CAST(MAX(updated_at) AS CHAR), '') FROM departments"} {
		var s string
		if err := db.Get(&s, q); err != nil {
			b.Fatal(err)
		}
		out += s + "|"
	}
	return out
}
