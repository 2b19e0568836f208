package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/reportview"
)

// customerDims are the breakdowns of new customers, each its own table.
var customerDims = []string{"source", "level", "industry", "status", "user"}

// newCustomers is the WHERE of the customers created in the period that the
// Actor sees: owned (the pool has its own page) and not deleted.
func (b *builder) newCustomers(w *where) {
	start, end := b.r.period.utc(b.s.loc)
	w.add("c.deleted_at IS NULL AND c.owner_id <> 0 AND c.created_at >= ? AND c.created_at < ?", start, end)
	b.r.people(w, b.a, "c.owner_id", "c.department_id")
	if b.r.CustomerID > 0 {
		w.add("c.id = ?", b.r.CustomerID)
	}
}

func (b *builder) customers(ctx context.Context, out *reportview.Report) error {
	r := b.r
	from, to := r.period.from(), r.period.to()
	var total int64
	for _, dim := range customerDims {
		col := map[string]string{"source": "c.source", "level": "c.level", "industry": "c.industry", "status": "c.status",
			"user": cast(b.s.db.Dialect, "c.owner_id")}[dim]
		w := &where{}
		b.newCustomers(w)
		var rows []agg
		if err := b.s.db.SelectContext(ctx, &rows, "SELECT "+col+" AS k, COUNT(*) AS n, 0 AS amount, 0 AS qty FROM customers c"+
			w.sql()+" GROUP BY "+col, w.args...); err != nil {
			return fmt.Errorf("report: new customers by %s: %w", dim, err)
		}
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Count != rows[j].Count {
				return rows[i].Count > rows[j].Count
			}
			return rows[i].Key < rows[j].Key
		})
		labels := make([]string, len(rows))
		if dim == "user" {
			var err error
			if labels, err = b.dimLabels(ctx, "user", rows); err != nil {
				return err
			}
		} else {
			for i, row := range rows {
				labels[i] = b.t("report.none")
				if row.Key != "" {
					labels[i] = b.t("option." + dim + "." + row.Key)
				}
			}
		}
		filter := map[string]string{"source": "source", "level": "level", "industry": "industry", "status": "status", "user": "owner_id"}[dim]
		tbl := reportview.Table{ID: "new_customers_by_" + dim, Title: b.t("report.table.new_customers_" + dim), Columns: []reportview.Column{
			{Key: "key", Label: b.t("report.group." + dim), Format: reportview.Text},
			{Key: "count", Label: b.t("report.col.new_customers"), Format: reportview.Int},
			{Key: "share", Label: b.t("report.col.share"), Format: reportview.Percent},
		}}
		var sum int64
		for _, row := range rows {
			sum += row.Count
		}
		kind := "pie"
		if dim == "user" {
			kind = "bar"
		}
		chart := reportview.Chart{ID: tbl.ID, Kind: kind, Title: tbl.Title, Series: []reportview.Series{{Name: b.t("report.col.new_customers"), Format: reportview.Int}}}
		for i, row := range rows {
			dr := b.drill("customers", "created_from", from, "created_to", to, filter, row.Key)
			if row.Key == "" {
				dr = nil // "not set" cannot be asked of the list
			}
			tbl.Rows = append(tbl.Rows, reportview.Row{Cells: map[string]any{"key": labels[i], "count": row.Count,
				"share": ratio(float64(row.Count), float64(sum))}, Drill: dr})
			chart.Categories = append(chart.Categories, labels[i])
			chart.Series[0].Values = append(chart.Series[0].Values, float64(row.Count))
			chart.Drill = append(chart.Drill, dr)
		}
		tbl.Totals = map[string]any{"key": b.t("report.total"), "count": sum, "share": 1.0}
		out.Tables = append(out.Tables, tbl)
		if dim == r.GroupBy {
			out.Charts = append([]reportview.Chart{chart}, out.Charts...)
		}
		total = sum
	}
	converted, err := b.converted(ctx)
	if err != nil {
		return err
	}
	active, dormant, err := b.activeDormant(ctx)
	if err != nil {
		return err
	}
	into, outOf, err := b.poolMoves(ctx)
	if err != nil {
		return err
	}
	all := b.drill("customers", "created_from", from, "created_to", to)
	out.Summary = []reportview.Metric{
		{Key: "new_customers", Label: b.t("report.col.new_customers"), Value: float64(total), Format: reportview.Int, Drill: all},
		{Key: "converted", Label: b.t("report.m.converted"), Value: float64(converted), Format: reportview.Int},
		{Key: "conversion_rate", Label: b.t("report.m.conversion_rate"), Value: ratio(float64(converted), float64(total)), Format: reportview.Percent},
		{Key: "active", Label: b.tf("report.m.active", map[string]any{"days": r.DormantDays}), Value: float64(active), Format: reportview.Int},
		{Key: "dormant", Label: b.tf("report.m.dormant", map[string]any{"days": r.DormantDays}), Value: float64(dormant), Format: reportview.Int},
		{Key: "pool_in", Label: b.t("report.m.pool_in"), Value: float64(into), Format: reportview.Int},
		{Key: "pool_out", Label: b.t("report.m.pool_out"), Value: float64(outOf), Format: reportview.Int},
	}
	out.Charts = append(out.Charts, reportview.Chart{ID: "active_dormant", Kind: "pie", Title: b.t("report.chart.active_dormant"),
		Categories: []string{b.tf("report.m.active", map[string]any{"days": r.DormantDays}), b.tf("report.m.dormant", map[string]any{"days": r.DormantDays})},
		Series:     []reportview.Series{{Name: b.t("report.col.customers"), Format: reportview.Int, Values: []float64{float64(active), float64(dormant)}}}})
	out.Conditions = append(out.Conditions, reportview.Condition{Key: "dormant_days", Label: b.t("report.cond.dormant_days"),
		Value: fmt.Sprint(r.DormantDays)})
	return nil
}

// converted counts the period's new customers with a live sale dated by
// the end of the period.
func (b *builder) converted(ctx context.Context) (int64, error) {
	w := &where{}
	b.newCustomers(w)
	w.add("EXISTS (SELECT 1 FROM sales s WHERE s.customer_id = c.id AND s.deleted_at IS NULL AND s.sale_date <= ?)", b.r.period.to())
	var n int64
	if err := b.s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM customers c"+w.sql(), w.args...); err != nil {
		return 0, fmt.Errorf("report: converted: %w", err)
	}
	return n, nil
}

// activeDormant splits the Actor's current customers: followed up within
// the last N days, or not (never counts as not).
func (b *builder) activeDormant(ctx context.Context) (active, dormant int64, err error) {
	w := &where{}
	w.add("c.deleted_at IS NULL AND c.owner_id <> 0")
	b.r.people(w, b.a, "c.owner_id", "c.department_id")
	if b.r.CustomerID > 0 {
		w.add("c.id = ?", b.r.CustomerID)
	}
	cut := time.Now().UTC().AddDate(0, 0, -b.r.DormantDays)
	var row struct {
		Active int64 `db:"active"`
		All    int64 `db:"total"`
	}
	err = b.s.db.GetContext(ctx, &row, "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN c.last_follow_at >= ? THEN 1 ELSE 0 END), 0) AS active FROM customers c"+
		w.sql(), append([]any{cut}, w.args...)...)
	if err != nil {
		return 0, 0, fmt.Errorf("report: active customers: %w", err)
	}
	return row.Active, row.All - row.Active, nil
}

// poolMoves counts customers released or reclaimed into the public pool
// and claimed or assigned out of it in the period, from the operation log.
// Admins see all; others the moves of customers they (or, for managers,
// people of their departments) last owned before the pool (into) or own now
// (out of).
func (b *builder) poolMoves(ctx context.Context) (into, outOf int64, err error) {
	start, end := b.r.period.utc(b.s.loc)
	count := func(actions []string, owner string) (int64, error) {
		w := &where{}
		w.add("l.entity = 'customer' AND l.action IN ("+placeholders(len(actions))+") AND l.at >= ? AND l.at < ?",
			append(stringArgs(actions), start, end)...)
		if b.a.Scope != auth.ScopeAll || b.r.UserID > 0 || len(b.r.deptIDs) > 0 || b.r.CustomerID > 0 {
			b.ownerScope(w, owner)
		}
		if b.r.CustomerID > 0 {
			w.add("c.id = ?", b.r.CustomerID)
		}
		var n int64
		err := b.s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM audit_log l JOIN customers c ON c.id = l.entity_id"+w.sql(), w.args...)
		return n, err
	}
	if into, err = count([]string{"release", "reclaim"}, "c.former_owner_id"); err != nil {
		return 0, 0, fmt.Errorf("report: pool in: %w", err)
	}
	if outOf, err = count([]string{"claim", "assign"}, "c.owner_id"); err != nil {
		return 0, 0, fmt.Errorf("report: pool out: %w", err)
	}
	return into, outOf, nil
}

// ownerScope limits to customers whose person in col is one the Actor
// sees and the conditions name.
func (b *builder) ownerScope(w *where, col string) {
	switch b.a.Scope {
	case auth.ScopeAll:
	case auth.ScopeDept, auth.ScopeDeptTree:
		if len(b.a.ScopeDeptIDs) > 0 {
			w.add("("+col+" = ? OR "+col+" IN (SELECT ud.user_id FROM user_departments ud WHERE ud.department_id IN ("+
				placeholders(len(b.a.ScopeDeptIDs))+")))", append([]any{b.a.UserID}, int64Args(b.a.ScopeDeptIDs)...)...)
			break
		}
		w.add(col+" = ?", b.a.UserID)
	default:
		w.add(col+" = ?", b.a.UserID)
	}
	if b.r.UserID > 0 {
		w.add(col+" = ?", b.r.UserID)
	}
	if len(b.r.deptIDs) > 0 {
		w.add(col+" IN (SELECT ud.user_id FROM user_departments ud WHERE ud.department_id IN ("+placeholders(len(b.r.deptIDs))+"))",
			int64Args(b.r.deptIDs)...)
	}
}

func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
