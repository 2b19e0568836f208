package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/rfm"
)

// customerRFM is one customer's recency, frequency and monetary value.
type customerRFM struct {
	CustomerID int64  `db:"customer_id"`
	Name       string `db:"name"`
	Last       string `db:"last"`
	Count      int64  `db:"n"`
	Amount     int64  `db:"amount"`
}

func (s *Service) today() time.Time { return civil(time.Now().In(s.loc)) }

func (b *builder) rfm(ctx context.Context, out *reportview.Report) error {
	set, err := rfm.Load(ctx, b.s.db)
	if err != nil {
		return err
	}
	today := b.s.today()
	from, to := set.Window(today)
	w := &where{}
	w.add("s.deleted_at IS NULL AND c.deleted_at IS NULL AND s.sale_date >= ? AND s.sale_date <= ?", from, to)
	b.r.people(w, b.a, "c.owner_id", "c.department_id")
	if b.r.CustomerID > 0 {
		w.add("c.id = ?", b.r.CustomerID)
	}
	var rows []customerRFM
	if err := b.s.db.SelectContext(ctx, &rows, "SELECT s.customer_id, MAX(c.name) AS name, "+dayText(b.s.db.Dialect, "MAX(s.sale_date)")+" AS last, "+
		"COUNT(*) AS n, SUM(s.amount_fen) AS amount FROM sales s JOIN customers c ON c.id = s.customer_id"+w.sql()+" GROUP BY s.customer_id", w.args...); err != nil {
		return fmt.Errorf("report: rfm: %w", err)
	}
	count := map[string]int64{}
	amount := map[string]int64{}
	var total int64
	for _, r := range rows {
		seg := set.Classify(today, r.Last, r.Count, r.Amount)
		count[seg]++
		amount[seg] += r.Amount
		total += r.Amount
	}
	seg := reportview.Table{ID: "rfm_segments", Title: b.t("report.table.rfm_segments"), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.col.segment"), Format: reportview.Text},
		{Key: "customers", Label: b.t("report.col.customers"), Format: reportview.Int},
		{Key: "amount", Label: b.t("report.col.amount"), Format: reportview.Money},
		{Key: "share", Label: b.t("report.col.share"), Format: reportview.Percent},
	}}
	chart := reportview.Chart{ID: "rfm_segments", Kind: "pie", Title: seg.Title,
		Series: []reportview.Series{{Name: b.t("report.col.customers"), Format: reportview.Int}}}
	for _, s := range rfm.Segments {
		dr := b.drill("customers", "rfm_segment", s, "customer_id", "")
		if b.r.CustomerID > 0 {
			dr = b.drill("sales", "customer_id", id(b.r.CustomerID), "from", from, "to", to)
		}
		seg.Rows = append(seg.Rows, reportview.Row{Cells: map[string]any{"key": b.t("rfm.segment." + s), "customers": count[s],
			"amount": amount[s], "share": ratio(float64(count[s]), float64(len(rows)))}, Drill: dr})
		chart.Categories = append(chart.Categories, b.t("rfm.segment."+s))
		chart.Series[0].Values = append(chart.Series[0].Values, float64(count[s]))
		chart.Drill = append(chart.Drill, dr)
	}
	seg.Totals = map[string]any{"key": b.t("report.total"), "customers": int64(len(rows)), "amount": total, "share": 1.0}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Amount != rows[j].Amount {
			return rows[i].Amount > rows[j].Amount
		}
		return rows[i].CustomerID < rows[j].CustomerID
	})
	top := reportview.Table{ID: "rfm_customers", Title: b.t("report.table.rfm_customers"), Columns: []reportview.Column{
		{Key: "key", Label: b.t("report.col.customer"), Format: reportview.Text},
		{Key: "recency_days", Label: b.t("report.col.recency_days"), Format: reportview.Int},
		{Key: "frequency", Label: b.t("report.col.frequency"), Format: reportview.Int},
		{Key: "monetary", Label: b.t("report.col.monetary"), Format: reportview.Money},
		{Key: "segment", Label: b.t("report.col.segment"), Format: reportview.Text},
	}}
	for i, r := range rows {
		if i == maxRows {
			break
		}
		last, _ := time.Parse(day, r.Last)
		top.Rows = append(top.Rows, reportview.Row{Cells: map[string]any{"key": r.Name, "recency_days": int64(today.Sub(last).Hours() / 24),
			"frequency": r.Count, "monetary": r.Amount, "segment": b.t("rfm.segment." + set.Classify(today, r.Last, r.Count, r.Amount))},
			Drill: b.drill("sales", "customer_id", id(r.CustomerID), "from", from, "to", to)})
	}
	out.Tables = append(out.Tables, seg, top)
	out.Charts = append(out.Charts, chart)
	out.Summary = []reportview.Metric{
		{Key: "customers", Label: b.t("report.m.rfm_customers"), Value: float64(len(rows)), Format: reportview.Int},
		{Key: "important_value", Label: b.t("rfm.segment.important_value"), Value: float64(count["important_value"]), Format: reportview.Int,
			Drill: b.drill("customers", "rfm_segment", "important_value", "customer_id", "")},
		{Key: "amount", Label: b.t("report.col.amount"), Value: float64(total), Format: reportview.Money},
	}
	out.Conditions = append(out.Conditions,
		reportview.Condition{Key: "rfm_window", Label: b.t("report.cond.rfm_window"), Value: from + " ~ " + to},
		reportview.Condition{Key: "rfm_thresholds", Label: b.t("report.cond.rfm_thresholds"), Value: b.tf("report.rfm_thresholds",
			map[string]any{"recency": set.RecencyDays, "frequency": set.Frequency, "monetary": yuan(set.MonetaryFen)})})
	return nil
}

// RFMSettings returns the thresholds (report.view suffices to read them).
func (s *Service) RFMSettings(ctx context.Context, a *auth.Actor) (rfm.Settings, error) {
	if err := a.Require(PermView); err != nil {
		return rfm.Settings{}, err
	}
	return rfm.Load(ctx, s.db)
}

// SaveRFMSettings changes the thresholds (setting.manage or report.manage);
// bad values are refused with every problem at once.
func (s *Service) SaveRFMSettings(ctx context.Context, a *auth.Actor, in rfm.Settings) (rfm.Settings, error) {
	if a == nil {
		return rfm.Settings{}, errs.ErrUnauthorized
	}
	if !a.Can(PermManage) && !a.Can(PermSettings) {
		return rfm.Settings{}, errs.ErrForbidden
	}
	if err := in.Validate(); err != nil {
		return rfm.Settings{}, err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		old, err := rfm.Load(ctx, tx)
		if err != nil {
			return err
		}
		if err := rfm.Save(ctx, tx, s.db.Dialect, in, a.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "rfm_settings",
			EntityName: "RFM", Changes: audit.Diff(rfmFields(old), rfmFields(in))})
	})
	return in, err
}

func rfmFields(s rfm.Settings) map[string]any {
	return map[string]any{"window_days": s.WindowDays, "recency_days": s.RecencyDays, "frequency": s.Frequency, "monetary_fen": s.MonetaryFen}
}

// SegmentFilter is the condition for the customer list's rfm_segment
// filter on customers aliased c (400 for an unknown segment).
func (s *Service) SegmentFilter(ctx context.Context, seg string) (string, []any, error) {
	if !rfm.Valid(seg) {
		return "", nil, errs.InvalidField("rfm_segment", "rfm.unknown_segment")
	}
	set, err := rfm.Load(ctx, s.db)
	if err != nil {
		return "", nil, err
	}
	cond, args := set.CustomerCond("c.id", seg, s.today())
	return cond, args, nil
}

// Segments classifies customers (by id) as of today over their live sales
// in the window, for the customer export's 客户分类 column. The caller has
// already limited ids to customers the Actor sees.
func (s *Service) Segments(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	set, err := rfm.Load(ctx, s.db)
	if err != nil {
		return nil, err
	}
	today := s.today()
	from, to := set.Window(today)
	var rows []customerRFM
	err = s.db.SelectContext(ctx, &rows, "SELECT s.customer_id, '' AS name, "+dayText(s.db.Dialect, "MAX(s.sale_date)")+" AS last, COUNT(*) AS n, "+
		"SUM(s.amount_fen) AS amount FROM sales s WHERE s.deleted_at IS NULL AND s.sale_date >= ? AND s.sale_date <= ? AND s.customer_id IN ("+
		placeholders(len(ids))+") GROUP BY s.customer_id", append([]any{from, to}, int64Args(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("report: segments: %w", err)
	}
	for _, r := range rows {
		out[r.CustomerID] = set.Classify(today, r.Last, r.Count, r.Amount)
	}
	return out, nil
}
