package report

import (
	"slices"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/reportview"
)

// amountField is the field-visibility code the report's money figures come
// from: the funnel and forecast sum opportunity amounts, every other report
// sales amounts (targets and attainment amounts count as sales amounts).
func amountField(typ string) string {
	if typ == "funnel" {
		return "opportunity.amount"
	}
	return "sale.amount"
}

// maskAmounts removes every money figure from a finished report when the
// Actor's field policy masks or hides the amounts it is made of: the money
// metrics, the money series (a chart left without series goes), and the
// money columns with their cells and totals. Counts and ratios stay. It
// reports whether anything was removed, so the caller can say so.
func maskAmounts(p auth.FieldPolicy, out *reportview.Report) bool {
	if p.Visible(amountField(out.Type)) {
		return false
	}
	money := func(f reportview.Format) bool { return f == reportview.Money }
	out.Summary = slices.DeleteFunc(out.Summary, func(m reportview.Metric) bool { return money(m.Format) })
	charts := out.Charts[:0]
	for _, c := range out.Charts {
		c.Series = slices.DeleteFunc(c.Series, func(s reportview.Series) bool { return money(s.Format) })
		if len(c.Series) > 0 {
			charts = append(charts, c)
		}
	}
	out.Charts = charts
	for i := range out.Tables {
		t := &out.Tables[i]
		t.Columns = slices.DeleteFunc(t.Columns, func(c reportview.Column) bool {
			if !money(c.Format) {
				return false
			}
			for _, r := range t.Rows {
				delete(r.Cells, c.Key)
			}
			delete(t.Totals, c.Key)
			return true
		})
	}
	return true
}
