package report

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/reportview"
)

type stage struct {
	ID    int64  `db:"id"`
	Code  string `db:"code"`
	Name  string `db:"name"`
	Order int    `db:"sort_order"`
	Kind  string `db:"kind"`
}

// opps adds the Actor's scope and the conditions on opportunities o.
func (b *builder) opps(w *where) {
	w.add("o.deleted_at IS NULL")
	b.r.people(w, b.a, "o.owner_id", "o.department_id")
	if b.r.CustomerID > 0 {
		w.add("o.customer_id = ?", b.r.CustomerID)
	}
	if b.r.ProductID > 0 {
		w.add("EXISTS (SELECT 1 FROM opportunity_items oi WHERE oi.opportunity_id = o.id AND oi.product_id = ?)", b.r.ProductID)
	}
}

func (b *builder) stageName(st stage) string {
	if n := b.t("option.stage." + st.Code); n != "option.stage."+st.Code {
		return n
	}
	return st.Name
}

func (b *builder) funnel(ctx context.Context, out *reportview.Report) error {
	var stages []stage
	if err := b.s.db.SelectContext(ctx, &stages, "SELECT id, code, name, sort_order, kind FROM opportunity_stages ORDER BY sort_order, id"); err != nil {
		return fmt.Errorf("report: stages: %w", err)
	}
	if err := b.openByStage(ctx, out, stages); err != nil {
		return err
	}
	if err := b.conversion(ctx, out, stages); err != nil {
		return err
	}
	return b.forecast(ctx, out)
}

// openByStage: the open opportunities now, per stage, with amounts and
// the weighted amount (Σ amount × probability, as the pipeline shows it).
func (b *builder) openByStage(ctx context.Context, out *reportview.Report, stages []stage) error {
	w := &where{}
	b.opps(w)
	w.add("o.status = 'open'")
	var rows []struct {
		StageID  int64 `db:"stage_id"`
		N        int64 `db:"n"`
		Amount   int64 `db:"amount"`
		Weighted int64 `db:"weighted"`
	}
	if err := b.s.db.SelectContext(ctx, &rows, "SELECT o.stage_id, COUNT(*) AS n, COALESCE(SUM(o.amount_fen), 0) AS amount, "+
		"COALESCE(SUM(o.amount_fen * o.probability), 0) AS weighted FROM opportunities o"+w.sql()+" GROUP BY o.stage_id", w.args...); err != nil {
		return fmt.Errorf("report: open by stage: %w", err)
	}
	by := map[int64]int{}
	for i, r := range rows {
		by[r.StageID] = i
	}
	tbl := reportview.Table{ID: "open_by_stage", Title: b.t("report.table.open_by_stage"), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.col.stage"), Format: reportview.Text},
		{Key: "count", Label: b.t("report.col.opportunities"), Format: reportview.Int},
		{Key: "amount", Label: b.t("report.col.amount"), Format: reportview.Money},
		{Key: "weighted", Label: b.t("report.col.weighted"), Format: reportview.Money},
	}}
	chart := reportview.Chart{ID: "open_by_stage", Kind: "funnel", Title: tbl.Title,
		Series: []reportview.Series{{Name: b.t("report.col.amount"), Format: reportview.Money}}}
	var n, amount, weighted int64
	for _, st := range stages {
		if st.Kind != "open" {
			continue
		}
		var c, a, wt int64
		if i, ok := by[st.ID]; ok {
			c, a, wt = rows[i].N, rows[i].Amount, (rows[i].Weighted+50)/100
		}
		dr := b.drill("opportunities", "status", "open", "stage", id(st.ID))
		tbl.Rows = append(tbl.Rows, reportview.Row{Cells: map[string]any{"key": b.stageName(st), "count": c, "amount": a, "weighted": wt}, Drill: dr})
		chart.Categories = append(chart.Categories, b.stageName(st))
		chart.Series[0].Values = append(chart.Series[0].Values, float64(a))
		chart.Drill = append(chart.Drill, dr)
		n, amount, weighted = n+c, amount+a, weighted+wt
	}
	tbl.Totals = map[string]any{"key": b.t("report.total"), "count": n, "amount": amount, "weighted": weighted}
	out.Tables = append(out.Tables, tbl)
	out.Charts = append(out.Charts, chart)
	all := b.drill("opportunities", "status", "open")
	out.Summary = append(out.Summary,
		reportview.Metric{Key: "open_count", Label: b.t("report.m.open_count"), Value: float64(n), Format: reportview.Int, Drill: all},
		reportview.Metric{Key: "open_amount", Label: b.t("report.m.open_amount"), Value: float64(amount), Format: reportview.Money, Drill: all},
		reportview.Metric{Key: "weighted", Label: b.t("report.col.weighted"), Value: float64(weighted), Format: reportview.Money})
	return nil
}

// conversion: of the opportunities created in the period, how many reached
// each open stage (by their stage history) and were won, and the rate from
// each step to the next.
func (b *builder) conversion(ctx context.Context, out *reportview.Report, stages []stage) error {
	start, end := b.r.period.utc(b.s.loc)
	w := &where{}
	b.opps(w)
	w.add("o.created_at >= ? AND o.created_at < ?", start, end)
	var rows []struct {
		OppID int64  `db:"opportunity_id"`
		Order int    `db:"sort_order"`
		Kind  string `db:"kind"`
	}
	if err := b.s.db.SelectContext(ctx, &rows, "SELECT h.opportunity_id, st.sort_order, st.kind FROM opportunities o "+
		"JOIN opportunity_stage_history h ON h.opportunity_id = o.id JOIN opportunity_stages st ON st.id = h.to_stage"+w.sql(), w.args...); err != nil {
		return fmt.Errorf("report: stage history: %w", err)
	}
	type reach struct {
		max int
		won bool
	}
	per := map[int64]*reach{}
	for _, r := range rows {
		x := per[r.OppID]
		if x == nil {
			x = &reach{max: -1 << 30}
			per[r.OppID] = x
		}
		switch r.Kind {
		case "open":
			x.max = max(x.max, r.Order)
		case "won":
			x.won = true
		}
	}
	var steps []stage
	for _, st := range stages {
		if st.Kind == "open" || st.Kind == "won" {
			steps = append(steps, st)
		}
	}
	counts := make([]int64, len(steps))
	for _, x := range per {
		for i, st := range steps {
			if x.won || st.Kind == "open" && x.max >= st.Order {
				counts[i]++
			}
		}
	}
	tbl := reportview.Table{ID: "stage_conversion", Title: b.t("report.table.stage_conversion"), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.col.stage"), Format: reportview.Text},
		{Key: "count", Label: b.t("report.col.reached"), Format: reportview.Int},
		{Key: "rate", Label: b.t("report.col.conversion_next"), Format: reportview.Percent},
		{Key: "overall", Label: b.t("report.col.conversion_overall"), Format: reportview.Percent},
	}}
	chart := reportview.Chart{ID: "stage_conversion", Kind: "funnel", Title: tbl.Title,
		Series: []reportview.Series{{Name: b.t("report.col.reached"), Format: reportview.Int}}}
	for i, st := range steps {
		next := 0.0
		if i+1 < len(steps) {
			next = ratio(float64(counts[i+1]), float64(counts[i]))
		}
		var base int64
		if len(counts) > 0 {
			base = counts[0]
		}
		tbl.Rows = append(tbl.Rows, reportview.Row{Cells: map[string]any{"key": b.stageName(st), "count": counts[i], "rate": next,
			"overall": ratio(float64(counts[i]), float64(base))}})
		chart.Categories = append(chart.Categories, b.stageName(st))
		chart.Series[0].Values = append(chart.Series[0].Values, float64(counts[i]))
	}
	out.Tables = append(out.Tables, tbl)
	out.Charts = append(out.Charts, chart)
	won := int64(0)
	if len(counts) > 0 {
		won = counts[len(counts)-1]
	}
	out.Summary = append(out.Summary, reportview.Metric{Key: "created", Label: b.t("report.m.created_opps"), Value: float64(len(per)), Format: reportview.Int},
		reportview.Metric{Key: "created_won_rate", Label: b.t("report.m.created_won_rate"), Value: ratio(float64(won), float64(len(per))), Format: reportview.Percent})
	return nil
}

// forecast: open opportunities by expected close month with the weighted
// amount; limited to the period when one was asked for.
func (b *builder) forecast(ctx context.Context, out *reportview.Report) error {
	d := b.s.db.Dialect
	w := &where{}
	b.opps(w)
	w.add("o.status = 'open'")
	explicit := b.r.From != "" || b.r.To != "" || b.r.Preset != ""
	if explicit {
		w.add("o.expected_close_date >= ? AND o.expected_close_date <= ?", b.r.period.from(), b.r.period.to())
	}
	month := "COALESCE(" + dayText(d, monthOf(d, "o.expected_close_date")) + ", '')"
	var rows []struct {
		Month    string `db:"k"`
		N        int64  `db:"n"`
		Amount   int64  `db:"amount"`
		Weighted int64  `db:"weighted"`
	}
	if err := b.s.db.SelectContext(ctx, &rows, "SELECT "+month+" AS k, COUNT(*) AS n, COALESCE(SUM(o.amount_fen), 0) AS amount, "+
		"COALESCE(SUM(o.amount_fen * o.probability), 0) AS weighted FROM opportunities o"+w.sql()+" GROUP BY "+month+" ORDER BY 1", w.args...); err != nil {
		return fmt.Errorf("report: forecast: %w", err)
	}
	tbl := reportview.Table{ID: "forecast", Title: b.t("report.table.forecast"), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.col.close_month"), Format: reportview.Text},
		{Key: "count", Label: b.t("report.col.opportunities"), Format: reportview.Int},
		{Key: "amount", Label: b.t("report.col.amount"), Format: reportview.Money},
		{Key: "weighted", Label: b.t("report.col.weighted"), Format: reportview.Money},
	}}
	chart := reportview.Chart{ID: "forecast", Kind: "barline", Title: tbl.Title, Series: []reportview.Series{
		{Name: b.t("report.col.weighted"), Format: reportview.Money}, {Name: b.t("report.col.amount"), Format: reportview.Money}}}
	var n, amount, weighted int64
	for _, r := range rows {
		label := b.t("report.no_close_date")
		var dr *drillT
		if r.Month != "" {
			m, _ := time.Parse(day, r.Month)
			label = m.Format("2006-01")
			dr = b.drill("opportunities", "status", "open", "close_from", m.Format(day), "close_to", m.AddDate(0, 1, -1).Format(day))
		}
		wt := (r.Weighted + 50) / 100
		tbl.Rows = append(tbl.Rows, reportview.Row{Cells: map[string]any{"key": label, "count": r.N, "amount": r.Amount, "weighted": wt}, Drill: dr})
		chart.Categories = append(chart.Categories, label)
		chart.Series[0].Values = append(chart.Series[0].Values, float64(wt))
		chart.Series[1].Values = append(chart.Series[1].Values, float64(r.Amount))
		chart.Drill = append(chart.Drill, dr)
		n, amount, weighted = n+r.N, amount+r.Amount, weighted+wt
	}
	tbl.Totals = map[string]any{"key": b.t("report.total"), "count": n, "amount": amount, "weighted": weighted}
	out.Tables = append(out.Tables, tbl)
	out.Charts = append(out.Charts, chart)
	return nil
}
