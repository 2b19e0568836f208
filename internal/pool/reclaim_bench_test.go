package pool_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// BenchmarkReclaim times the reclaim job over 5,000 overdue customers on
// MySQL: one run that warns them all and one that reclaims them all (each
// reclaim re-reads its row under a lock and writes an audit entry). The
// baseline is the plain candidate scan, one SELECT of the same rows.
// Run: CRM_TEST_MYSQL_DSN=… go test ./internal/pool -run ^$ -bench Reclaim
func BenchmarkReclaim(b *testing.B) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" {
		b.Skip("MySQL not configured: set CRM_TEST_MYSQL_DSN")
	}
	ctx := context.Background()
	db := storetest.MySQL(b)
	if err := seed.EnsureRoles(ctx, db); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		b.Fatal(err)
	}
	var owner, dept int64
	db.Get(&owner, "SELECT id FROM users WHERE userid = 'sim_s1'")
	db.Get(&dept, "SELECT department_id FROM user_departments WHERE user_id = ?", owner)
	const n, batch = 5000, 500
	long := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i += batch {
		args := []any{}
		for j := 0; j < batch; j++ {
			args = append(args, "基准"+itoa(int64(i+j)), owner, dept, long, long, long)
		}
		if _, err := db.Exec(`INSERT INTO customers (name, level, status, note, owner_id, department_id, created_by,
			created_at, updated_at, last_follow_at) VALUES `+strings.TrimSuffix(strings.Repeat("(?, 'c', 'deal', '', ?, ?, 1, ?, ?, ?), ", batch), ", "), args...); err != nil {
			b.Fatal(err)
		}
	}
	svc := pool.NewService(db, auth.NewLoader(db))
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var scan, run time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db.Exec("UPDATE customers SET owner_id = ?, department_id = ?, pool_entered_at = NULL, pool_cause = '' WHERE name LIKE '基准%'", owner, dept)
		db.Exec("DELETE FROM pool_warnings")
		start := time.Now()
		var ids []int64
		if err := db.Select(&ids, `SELECT id FROM customers WHERE deleted_at IS NULL AND owner_id > 0
			AND COALESCE(last_follow_at, created_at) <= ?`, t0); err != nil || len(ids) != n {
			b.Fatalf("baseline scan: %v %d", err, len(ids))
		}
		scan += time.Since(start)
		b.StartTimer()
		start = time.Now()
		warned, err := svc.Reclaim(ctx, t0)
		if err != nil || len(warned.Warned) != n {
			b.Fatalf("warn pass: %v %d", err, len(warned.Warned))
		}
		reclaimed, err := svc.Reclaim(ctx, t0.Add(3*24*time.Hour))
		if err != nil || len(reclaimed.Reclaimed) != n {
			b.Fatalf("reclaim pass: %v %d", err, len(reclaimed.Reclaimed))
		}
		run += time.Since(start)
	}
	b.ReportMetric(float64(2*n*b.N)/run.Seconds(), "customers/s")
	b.ReportMetric(float64(scan.Milliseconds())/float64(b.N), "baseline_scan_ms")
	b.ReportMetric(float64(run.Milliseconds())/float64(b.N), "warn+reclaim_ms")
}
