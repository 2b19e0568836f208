package report

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/store"
)

// agg is one group's sums.
type agg struct {
	Key    string `db:"k"`
	Count  int64  `db:"n"`
	Amount int64  `db:"amount"`
	Qty    int64  `db:"qty"`
}

// maxRows bounds the rows of a table grouped by customer (the totals still
// cover every customer).
const maxRows = 100

// salesSource picks where sales figures come from for dimension dim
// ("total", "day", "month", "owner", "dept", "product", "customer",
// "source") and returns the SELECT … FROM … WHERE … GROUP BY.
func (b *builder) salesQuery(dim string, p period) (string, []any) {
	r, d := b.r, b.s.db.Dialect
	summaryOK := !r.Raw && r.CustomerID == 0 && (r.ProductID == 0 || dim == "product")
	w := &where{}
	var sel, from, group string
	switch {
	case dim == "product" && summaryOK:
		from = "report_product_day t"
		w.add("t.day >= ? AND t.day <= ?", p.from(), p.to())
		r.people(w, b.a, "t.owner_id", "t.department_id")
		if r.ProductID > 0 {
			w.add("t.product_id = ?", r.ProductID)
		}
		return "SELECT " + cast(d, "t.product_id") + " AS k, COALESCE(SUM(t.line_count), 0) AS n, COALESCE(SUM(t.amount_fen), 0) AS amount, " +
			"COALESCE(SUM(t.quantity), 0) AS qty FROM " + from + w.sql() + " GROUP BY t.product_id", w.args
	case dim == "product":
		from = "sales s JOIN sale_items si ON si.sale_id = s.id"
		w.add("s.deleted_at IS NULL AND s.sale_date >= ? AND s.sale_date <= ?", p.from(), p.to())
		r.people(w, b.a, "s.owner_id", "s.department_id")
		if r.CustomerID > 0 {
			w.add("s.customer_id = ?", r.CustomerID)
		}
		if r.ProductID > 0 {
			w.add("si.product_id = ?", r.ProductID)
		}
		return "SELECT " + cast(d, "si.product_id") + " AS k, COUNT(*) AS n, COALESCE(SUM(si.total_fen), 0) AS amount, " +
			"COALESCE(SUM(si.quantity), 0) AS qty FROM " + from + w.sql() + " GROUP BY si.product_id", w.args
	case summaryOK && dim != "customer" && dim != "source":
		col := "t.day"
		from = "report_sales_day t"
		if p.monthAligned() && dim != "day" {
			col, from = "t.month", "report_sales_month t"
		}
		w.add(col+" >= ? AND "+col+" <= ?", p.from(), p.to())
		r.people(w, b.a, "t.owner_id", "t.department_id")
		sel = map[string]string{"total": "''", "day": dayText(d, col), "month": dayText(d, col),
			"owner": cast(d, "t.owner_id"), "dept": cast(d, "t.department_id")}[dim]
		group = map[string]string{"total": "", "day": col, "month": col, "owner": "t.owner_id", "dept": "t.department_id"}[dim]
		q := "SELECT " + sel + " AS k, COALESCE(SUM(t.sales), 0) AS n, COALESCE(SUM(t.amount_fen), 0) AS amount, 0 AS qty FROM " + from + w.sql()
		if group != "" {
			q += " GROUP BY " + group
		}
		return q, w.args
	}
	from = "sales s"
	w.add("s.deleted_at IS NULL AND s.sale_date >= ? AND s.sale_date <= ?", p.from(), p.to())
	r.people(w, b.a, "s.owner_id", "s.department_id")
	if r.CustomerID > 0 {
		w.add("s.customer_id = ?", r.CustomerID)
	}
	if r.ProductID > 0 {
		w.add("EXISTS (SELECT 1 FROM sale_items si WHERE si.sale_id = s.id AND si.product_id = ?)", r.ProductID)
	}
	switch dim {
	case "total":
		sel = "''"
	case "day":
		sel, group = dayText(d, "s.sale_date"), "s.sale_date"
	case "month":
		sel, group = dayText(d, summary.Month(d, "s.sale_date")), summary.Month(d, "s.sale_date")
	case "owner":
		sel, group = cast(d, "s.owner_id"), "s.owner_id"
	case "dept":
		sel, group = cast(d, "s.department_id"), "s.department_id"
	case "customer":
		sel, group = cast(d, "s.customer_id"), "s.customer_id"
	case "source":
		from = "sales s LEFT JOIN customers c ON c.id = s.customer_id"
		sel, group = "COALESCE(c.source, '')", "COALESCE(c.source, '')"
	}
	q := "SELECT " + sel + " AS k, COUNT(*) AS n, COALESCE(SUM(s.amount_fen), 0) AS amount, 0 AS qty FROM " + from + w.sql()
	if group != "" {
		q += " GROUP BY " + group
	}
	return q, w.args
}

func cast(d store.Dialect, col string) string {
	if d == store.MySQL {
		return "CAST(" + col + " AS CHAR)"
	}
	return "CAST(" + col + " AS TEXT)"
}

func dayText(d store.Dialect, col string) string {
	if d == store.MySQL {
		return "DATE_FORMAT(" + col + ", '%Y-%m-%d')"
	}
	return "substr(" + col + ", 1, 10)"
}

func (b *builder) salesAgg(ctx context.Context, dim string, p period) ([]agg, error) {
	q, args := b.salesQuery(dim, p)
	var out []agg
	if err := b.s.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("report: sales by %s: %w", dim, err)
	}
	return out, nil
}

func (b *builder) salesTotal(ctx context.Context, p period) (agg, error) {
	rows, err := b.salesAgg(ctx, "total", p)
	if err != nil || len(rows) == 0 {
		return agg{}, err
	}
	return rows[0], nil
}

// bucket is one time bucket of a grouping, clipped to the period.
type bucket struct {
	Label    string
	From, To time.Time
}

// buckets splits p into the grouping's calendar units.
func buckets(p period, group string) []bucket {
	var out []bucket
	for s := p.From; !s.After(p.To); {
		var e time.Time
		var label string
		switch group {
		case "day":
			e, label = s, s.Format(day)
		case "week":
			wd := (int(s.Weekday()) + 6) % 7
			e = s.AddDate(0, 0, 6-wd)
			y, w := s.ISOWeek()
			label = fmt.Sprintf("%d-W%02d", y, w)
		case "month":
			e, label = time.Date(s.Year(), s.Month()+1, 0, 0, 0, 0, 0, time.UTC), s.Format("2006-01")
		case "quarter":
			q := (int(s.Month()) - 1) / 3
			e, label = time.Date(s.Year(), time.Month(q*3+4), 0, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%d-Q%d", s.Year(), q+1)
		default: // year
			e, label = time.Date(s.Year(), 12, 31, 0, 0, 0, 0, time.UTC), strconv.Itoa(s.Year())
		}
		if e.After(p.To) {
			e = p.To
		}
		out = append(out, bucket{Label: label, From: s, To: e})
		s = e.AddDate(0, 0, 1)
	}
	return out
}

var timeGroups = map[string]bool{"day": true, "week": true, "month": true, "quarter": true, "year": true}

func (b *builder) sales(ctx context.Context, out *reportview.Report) error {
	r := b.r
	cur, err := b.salesTotal(ctx, r.period)
	if err != nil {
		return err
	}
	prev, err := b.salesTotal(ctx, r.period.previous())
	if err != nil {
		return err
	}
	yago, err := b.salesTotal(ctx, r.period.yearBefore())
	if err != nil {
		return err
	}
	all := b.drill("sales", "from", r.period.from(), "to", r.period.to())
	out.Summary = []reportview.Metric{
		{Key: "amount", Label: b.t("report.m.sales_amount"), Value: float64(cur.Amount), Format: reportview.Money,
			PoP: change(float64(cur.Amount), float64(prev.Amount)), YoY: change(float64(cur.Amount), float64(yago.Amount)), Drill: all},
		{Key: "count", Label: b.t("report.m.sales_count"), Value: float64(cur.Count), Format: reportview.Int,
			PoP: change(float64(cur.Count), float64(prev.Count)), YoY: change(float64(cur.Count), float64(yago.Count)), Drill: all},
		{Key: "average", Label: b.t("report.m.sales_average"), Value: float64(avgFen(cur)), Format: reportview.Money,
			PoP: change(float64(avgFen(cur)), float64(avgFen(prev))), YoY: change(float64(avgFen(cur)), float64(avgFen(yago)))},
	}
	if timeGroups[r.GroupBy] {
		return b.salesOverTime(ctx, out, cur)
	}
	return b.salesByDimension(ctx, out, cur)
}

func avgFen(a agg) int64 {
	if a.Count == 0 {
		return 0
	}
	return a.Amount / a.Count
}

// salesOverTime: one row per day, week, month, quarter or year, every
// bucket present (zero when nothing sold).
func (b *builder) salesOverTime(ctx context.Context, out *reportview.Report, total agg) error {
	r := b.r
	dim := "day"
	if r.period.monthAligned() && (r.GroupBy == "month" || r.GroupBy == "quarter" || r.GroupBy == "year") {
		dim = "month"
	}
	rows, err := b.salesAgg(ctx, dim, r.period)
	if err != nil {
		return err
	}
	bs := buckets(r.period, r.GroupBy)
	sums := make([]agg, len(bs))
	for _, row := range rows {
		t, err := time.Parse(day, row.Key)
		if err != nil {
			return fmt.Errorf("report: bad day %q", row.Key)
		}
		i := sort.Search(len(bs), func(i int) bool { return !bs[i].To.Before(t) })
		if i == len(bs) {
			continue
		}
		sums[i].Count += row.Count
		sums[i].Amount += row.Amount
	}
	chart := reportview.Chart{ID: "sales_trend", Kind: "barline", Title: b.t("report.chart.sales_trend"),
		Series: []reportview.Series{{Name: b.t("report.col.amount"), Format: reportview.Money}, {Name: b.t("report.col.count"), Format: reportview.Int}}}
	table := b.salesTable("sales_by_" + r.GroupBy)
	for i, bk := range bs {
		dr := b.drill("sales", "from", bk.From.Format(day), "to", bk.To.Format(day))
		chart.Categories = append(chart.Categories, bk.Label)
		chart.Series[0].Values = append(chart.Series[0].Values, float64(sums[i].Amount))
		chart.Series[1].Values = append(chart.Series[1].Values, float64(sums[i].Count))
		chart.Drill = append(chart.Drill, dr)
		table.Rows = append(table.Rows, reportview.Row{Cells: map[string]any{"key": bk.Label, "count": sums[i].Count,
			"amount": sums[i].Amount, "share": ratio(float64(sums[i].Amount), float64(total.Amount))}, Drill: dr})
	}
	table.Totals = map[string]any{"key": b.t("report.total"), "count": total.Count, "amount": total.Amount, "share": 1.0}
	out.Charts = append(out.Charts, chart)
	out.Tables = append(out.Tables, table)
	return nil
}

func (b *builder) salesTable(id string) reportview.Table {
	return reportview.Table{ID: id, Title: b.t("report.table." + b.r.GroupBy), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.group." + b.r.GroupBy), Format: reportview.Text},
		{Key: "count", Label: b.t("report.col.count"), Format: reportview.Int},
		{Key: "amount", Label: b.t("report.col.amount"), Format: reportview.Money},
		{Key: "share", Label: b.t("report.col.share"), Format: reportview.Percent},
	}}
}

// salesByDimension: one row per salesperson, department, product, customer
// or source, largest amount first.
func (b *builder) salesByDimension(ctx context.Context, out *reportview.Report, total agg) error {
	r := b.r
	dim := map[string]string{"user": "owner", "department": "dept", "product": "product", "customer": "customer", "source": "source"}[r.GroupBy]
	rows, err := b.salesAgg(ctx, dim, r.period)
	if err != nil {
		return err
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Amount != rows[j].Amount {
			return rows[i].Amount > rows[j].Amount
		}
		return rows[i].Key < rows[j].Key
	})
	kept := rows[:0]
	for _, row := range rows {
		if row.Count != 0 || row.Amount != 0 {
			kept = append(kept, row)
		}
	}
	rows = kept
	if r.GroupBy == "customer" && len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	labels, err := b.dimLabels(ctx, r.GroupBy, rows)
	if err != nil {
		return err
	}
	from, to := r.period.from(), r.period.to()
	filter := map[string]string{"user": "owner_id", "department": "department_id", "product": "product_id", "customer": "customer_id", "source": "source"}[r.GroupBy]
	kind := "bar"
	if r.GroupBy == "source" {
		kind = "pie"
	}
	chart := reportview.Chart{ID: "sales_by_" + r.GroupBy, Kind: kind, Title: b.t("report.chart.sales_by_" + r.GroupBy),
		Series: []reportview.Series{{Name: b.t("report.col.amount"), Format: reportview.Money}}}
	table := b.salesTable("sales_by_" + r.GroupBy)
	if r.GroupBy == "product" {
		table.Columns = append(table.Columns[:2], append([]reportview.Column{{Key: "quantity", Label: b.t("report.col.quantity"), Format: reportview.Int}}, table.Columns[2:]...)...)
		table.Columns[1].Label = b.t("report.col.lines")
	}
	var sumQty, sumAmount, sumCount int64
	for i, row := range rows {
		// A department row is the department's own records (not below it).
		extra := []string{"from", from, "to", to, filter, row.Key}
		if r.GroupBy == "department" {
			extra = append(extra, "department_ids", "")
		}
		dr := b.drill("sales", extra...)
		if i < 20 || kind == "pie" {
			chart.Categories = append(chart.Categories, labels[i])
			chart.Series[0].Values = append(chart.Series[0].Values, float64(row.Amount))
			chart.Drill = append(chart.Drill, dr)
		}
		cells := map[string]any{"key": labels[i], "count": row.Count, "amount": row.Amount, "share": ratio(float64(row.Amount), float64(total.Amount))}
		if r.GroupBy == "product" {
			cells["quantity"] = row.Qty
			cells["share"] = 0.0
		}
		sumQty += row.Qty
		sumAmount += row.Amount
		sumCount += row.Count
		table.Rows = append(table.Rows, reportview.Row{Cells: cells, Drill: dr})
	}
	table.Totals = map[string]any{"key": b.t("report.total"), "count": total.Count, "amount": total.Amount, "share": 1.0}
	if r.GroupBy == "product" {
		// Product rows are line items: their amounts add up to the lines'
		// total, which may differ from the sales' amounts.
		for i := range table.Rows {
			table.Rows[i].Cells["share"] = ratio(float64(rows[i].Amount), float64(sumAmount))
		}
		table.Totals = map[string]any{"key": b.t("report.total"), "count": sumCount, "quantity": sumQty, "amount": sumAmount, "share": 1.0}
	}
	out.Charts = append(out.Charts, chart)
	out.Tables = append(out.Tables, table)
	return nil
}

// dimLabels are the rows' display names, in order.
func (b *builder) dimLabels(ctx context.Context, group string, rows []agg) ([]string, error) {
	out := make([]string, len(rows))
	if group == "source" {
		for i, r := range rows {
			if r.Key == "" {
				out[i] = b.t("report.none")
			} else {
				out[i] = b.t("option.source." + r.Key)
			}
		}
		return out, nil
	}
	table := map[string]string{"user": "users", "department": "departments", "product": "products", "customer": "customers"}[group]
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		n, _ := strconv.ParseInt(strings.TrimSpace(r.Key), 10, 64)
		ids = append(ids, n)
	}
	names, err := b.names(ctx, table, ids)
	if err != nil {
		return nil, err
	}
	for i, n := range ids {
		if name, ok := names[n]; ok {
			out[i] = name
		} else {
			out[i] = "#" + id(n)
		}
	}
	return out, nil
}
