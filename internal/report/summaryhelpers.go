package report

import (
	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/store"
)

type drillT = reportview.Drill

func monthOf(d store.Dialect, col string) string { return summary.Month(d, col) }

func millis(d store.Dialect, from, to string) string {
	if d == store.MySQL {
		return "TIMESTAMPDIFF(MICROSECOND, " + from + ", " + to + ") DIV 1000"
	}
	return "CAST(ROUND((julianday(" + to + ") - julianday(" + from + ")) * 86400000) AS INTEGER)"
}

func placeholders(n int) string { return store.Placeholders(n) }

func int64Args(ids []int64) []any { return store.Int64Args(ids) }
