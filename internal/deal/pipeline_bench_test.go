package deal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// BenchmarkPipeline: the pipeline page of an owner with 10,000
// opportunities (and 5,000 of someone else's beside them) answers from one
// aggregate and a LIMITed read per column, without loading them all. It
// reports the service call's p50/p95 and, as the baseline, the p50/p95 of
// loading all 10,000 rows and summing them in Go. MySQL only (skipped
// unless CRM_TEST_MYSQL_DSN is set).
func BenchmarkPipeline(b *testing.B) {
	db := storetest.MySQL(b)
	org := saletest.NewOrg(b, db)
	ctx := context.Background()
	owner := org.As(b, "sim_s1")
	sales := sale.NewService(db, customer.NewStore(db), org.Loader, time.UTC)
	svc := NewService(db, customer.NewStore(db), org.Loader, sales)
	board, err := stages(ctx, db, true)
	if err != nil {
		b.Fatal(err)
	}
	const mine = 10000
	bulkOpportunities(b, db, org.As(b, "sim_s1"), board, mine)
	bulkOpportunities(b, db, org.As(b, "sim_s5"), board, mine/2)

	b.Run("owner_10000", func(b *testing.B) {
		var fast, slow []time.Duration
		cards := 0
		for i := 0; i < b.N; i++ {
			start := time.Now()
			p, err := svc.Pipeline(ctx, owner, PipelineFilter{})
			if err != nil {
				b.Fatal(err)
			}
			fast = append(fast, time.Since(start))

			b.StopTimer()
			start = time.Now()
			all, total, err := svc.store.List(ctx, owner, Filter{Page: 1, PageSize: mine + 1}, false)
			if err != nil {
				b.Fatal(err)
			}
			baseline := sumInGo(all)
			slow = append(slow, time.Since(start))
			cards = checkAgainst(b, p, baseline, total, mine)
			b.StartTimer()
		}
		b.ReportMetric(ms(percentile(fast, 50)), "pipeline_p50_ms")
		b.ReportMetric(ms(percentile(fast, 95)), "pipeline_p95_ms")
		b.ReportMetric(ms(percentile(slow, 50)), "loadall_p50_ms")
		b.ReportMetric(ms(percentile(slow, 95)), "loadall_p95_ms")
		b.ReportMetric(float64(cards), "cards_loaded")
		b.ReportMetric(mine, "rows_loaded_by_baseline")
	})
}

// sumInGo is what a page would do if it loaded everything: counts and
// amounts per stage.
func sumInGo(all []Opportunity) map[int64][2]int64 {
	out := map[int64][2]int64{}
	for _, o := range all {
		s := out[o.StageID]
		out[o.StageID] = [2]int64{s[0] + 1, s[1] + o.AmountFen}
	}
	return out
}

// checkAgainst makes sure the fast answer is the same as the slow one, and
// returns how many cards it carried.
func checkAgainst(b *testing.B, p *Pipeline, baseline map[int64][2]int64, total, want int) int {
	if total != want {
		b.Fatalf("baseline loaded %d rows, want %d", total, want)
	}
	cards, count := 0, p.Won.Count+p.Lost.Count
	for _, c := range p.Columns {
		if got := baseline[c.Stage.ID]; int64(c.Count) != got[0] || c.AmountFen != got[1] {
			b.Fatalf("column %s: %d / %d, loaded all: %v", c.Stage.Code, c.Count, c.AmountFen, got)
		}
		if len(c.Items) > DefaultPerStage {
			b.Fatalf("column %s carried %d cards", c.Stage.Code, len(c.Items))
		}
		cards += len(c.Items)
		count += c.Count
	}
	if count != want {
		b.Fatalf("pipeline counts %d, want %d", count, want)
	}
	return cards
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// bulkOpportunities writes n opportunities for the owner (spread over the
// stages, 200 customers, the last 90 days) in batches, bypassing the
// service: the benchmark measures reading, not writing.
func bulkOpportunities(b *testing.B, db *store.DB, owner *auth.Actor, board []Stage, n int) {
	b.Helper()
	ctx := context.Background()
	now := store.Now()
	r := rand.New(rand.NewPCG(uint64(owner.UserID), 7))
	custIDs := make([]int64, 200)
	for i := range custIDs {
		res, err := db.ExecContext(ctx, `INSERT INTO customers (name, note, owner_id, department_id, created_by, created_at,
			updated_at) VALUES (?, '', ?, ?, ?, ?, ?)`, fmt.Sprintf("压测客户%d-%d", owner.UserID, i), owner.UserID,
			owner.PrimaryDeptID, owner.UserID, now, now)
		if err != nil {
			b.Fatal(err)
		}
		custIDs[i], _ = res.LastInsertId()
	}
	const batch = 500
	for done := 0; done < n; done += batch {
		rows := min(batch, n-done)
		args := make([]any, 0, rows*13)
		for i := 0; i < rows; i++ {
			st := board[r.IntN(len(board))]
			status, reason := statusOf(st.Kind), ""
			if status == StatusLost {
				reason = LostReasons[r.IntN(len(LostReasons))]
			}
			at := now.Add(-time.Duration(r.IntN(90*24*60)) * time.Minute)
			args = append(args, custIDs[r.IntN(len(custIDs))], fmt.Sprintf("机会 %d", done+i), int64(r.IntN(10_000_000)),
				owner.UserID, owner.PrimaryDeptID, st.ID, st.Probability, status, reason, owner.UserID, at, at, "")
		}
		sqlText := `INSERT INTO opportunities (customer_id, title, amount_fen, owner_id, department_id, stage_id,
			probability, status, lost_reason, created_by, created_at, updated_at, notes) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", rows), ", ")
		if _, err := db.ExecContext(ctx, sqlText, args...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE opportunities"); err != nil {
		b.Fatal(err)
	}
}
