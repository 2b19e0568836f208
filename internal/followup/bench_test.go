package followup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// benchRecords is how many follow-ups (and timeline entries) the customer
// of the benchmark has.
const benchRecords = 10000

// BenchmarkCustomerTimeline: "the customer timeline for a customer with
// 10,000 related records answers without loading all of them (paged), p95
// reported". One customer gets 10,000 follow-ups and their 10,000 audit
// entries, bulk-inserted; then each sub-benchmark times one call and
// reports p50 and p95 in milliseconds:
//
//   - timeline_page1 / timeline_deep: customer.Service.Timeline, the
//     service behind GET /customers/{id}/timeline, first and last page of 20;
//   - followups_page1 / followups_deep: the follow-up list of that customer;
//   - baseline_all_timeline / baseline_all_followups: loading all 10,000
//     rows of each at once, what an unpaged answer would cost.
//
// MySQL only (the production engine): skipped unless CRM_TEST_MYSQL_DSN is
// set. Run: go test ./internal/followup -run '^$' -bench CustomerTimeline
func BenchmarkCustomerTimeline(b *testing.B) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" {
		b.Skip("MySQL not configured: set CRM_TEST_MYSQL_DSN=root@tcp(127.0.0.1:3306)/test")
	}
	ctx := context.Background()
	db := storetest.MySQL(b)
	owner, customerID := benchSeed(b, ctx, db)
	customers := customer.NewService(db, customer.NewStore(db), auth.NewLoader(db), audit.NewService(db))
	followups := followup.NewService(db)
	last := benchRecords / 20
	ops := []struct {
		name string
		want int // rows the call returns
		fn   func() (int, error)
	}{
		{"timeline_page1", 20, func() (int, error) {
			items, _, err := customers.Timeline(ctx, owner, customerID, 1, 20)
			return len(items), err
		}},
		{"timeline_deep", 20, func() (int, error) {
			items, _, err := customers.Timeline(ctx, owner, customerID, last, 20)
			return len(items), err
		}},
		{"followups_page1", 20, func() (int, error) {
			items, _, err := followups.List(ctx, owner, followup.Filter{CustomerID: customerID, Page: 1, PageSize: 20})
			return len(items), err
		}},
		{"followups_deep", 20, func() (int, error) {
			items, _, err := followups.List(ctx, owner, followup.Filter{CustomerID: customerID, Page: last, PageSize: 20})
			return len(items), err
		}},
		{"baseline_all_timeline", benchRecords + 1, func() (int, error) { return loadAllTimeline(ctx, db, customerID) }},
		{"baseline_all_followups", benchRecords, func() (int, error) { return loadAllFollowups(ctx, db, customerID) }},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			samples := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				n, err := op.fn()
				samples = append(samples, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if n != op.want {
					b.Fatalf("%s returned %d rows, want %d", op.name, n, op.want)
				}
			}
			b.ReportMetric(percentileMs(samples, 0.50), "p50-ms")
			b.ReportMetric(percentileMs(samples, 0.95), "p95-ms")
		})
	}
}

// benchSeed makes the simulated organization, one customer of sim_s1, and
// bulk-inserts its follow-ups and their timeline entries.
func benchSeed(b *testing.B, ctx context.Context, db *store.DB) (*auth.Actor, int64) {
	b.Helper()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		b.Fatal(err)
	}
	var uid int64
	if err := db.GetContext(ctx, &uid, "SELECT id FROM users WHERE userid = 'sim_s1'"); err != nil {
		b.Fatal(err)
	}
	owner, err := auth.NewLoader(db).Load(ctx, uid)
	if err != nil {
		b.Fatal(err)
	}
	name := "万条记录的客户"
	cu, err := customer.NewService(db, customer.NewStore(db), auth.NewLoader(db), audit.NewService(db)).
		Create(ctx, owner, customer.Input{Name: &name})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const batch = 1000
	base := time.Now().UTC().Add(-2 * 365 * 24 * time.Hour).Truncate(time.Millisecond)
	for first := 0; first < benchRecords; first += batch {
		if err := insertBatch(ctx, db, owner, cu.ID, base, first, min(batch, benchRecords-first)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d follow-ups and audit entries in %s", benchRecords, time.Since(start).Round(time.Millisecond))
	return owner, cu.ID
}

// insertBatch writes n follow-ups (numbered from first, about 100 minutes
// apart) and one audit entry each, like the service would, in two
// multi-row INSERTs.
func insertBatch(ctx context.Context, db *store.DB, a *auth.Actor, customerID int64, base time.Time, first, n int) error {
	methods := followup.Methods
	var fu, au strings.Builder
	fu.WriteString(`INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content, result,
		next_step, created_by, created_at, updated_at, version) VALUES `)
	au.WriteString(`INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, entity_name,
		customer_id, changes, ip, request_id) VALUES `)
	var fargs, aargs []any
	for i := first; i < first+n; i++ {
		at := base.Add(time.Duration(i) * 100 * time.Minute)
		content := fmt.Sprintf("第 %d 次跟进：电话沟通了报价和交付时间，客户希望下周再确认一次。", i+1)
		changes, _ := json.Marshal(map[string]audit.Change{"content": {New: content}, "method": {New: methods[i%len(methods)]},
			"followed_at": {New: at.Format(time.RFC3339)}, "result": {New: "待确认"}, "next_step": {New: "下周回访"}})
		sep := ", "
		if i == first {
			sep = ""
		}
		fu.WriteString(sep + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)")
		fargs = append(fargs, customerID, a.UserID, a.PrimaryDeptID, at, methods[i%len(methods)], content, "待确认", "下周回访",
			a.UserID, at, at)
		au.WriteString(sep + "(?, ?, ?, 'create', 'followup', ?, ?, ?, ?, '', '')")
		// The follow-up ids are not known before the insert; the timeline
		// reads by customer_id, so a stand-in entity id serves.
		aargs = append(aargs, at, a.UserID, a.Name, i+1, string([]rune(content)[:20]), customerID, string(changes))
	}
	return db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, fu.String(), fargs...); err != nil {
			return fmt.Errorf("insert follow-ups: %w", err)
		}
		if _, err := tx.ExecContext(ctx, au.String(), aargs...); err != nil {
			return fmt.Errorf("insert audit entries: %w", err)
		}
		return nil
	})
}

// loadAllTimeline reads every timeline entry of the customer, decoding the
// changes as the paged read does.
func loadAllTimeline(ctx context.Context, db *store.DB, customerID int64) (int, error) {
	var items []audit.Item
	err := db.SelectContext(ctx, &items, `SELECT id, at, actor_id, actor_name, action, entity, entity_id, entity_name,
		customer_id, changes, ip, request_id FROM audit_log WHERE customer_id = ? ORDER BY id DESC`, customerID)
	for i := range items {
		items[i].Changes = map[string]audit.Change{}
		json.Unmarshal([]byte(items[i].RawChanges), &items[i].Changes)
	}
	return len(items), err
}

// loadAllFollowups reads every follow-up of the customer with the list's
// columns and joins.
func loadAllFollowups(ctx context.Context, db *store.DB, customerID int64) (int, error) {
	var items []followup.Followup
	err := db.SelectContext(ctx, &items, `SELECT f.id, f.customer_id, c.name AS customer_name, f.opportunity_id, f.owner_id,
		COALESCE(o.name, '') AS owner_name, f.department_id, f.followed_at, f.method, f.content, f.result,
		f.next_step, f.next_follow_at, f.created_by, f.created_at, f.updated_at, f.version
		FROM followups f JOIN customers c ON c.id = f.customer_id LEFT JOIN users o ON o.id = f.owner_id
		WHERE f.customer_id = ? AND f.deleted_at IS NULL ORDER BY f.followed_at DESC, f.id DESC`, customerID)
	return len(items), err
}

// percentileMs is the nearest-rank p-th percentile of samples, in ms.
func percentileMs(samples []time.Duration, p float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := max(int(math.Ceil(p*float64(len(s))))-1, 0)
	return float64(s[i]) / float64(time.Millisecond)
}
