// Package summary owns the report summary tables: daily and monthly sums of
// live sales per salesperson and department, daily line-item sums per
// product, and daily activity (follow-ups, new customers, won and lost
// deals). Database triggers (migration 00014) keep them up to date in the
// same transaction as every write to the raw tables; this package rebuilds
// them from scratch (after a restore, when the company's UTC offset
// changes) and says which tables are derived.
package summary

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// Migration is the schema version that created the summary tables.
const Migration = 14

// Tables are the derived tables, in the order Rebuild fills them.
var Tables = []string{"report_sales_day", "report_sales_month", "report_product_day", "report_activity_day", "report_activity_month"}

// LocalDay is the SQL for the company-zone date of a UTC datetime column
// given the zone's offset in minutes (the same rule as the triggers').
func LocalDay(d store.Dialect, col string, offsetMinutes int) string {
	if d == store.MySQL {
		return "DATE(DATE_ADD(" + col + ", INTERVAL " + strconv.Itoa(offsetMinutes) + " MINUTE))"
	}
	return "date(" + col + ", '" + strconv.Itoa(offsetMinutes) + " minutes')"
}

// Month is the SQL for the first day of the month of a DATE column.
func Month(d store.Dialect, col string) string {
	if d == store.MySQL {
		return "DATE_FORMAT(" + col + ", '%Y-%m-01')"
	}
	return "strftime('%Y-%m-01', " + col + ")"
}

func millis(d store.Dialect, from, to string) string {
	if d == store.MySQL {
		return "TIMESTAMPDIFF(MICROSECOND, " + from + ", " + to + ") DIV 1000"
	}
	return "CAST(ROUND((julianday(" + to + ") - julianday(" + from + ")) * 86400000) AS INTEGER)"
}

// Offset is loc's UTC offset in minutes when it is the same all year
// (no daylight saving), which is what the summaries can file by; ok is
// false otherwise and reports then read the raw tables.
func Offset(loc *time.Location) (minutes int, ok bool) {
	y := time.Now().Year()
	_, jan := time.Date(y, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 0, 0, 0, 0, loc).Zone()
	return jan / 60, jan == jul
}

// StoredOffset reads the offset the summaries are filed by.
func StoredOffset(ctx context.Context, x sqlx.QueryerContext) (int, error) {
	var m int
	if err := sqlx.GetContext(ctx, x, &m, "SELECT offset_minutes FROM report_zone WHERE id = 1"); err != nil {
		return 0, fmt.Errorf("summary: read zone: %w", err)
	}
	return m, nil
}

// SyncZone makes the summaries file by loc's offset: when it differs from
// the stored one it stores it and rebuilds, in one transaction. A zone
// with daylight saving leaves them as they are (reports do not use them).
func SyncZone(ctx context.Context, db *store.DB, loc *time.Location) error {
	want, ok := Offset(loc)
	if !ok {
		return nil
	}
	have, err := StoredOffset(ctx, db)
	if err != nil || have == want {
		return err
	}
	return db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE report_zone SET offset_minutes = ? WHERE id = 1", want); err != nil {
			return fmt.Errorf("summary: set zone: %w", err)
		}
		return Rebuild(ctx, tx, db.Dialect)
	})
}

// Rebuild recomputes every summary table from the raw records inside tx.
func Rebuild(ctx context.Context, tx *sqlx.Tx, d store.Dialect) error {
	off, err := StoredOffset(ctx, tx)
	if err != nil {
		return err
	}
	for _, t := range Tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE 1 = 1"); err != nil {
			return fmt.Errorf("summary: empty %s: %w", t, err)
		}
	}
	for _, qs := range rebuildSQL(d, off) {
		for _, q := range strings.Split(qs, ";") {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("summary: rebuild: %w", err)
			}
		}
	}
	return nil
}

func rebuildSQL(d store.Dialect, off int) []string {
	act1 := func(table, key, day, owner, dept, vals, from string) string {
		return "INSERT INTO " + table + " (" + key + ", owner_id, department_id, followups, new_customers, won, lost, won_amount_fen, won_cycle_ms) " +
			"SELECT " + day + ", " + owner + ", " + dept + ", " + vals + " FROM " + from + " GROUP BY " + day + ", " + owner + ", " + dept +
			upsert(d, table, []string{key, "owner_id", "department_id"}, []string{"followups", "new_customers", "won", "lost", "won_amount_fen", "won_cycle_ms"})
	}
	act := func(day, owner, dept, vals, from string) string {
		return act1("report_activity_day", "day", day, owner, dept, vals, from) + ";" +
			act1("report_activity_month", "month", Month(d, day), owner, dept, vals, from)
	}
	fday := LocalDay(d, "f.followed_at", off)
	cday := LocalDay(d, "c.created_at", off)
	oday := LocalDay(d, "o.closed_at", off)
	won := "CASE WHEN o.status = 'won' THEN "
	return []string{
		`INSERT INTO report_sales_day (day, owner_id, department_id, sales, amount_fen)
			SELECT sale_date, owner_id, department_id, COUNT(*), SUM(amount_fen) FROM sales
			WHERE deleted_at IS NULL GROUP BY sale_date, owner_id, department_id`,
		`INSERT INTO report_sales_month (month, owner_id, department_id, sales, amount_fen)
			SELECT ` + Month(d, "sale_date") + `, owner_id, department_id, COUNT(*), SUM(amount_fen) FROM sales
			WHERE deleted_at IS NULL GROUP BY ` + Month(d, "sale_date") + `, owner_id, department_id`,
		`INSERT INTO report_product_day (day, product_id, owner_id, department_id, line_count, quantity, amount_fen)
			SELECT s.sale_date, si.product_id, s.owner_id, s.department_id, COUNT(*), SUM(si.quantity), SUM(si.total_fen)
			FROM sales s JOIN sale_items si ON si.sale_id = s.id WHERE s.deleted_at IS NULL
			GROUP BY s.sale_date, si.product_id, s.owner_id, s.department_id`,
		act(fday, "f.owner_id", "f.department_id", "COUNT(*), 0, 0, 0, 0, 0", "followups f WHERE f.deleted_at IS NULL"),
		act(cday, "c.owner_id", "c.department_id", "0, COUNT(*), 0, 0, 0, 0", "customers c WHERE c.deleted_at IS NULL"),
		act(oday, "o.owner_id", "o.department_id", "0, 0, SUM("+won+"1 ELSE 0 END), SUM(CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END), SUM("+
			won+"o.amount_fen ELSE 0 END), SUM("+won+millis(d, "o.created_at", "o.closed_at")+" ELSE 0 END)",
			"opportunities o WHERE o.deleted_at IS NULL AND o.closed_at IS NOT NULL AND o.status IN ('won', 'lost')"),
	}
}

func upsert(d store.Dialect, table string, keys, vals []string) string {
	s := ""
	for i, v := range vals {
		if i > 0 {
			s += ", "
		}
		if d == store.MySQL {
			s += table + "." + v + " = " + table + "." + v + " + VALUES(" + v + ")"
		} else {
			s += v + " = " + v + " + excluded." + v
		}
	}
	if d == store.MySQL {
		return " ON DUPLICATE KEY UPDATE " + s
	}
	k := ""
	for i, x := range keys {
		if i > 0 {
			k += ", "
		}
		k += x
	}
	return " ON CONFLICT (" + k + ") DO UPDATE SET " + s
}

// Row is one summary row as text (for comparing a maintained table with a
// rebuilt one); rows whose sums are all zero are left out, since a
// maintained table keeps a row that went back to zero.
type Row string

// Snapshot reads every summary table's non-zero rows in key order.
func Snapshot(ctx context.Context, x sqlx.QueryerContext, d store.Dialect) (map[string][]Row, error) {
	queries := map[string]string{
		"report_sales_day":      "SELECT " + dayText(d, "day") + ", owner_id, department_id, sales, amount_fen FROM report_sales_day WHERE sales <> 0 OR amount_fen <> 0 ORDER BY 1, 2, 3",
		"report_sales_month":    "SELECT " + dayText(d, "month") + ", owner_id, department_id, sales, amount_fen FROM report_sales_month WHERE sales <> 0 OR amount_fen <> 0 ORDER BY 1, 2, 3",
		"report_product_day":    "SELECT " + dayText(d, "day") + ", product_id, owner_id, department_id, line_count, quantity, amount_fen FROM report_product_day WHERE line_count <> 0 OR quantity <> 0 OR amount_fen <> 0 ORDER BY 1, 2, 3, 4",
		"report_activity_day":   "SELECT " + dayText(d, "day") + ", owner_id, department_id, followups, new_customers, won, lost, won_amount_fen, won_cycle_ms FROM report_activity_day WHERE followups <> 0 OR new_customers <> 0 OR won <> 0 OR lost <> 0 OR won_amount_fen <> 0 OR won_cycle_ms <> 0 ORDER BY 1, 2, 3",
		"report_activity_month": "SELECT " + dayText(d, "month") + ", owner_id, department_id, followups, new_customers, won, lost, won_amount_fen, won_cycle_ms FROM report_activity_month WHERE followups <> 0 OR new_customers <> 0 OR won <> 0 OR lost <> 0 OR won_amount_fen <> 0 OR won_cycle_ms <> 0 ORDER BY 1, 2, 3",
	}
	out := map[string][]Row{}
	for t, q := range queries {
		rows, err := x.QueryxContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("summary: snapshot %s: %w", t, err)
		}
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				rows.Close()
				return nil, err
			}
			s := ""
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				s += fmt.Sprint(v) + " "
			}
			out[t] = append(out[t], Row(s))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dayText is a DATE column as "2006-01-02" text on both engines.
func dayText(d store.Dialect, col string) string {
	if d == store.MySQL {
		return "DATE_FORMAT(" + col + ", '%Y-%m-%d')"
	}
	return "substr(" + col + ", 1, 10)"
}
