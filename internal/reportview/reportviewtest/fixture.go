// Package reportviewtest holds realistic reports for the tests of what
// renders them (exports, the web app), so renderers can be tested without
// computing a report. Nothing here is used by the product.
package reportviewtest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dingcrm/crm/internal/reportview"
)

func f(v float64) *float64 { return &v }

// Sales is a sales report over days days ending 2026-11-30 (365 for a
// year-sized report): a KPI row, one chart of every kind, and tables by
// day, by salesperson, by product and by source, all with totals that
// add up, and drills to the sales list.
func Sales(days int) reportview.Report {
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -(days - 1))
	from, to := start.Format(time.DateOnly), end.Format(time.DateOnly)
	people := []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"}
	products := []string{"企业版年费", "专业版年费", "实施服务", "培训服务", "硬件网关", "定制开发"}
	sources := []string{"官网", "电话营销", "展会", "转介绍", "钉钉"}

	day := reportview.Table{ID: "by_day", Title: "按日", Columns: []reportview.Column{
		{Key: "period", Label: "日期", Format: reportview.Date},
		{Key: "count", Label: "成交笔数", Format: reportview.Int},
		{Key: "amount", Label: "销售金额", Format: reportview.Money},
		{Key: "share", Label: "占比", Format: reportview.Percent},
	}}
	var cats []string
	var amounts, counts []float64
	var drills []*reportview.Drill
	var totalAmount, totalCount float64
	for i := 0; i < days; i++ {
		d := start.AddDate(0, 0, i).Format(time.DateOnly)
		amt := float64(100000 + (i*7919)%900000) // fen
		cnt := float64(1 + (i*31)%9)
		cats = append(cats, d)
		amounts = append(amounts, amt)
		counts = append(counts, cnt)
		totalAmount += amt
		totalCount += cnt
		drill := &reportview.Drill{Page: "sales", Query: map[string]string{"from": d, "to": d}}
		drills = append(drills, drill)
		day.Rows = append(day.Rows, reportview.Row{Cells: map[string]any{"period": d, "count": int64(cnt), "amount": int64(amt)}, Drill: drill})
	}
	for i := range day.Rows {
		day.Rows[i].Cells["share"] = amounts[i] / totalAmount
	}
	day.Totals = map[string]any{"count": int64(totalCount), "amount": int64(totalAmount), "share": 1.0}

	split := func(id, title, keyLabel string, names []string, drillKey string) (reportview.Table, reportview.Chart) {
		t := reportview.Table{ID: id, Title: title, Columns: []reportview.Column{
			{Key: "name", Label: keyLabel, Format: reportview.Text},
			{Key: "count", Label: "成交笔数", Format: reportview.Int},
			{Key: "amount", Label: "销售金额", Format: reportview.Money},
			{Key: "share", Label: "占比", Format: reportview.Percent},
		}}
		c := reportview.Chart{ID: id, Title: title, Series: []reportview.Series{{Name: "销售金额", Format: reportview.Money}}}
		var sumA, sumC int64
		weights := 0
		for i := range names {
			weights += len(names) - i
		}
		for i, n := range names {
			a := int64(totalAmount) * int64(len(names)-i) / int64(weights)
			if i == len(names)-1 {
				a = int64(totalAmount) - sumA
			}
			cnt := int64(totalCount) * int64(len(names)-i) / int64(weights)
			if i == len(names)-1 {
				cnt = int64(totalCount) - sumC
			}
			sumA += a
			sumC += cnt
			drill := &reportview.Drill{Page: "sales", Query: map[string]string{"from": from, "to": to, drillKey: strconv.Itoa(i + 1)}}
			t.Rows = append(t.Rows, reportview.Row{Cells: map[string]any{"name": n, "count": cnt, "amount": a, "share": float64(a) / totalAmount}, Drill: drill})
			c.Categories = append(c.Categories, n)
			c.Series[0].Values = append(c.Series[0].Values, float64(a))
			c.Drill = append(c.Drill, drill)
		}
		t.Totals = map[string]any{"count": sumC, "amount": sumA, "share": 1.0}
		return t, c
	}
	byPerson, personChart := split("by_owner", "按销售人员", "销售人员", people, "owner_id")
	personChart.Kind = "bar"
	byProduct, _ := split("by_product", "按产品", "产品", products, "product_id")
	bySource, sourceChart := split("by_source", "按来源", "来源", sources, "source")
	sourceChart.Kind = "pie"

	return reportview.Report{
		Type:  "sales",
		Title: "销售报表",
		Conditions: []reportview.Condition{
			{Key: "from", Label: "时间范围", Value: from + " ~ " + to},
			{Key: "group_by", Label: "统计维度", Value: "按日"},
			{Key: "department_id", Label: "部门", Value: "销售一部"},
		},
		Summary: []reportview.Metric{
			{Key: "amount", Label: "销售金额", Value: totalAmount, Format: reportview.Money, PoP: f(0.125), YoY: f(-0.032),
				Drill: &reportview.Drill{Page: "sales", Query: map[string]string{"from": from, "to": to}}},
			{Key: "count", Label: "成交笔数", Value: totalCount, Format: reportview.Int, PoP: f(0.05)},
			{Key: "avg", Label: "客单价", Value: float64(int64(totalAmount / totalCount)), Format: reportview.Money, YoY: f(0)},
		},
		Charts: []reportview.Chart{
			{ID: "trend", Kind: "barline", Title: "销售趋势", Categories: cats, Drill: drills, Series: []reportview.Series{
				{Name: "销售金额", Format: reportview.Money, Values: amounts},
				{Name: "成交笔数", Format: reportview.Int, Values: counts},
			}},
			personChart,
			sourceChart,
			{ID: "count_line", Kind: "line", Title: "成交笔数走势", Categories: cats, Series: []reportview.Series{
				{Name: "成交笔数", Format: reportview.Int, Values: counts},
			}},
		},
		Tables:      []reportview.Table{day, byPerson, byProduct, bySource},
		GeneratedAt: "2026-11-30T18:00:00+08:00",
	}
}

// Funnel is a small funnel report: open opportunities by stage.
func Funnel() reportview.Report {
	stages := []string{"初步接洽", "需求确认", "方案报价", "谈判审核", "赢单"}
	counts := []float64{120, 80, 45, 20, 12}
	amounts := []float64{360000000, 250000000, 150000000, 70000000, 42000000}
	t := reportview.Table{ID: "stages", Title: "阶段", Columns: []reportview.Column{
		{Key: "stage", Label: "阶段", Format: reportview.Text},
		{Key: "count", Label: "机会数", Format: reportview.Int},
		{Key: "amount", Label: "金额", Format: reportview.Money},
		{Key: "conversion", Label: "转化率", Format: reportview.Percent},
	}}
	var drills []*reportview.Drill
	for i, s := range stages {
		conv := 1.0
		if i > 0 {
			conv = counts[i] / counts[i-1]
		}
		d := &reportview.Drill{Page: "opportunities", Query: map[string]string{"stage_id": fmt.Sprint(i + 1)}}
		drills = append(drills, d)
		t.Rows = append(t.Rows, reportview.Row{Cells: map[string]any{"stage": s, "count": counts[i], "amount": amounts[i], "conversion": conv}, Drill: d})
	}
	t.Totals = map[string]any{"count": 277.0, "amount": 872000000.0}
	return reportview.Report{
		Type: "funnel", Title: "销售漏斗",
		Conditions: []reportview.Condition{{Key: "from", Label: "时间范围", Value: "2026-11-01 ~ 2026-11-30"}},
		Summary:    []reportview.Metric{{Key: "weighted", Label: "加权金额", Value: 301500000, Format: reportview.Money}},
		Charts: []reportview.Chart{{ID: "funnel", Kind: "funnel", Title: "销售漏斗", Categories: stages, Drill: drills, Series: []reportview.Series{
			{Name: "机会数", Format: reportview.Int, Values: counts},
			{Name: "金额", Format: reportview.Money, Values: amounts},
		}}},
		Tables:      []reportview.Table{t},
		GeneratedAt: "2026-11-30T18:00:00+08:00",
	}
}
