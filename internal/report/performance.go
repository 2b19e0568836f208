package report

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dingcrm/crm/internal/reportview"
)

// activity is one person's or department's activity sums.
type activity struct {
	Key          string `db:"k"`
	Followups    int64  `db:"followups"`
	NewCustomers int64  `db:"new_customers"`
	Won          int64  `db:"won"`
	Lost         int64  `db:"lost"`
	WonAmount    int64  `db:"won_amount_fen"`
	WonCycleMs   int64  `db:"won_cycle_ms"`
}

// activityBy sums follow-ups, new customers and won/lost deals per owner
// or department ("owner", "dept") over the period.
func (b *builder) activityBy(ctx context.Context, dim string, p period) (map[string]*activity, error) {
	r, d := b.r, b.s.db.Dialect
	out := map[string]*activity{}
	get := func(k string) *activity {
		if out[k] == nil {
			out[k] = &activity{Key: k}
		}
		return out[k]
	}
	col := map[string]string{"owner": "owner_id", "dept": "department_id"}[dim]
	if !r.Raw {
		w := &where{}
		table, col0 := "report_activity_day", "t.day"
		if p.monthAligned() {
			table, col0 = "report_activity_month", "t.month"
		}
		w.add(col0+" >= ? AND "+col0+" <= ?", p.from(), p.to())
		r.people(w, b.a, "t.owner_id", "t.department_id")
		var rows []activity
		err := b.s.db.SelectContext(ctx, &rows, "SELECT "+cast(d, "t."+col)+" AS k, COALESCE(SUM(t.followups), 0) AS followups, "+
			"COALESCE(SUM(t.new_customers), 0) AS new_customers, COALESCE(SUM(t.won), 0) AS won, COALESCE(SUM(t.lost), 0) AS lost, "+
			"COALESCE(SUM(t.won_amount_fen), 0) AS won_amount_fen, COALESCE(SUM(t.won_cycle_ms), 0) AS won_cycle_ms "+
			"FROM "+table+" t"+w.sql()+" GROUP BY t."+col, w.args...)
		if err != nil {
			return nil, fmt.Errorf("report: activity: %w", err)
		}
		for i := range rows {
			*get(rows[i].Key) = rows[i]
		}
		return out, nil
	}
	start, end := p.utc(b.s.loc)
	type counted struct {
		Key string `db:"k"`
		N   int64  `db:"n"`
	}
	for _, src := range []struct{ table, alias, at, extra string }{
		{"followups", "f", "followed_at", ""}, {"customers", "c", "created_at", ""},
	} {
		w := &where{}
		w.add(src.alias+".deleted_at IS NULL AND "+src.alias+"."+src.at+" >= ? AND "+src.alias+"."+src.at+" < ?", start, end)
		r.people(w, b.a, src.alias+".owner_id", src.alias+".department_id")
		var rows []counted
		if err := b.s.db.SelectContext(ctx, &rows, "SELECT "+cast(d, src.alias+"."+col)+" AS k, COUNT(*) AS n FROM "+src.table+" "+src.alias+
			w.sql()+" GROUP BY "+src.alias+"."+col, w.args...); err != nil {
			return nil, fmt.Errorf("report: %s: %w", src.table, err)
		}
		for _, row := range rows {
			if src.table == "followups" {
				get(row.Key).Followups = row.N
			} else {
				get(row.Key).NewCustomers = row.N
			}
		}
	}
	w := &where{}
	w.add("o.deleted_at IS NULL AND o.status IN ('won', 'lost') AND o.closed_at >= ? AND o.closed_at < ?", start, end)
	r.people(w, b.a, "o.owner_id", "o.department_id")
	won := "CASE WHEN o.status = 'won' THEN "
	var rows []activity
	err := b.s.db.SelectContext(ctx, &rows, "SELECT "+cast(d, "o."+col)+" AS k, 0 AS followups, 0 AS new_customers, "+
		"SUM("+won+"1 ELSE 0 END) AS won, SUM(CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END) AS lost, "+
		"SUM("+won+"o.amount_fen ELSE 0 END) AS won_amount_fen, SUM("+won+millis(d, "o.created_at", "o.closed_at")+" ELSE 0 END) AS won_cycle_ms "+
		"FROM opportunities o"+w.sql()+" GROUP BY o."+col, w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: deals: %w", err)
	}
	for _, row := range rows {
		a := get(row.Key)
		a.Won, a.Lost, a.WonAmount, a.WonCycleMs = row.Won, row.Lost, row.WonAmount, row.WonCycleMs
	}
	return out, nil
}

// targetsBy sums the monthly targets of people ("user") or departments
// ("department") over the months the period touches.
func (b *builder) targetsBy(ctx context.Context, kind string, p period) (map[string]int64, error) {
	var rows []struct {
		Key    int64 `db:"subject_id"`
		Amount int64 `db:"amount"`
	}
	first := time.Date(p.From.Year(), p.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	err := b.s.db.SelectContext(ctx, &rows, `SELECT subject_id, SUM(amount_fen) AS amount FROM sales_targets
		WHERE subject_kind = ? AND month >= ? AND month <= ? GROUP BY subject_id`, kind, first.Format(day), p.to())
	if err != nil {
		return nil, fmt.Errorf("report: targets: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[strconv.FormatInt(r.Key, 10)] = r.Amount
	}
	return out, nil
}

func (b *builder) performance(ctx context.Context, out *reportview.Report) error {
	r := b.r
	dim, kind, table := "owner", "user", "users"
	if r.GroupBy == "department" {
		dim, kind, table = "dept", "department", "departments"
	}
	sales, err := b.salesAgg(ctx, dim, r.period)
	if err != nil {
		return err
	}
	act, err := b.activityBy(ctx, dim, r.period)
	if err != nil {
		return err
	}
	targets, err := b.targetsBy(ctx, kind, r.period)
	if err != nil {
		return err
	}
	type line struct {
		key    string
		sales  agg
		act    activity
		target int64
	}
	lines := map[string]*line{}
	get := func(k string) *line {
		if lines[k] == nil {
			lines[k] = &line{key: k}
		}
		return lines[k]
	}
	for _, s := range sales {
		if s.Count != 0 || s.Amount != 0 {
			get(s.Key).sales = s
		}
	}
	for k, a := range act {
		if *a != (activity{Key: k}) {
			get(k).act = *a
		}
	}
	// Targets show for the people and departments the Actor sees.
	ids := []int64{}
	for k := range targets {
		n, _ := strconv.ParseInt(k, 10, 64)
		ids = append(ids, n)
	}
	visible, err := b.visibleSubjects(ctx, kind, ids)
	if err != nil {
		return err
	}
	for k, t := range targets {
		if visible[k] {
			get(k).target = t
		}
	}
	delete(lines, "0") // the pool: customers without an owner
	keys := make([]string, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := lines[keys[i]], lines[keys[j]]
		if a.sales.Amount != c.sales.Amount {
			return a.sales.Amount > c.sales.Amount
		}
		return keys[i] < keys[j]
	})
	nids := make([]int64, len(keys))
	for i, k := range keys {
		nids[i], _ = strconv.ParseInt(k, 10, 64)
	}
	names, err := b.names(ctx, table, nids)
	if err != nil {
		return err
	}
	filter := map[string]string{"user": "owner_id", "department": "department_id"}[kind]
	tbl := reportview.Table{ID: "performance_by_" + kind, Title: b.t("report.table.performance_" + kind), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.group." + kind), Format: reportview.Text},
		{Key: "amount", Label: b.t("report.col.amount"), Format: reportview.Money},
		{Key: "count", Label: b.t("report.col.count"), Format: reportview.Int},
		{Key: "won", Label: b.t("report.col.won"), Format: reportview.Int},
		{Key: "lost", Label: b.t("report.col.lost"), Format: reportview.Int},
		{Key: "win_rate", Label: b.t("report.col.win_rate"), Format: reportview.Percent},
		{Key: "followups", Label: b.t("report.col.followups"), Format: reportview.Int},
		{Key: "new_customers", Label: b.t("report.col.new_customers"), Format: reportview.Int},
		{Key: "cycle_days", Label: b.t("report.col.cycle_days"), Format: reportview.Number},
		{Key: "target", Label: b.t("report.col.target"), Format: reportview.Money},
		{Key: "attainment", Label: b.t("report.col.attainment"), Format: reportview.Percent},
	}}
	chart := reportview.Chart{ID: "performance_by_" + kind, Kind: "bar", Title: b.t("report.chart.performance_" + kind),
		Series: []reportview.Series{{Name: b.t("report.col.amount"), Format: reportview.Money}, {Name: b.t("report.col.target"), Format: reportview.Money}}}
	var tot line
	from, to := r.period.from(), r.period.to()
	for i, k := range keys {
		l := lines[k]
		name := names[nids[i]]
		if name == "" {
			name = "#" + k
		}
		extra := []string{"from", from, "to", to, filter, k}
		if kind == "department" {
			extra = append(extra, "department_ids", "")
		}
		dr := b.drill("sales", extra...)
		tbl.Rows = append(tbl.Rows, reportview.Row{Cells: perfCells(name, l.sales, l.act, l.target), Drill: dr})
		if i < 20 {
			chart.Categories = append(chart.Categories, name)
			chart.Series[0].Values = append(chart.Series[0].Values, float64(l.sales.Amount))
			chart.Series[1].Values = append(chart.Series[1].Values, float64(l.target))
			chart.Drill = append(chart.Drill, dr)
		}
		tot.sales.Amount += l.sales.Amount
		tot.sales.Count += l.sales.Count
		a := &tot.act
		a.Followups, a.NewCustomers, a.Won, a.Lost = a.Followups+l.act.Followups, a.NewCustomers+l.act.NewCustomers, a.Won+l.act.Won, a.Lost+l.act.Lost
		a.WonAmount, a.WonCycleMs = a.WonAmount+l.act.WonAmount, a.WonCycleMs+l.act.WonCycleMs
		tot.target += l.target
	}
	tbl.Totals = perfCells(b.t("report.total"), tot.sales, tot.act, tot.target)
	out.Tables = append(out.Tables, tbl)
	out.Charts = append(out.Charts, chart)
	c := tbl.Totals
	all := b.drill("sales", "from", from, "to", to)
	out.Summary = []reportview.Metric{
		{Key: "amount", Label: b.t("report.m.sales_amount"), Value: float64(tot.sales.Amount), Format: reportview.Money, Drill: all},
		{Key: "won", Label: b.t("report.col.won"), Value: float64(tot.act.Won), Format: reportview.Int},
		{Key: "win_rate", Label: b.t("report.col.win_rate"), Value: c["win_rate"].(float64), Format: reportview.Percent},
		{Key: "followups", Label: b.t("report.col.followups"), Value: float64(tot.act.Followups), Format: reportview.Int,
			Drill: b.drill("followups", "from", from, "to", to)},
		{Key: "new_customers", Label: b.t("report.col.new_customers"), Value: float64(tot.act.NewCustomers), Format: reportview.Int},
		{Key: "attainment", Label: b.t("report.col.attainment"), Value: c["attainment"].(float64), Format: reportview.Percent},
	}
	return nil
}

func perfCells(name string, s agg, a activity, target int64) map[string]any {
	cycle := 0.0
	if a.Won > 0 {
		cycle = float64(a.WonCycleMs) / float64(a.Won) / 86400000
	}
	return map[string]any{"key": name, "amount": s.Amount, "count": s.Count, "won": a.Won, "lost": a.Lost,
		"win_rate": ratio(float64(a.Won), float64(a.Won+a.Lost)), "followups": a.Followups, "new_customers": a.NewCustomers,
		"cycle_days": cycle, "target": target, "attainment": ratio(float64(s.Amount), float64(target))}
}

// visibleSubjects: which of these people or departments the Actor may see
// targets of.
func (b *builder) visibleSubjects(ctx context.Context, kind string, ids []int64) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range ids {
		var ok bool
		if kind == "department" {
			ok = b.s.seesDept(b.a, n) && b.a.Scope != "self"
		} else {
			var err error
			if ok, err = b.s.seesUser(ctx, b.a, n); err != nil {
				return nil, err
			}
		}
		if ok && b.r.UserID > 0 && kind == "user" {
			ok = n == b.r.UserID
		}
		if ok && len(b.r.deptIDs) > 0 {
			ok = b.inDepts(ctx, kind, n)
		}
		out[strconv.FormatInt(n, 10)] = ok
	}
	return out, nil
}

// inDepts: a department inside the department condition, or a person who
// belongs to one.
func (b *builder) inDepts(ctx context.Context, kind string, n int64) bool {
	for _, d := range b.r.deptIDs {
		if kind == "department" && d == n {
			return true
		}
	}
	if kind == "department" {
		return false
	}
	var c int
	q := "SELECT COUNT(*) FROM user_departments WHERE user_id = ? AND department_id IN (" + placeholders(len(b.r.deptIDs)) + ")"
	args := append([]any{n}, int64Args(b.r.deptIDs)...)
	if err := b.s.db.GetContext(ctx, &c, q, args...); err != nil {
		return false
	}
	return c > 0
}
