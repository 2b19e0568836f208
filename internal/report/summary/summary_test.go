package summary_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"reflect"

	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestTriggersMatchRebuild writes raw rows with plain SQL (every kind of
// change a write path can make) and checks the trigger-maintained tables
// equal a rebuild from scratch.
func TestTriggersMatchRebuild(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO sales (id, customer_id, owner_id, department_id, sale_date, amount_fen, notes, created_by, created_at, updated_at)
			VALUES (1, 1, 10, 2, '2026-01-31', 1000, '', 10, '2026-01-31 01:00:00', '2026-01-31 01:00:00'),
			       (2, 1, 11, 3, '2026-02-01', 2000, '', 11, '2026-02-01 01:00:00', '2026-02-01 01:00:00')`)
		exec(`INSERT INTO sale_items (sale_id, product_id, quantity, unit_price_fen, total_fen, sort_order) VALUES (1, 7, 2, 300, 600, 1), (1, 8, 1, 400, 400, 2), (2, 7, 5, 400, 2000, 1)`)
		exec(`UPDATE sales SET sale_date = '2026-03-05', owner_id = 12 WHERE id = 1`)
		exec(`UPDATE sales SET deleted_at = '2026-03-06 00:00:00' WHERE id = 2`)
		exec(`DELETE FROM sale_items WHERE sale_id = 1 AND product_id = 8`)
		exec(`INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content, created_by, created_at, updated_at)
			VALUES (1, 10, 2, '2026-01-31 16:30:00', 'phone', '', 10, '2026-01-31 16:30:00', '2026-01-31 16:30:00'),
			       (1, 10, 2, '2026-01-31 15:59:59.999', 'phone', '', 10, '2026-01-31 16:30:00', '2026-01-31 16:30:00')`)
		exec(`INSERT INTO opportunities (customer_id, title, amount_fen, owner_id, department_id, stage_id, probability, status, notes, closed_at, created_by, created_at, updated_at)
			VALUES (1, 'a', 5000, 10, 2, 5, 100, 'won', '', '2026-02-10 17:00:00.250', 10, '2026-01-01 00:00:00.100', '2026-02-10 17:00:00')`)
		exec(`UPDATE opportunities SET status = 'lost' WHERE id = 1`)
		exec(`UPDATE opportunities SET status = 'won', owner_id = 11 WHERE id = 1`)
		before, err := summary.Snapshot(ctx, db, db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if len(before["report_activity_day"]) == 0 || len(before["report_product_day"]) == 0 {
			t.Fatalf("triggers wrote nothing: %v", before)
		}
		if err := db.WithTx(ctx, func(tx *sqlx.Tx) error { return summary.Rebuild(ctx, tx, db.Dialect) }); err != nil {
			t.Fatal(err)
		}
		after, err := summary.Snapshot(ctx, db, db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after, before) {
			t.Fatalf("maintained != rebuilt:\nrebuilt    %v\nmaintained %v", after, before)
		}
		t.Log(after)
	})
}
