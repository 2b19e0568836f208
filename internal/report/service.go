// Package report computes the reports (销售报表, 客户报表, 业绩报表, the funnel
// and forecast, RFM classification) into reportview.Report, and keeps the
// sales targets (业绩目标). Every figure is limited to the Actor's data
// scope in SQL. The sales and performance figures read the summary tables
// (package summary) when they can, the raw tables otherwise; both give the
// same numbers, which the tests check.
package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/store"
)

// Permissions of reports and targets.
const (
	PermView         auth.Perm = "report.view"
	PermExport       auth.Perm = "report.export"
	PermManage       auth.Perm = "report.manage"
	PermSettings     auth.Perm = "setting.manage"
	PermTargetView   auth.Perm = "target.view"
	PermTargetEdit   auth.Perm = "target.edit"
	PermTargetCreate auth.Perm = "target.create"
)

// Domain errors.
var (
	ErrDepartmentNotFound = errs.NotFound("report.department_not_found")
	ErrUserNotFound       = errs.NotFound("report.user_not_found")
	ErrCustomerNotFound   = errs.NotFound("report.customer_not_found")
	ErrProductNotFound    = errs.NotFound("report.product_not_found")
)

// Service computes reports and keeps targets.
type Service struct {
	db  *store.DB
	loc *time.Location
	msg i18n.Catalog
	// summaries is whether the summary tables can serve (the zone has a
	// fixed offset); otherwise every report reads the raw tables.
	summaries bool
	offset    int // the zone's offset in minutes
}

// NewService wires the report service; loc is the company's time zone.
func NewService(db *store.DB, loc *time.Location, msg i18n.Catalog) *Service {
	off, ok := summary.Offset(loc)
	return &Service{db: db, loc: loc, msg: msg, summaries: ok, offset: off}
}

// SyncZone makes the summaries file datetimes by the company's zone (run
// at start-up; rebuilds them when the zone's offset changed).
func (s *Service) SyncZone(ctx context.Context) error { return summary.SyncZone(ctx, s.db, s.loc) }

// Build computes one report for the Actor.
func (s *Service) Build(ctx context.Context, a *auth.Actor, p Params) (*reportview.Report, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, a, p)
	if err != nil {
		return nil, err
	}
	if !s.summaries {
		r.Raw = true
	}
	b := &builder{s: s, a: a, r: r, lang: p.Lang}
	out := &reportview.Report{Type: r.Type, Title: b.t("report.title." + r.Type), Summary: []reportview.Metric{},
		Charts: []reportview.Chart{}, Tables: []reportview.Table{}}
	switch r.Type {
	case "sales":
		err = b.sales(ctx, out)
	case "customers":
		err = b.customers(ctx, out)
	case "performance":
		err = b.performance(ctx, out)
	case "funnel":
		err = b.funnel(ctx, out)
	case "rfm":
		err = b.rfm(ctx, out)
	}
	if err != nil {
		return nil, err
	}
	out.Conditions = append(b.conditions(ctx), out.Conditions...)
	if a != nil && maskAmounts(a.Fields, out) {
		out.Conditions = append(out.Conditions, reportview.Condition{Key: "amounts_hidden",
			Label: b.t("report.cond.amounts_hidden"), Value: b.t("report.cond.amounts_hidden_value")})
	}
	out.GeneratedAt = time.Now().In(s.loc).Format(time.RFC3339)
	return out, nil
}

// builder carries one report's computation.
type builder struct {
	s    *Service
	a    *auth.Actor
	r    *resolved
	lang string
}

func (b *builder) t(key string) string { return b.s.msg.T(b.lang, key, nil) }

func (b *builder) tf(key string, args map[string]any) string { return b.s.msg.T(b.lang, key, args) }

// conditions are the applied conditions as the reader would say them.
func (b *builder) conditions(ctx context.Context) []reportview.Condition {
	r := b.r
	out := []reportview.Condition{}
	if r.Type != "rfm" && (r.Type != "funnel" || r.From != "" || r.To != "" || r.Preset != "") {
		v := r.period.from() + " ~ " + r.period.to()
		if r.Preset != "" {
			v = b.t("report.preset."+r.Preset) + " (" + v + ")"
		}
		out = append(out, reportview.Condition{Key: "period", Label: b.t("report.cond.period"), Value: v})
	}
	if r.GroupBy != "" {
		out = append(out, reportview.Condition{Key: "group_by", Label: b.t("report.cond.group_by"), Value: b.t("report.group." + r.GroupBy)})
	}
	name := func(q string, id int64) string {
		var n string
		if err := b.s.db.GetContext(ctx, &n, q, id); err != nil {
			return "#" + strconv.FormatInt(id, 10)
		}
		return n
	}
	if r.UserID > 0 {
		out = append(out, reportview.Condition{Key: "user_id", Label: b.t("report.cond.user"), Value: name("SELECT name FROM users WHERE id = ?", r.UserID)})
	}
	if r.DepartmentID > 0 {
		out = append(out, reportview.Condition{Key: "department_id", Label: b.t("report.cond.department"),
			Value: b.tf("report.cond.with_sub", map[string]any{"name": name("SELECT name FROM departments WHERE id = ?", r.DepartmentID)})})
	}
	if r.CustomerID > 0 {
		out = append(out, reportview.Condition{Key: "customer_id", Label: b.t("report.cond.customer"), Value: name("SELECT name FROM customers WHERE id = ?", r.CustomerID)})
	}
	if r.ProductID > 0 {
		out = append(out, reportview.Condition{Key: "product_id", Label: b.t("report.cond.product"), Value: name("SELECT name FROM products WHERE id = ?", r.ProductID)})
	}
	out = append(out, reportview.Condition{Key: "scope", Label: b.t("report.cond.scope"), Value: b.t("report.scope." + string(b.a.Scope))})
	return out
}

// drill builds a drill-down to a list page with the report's person and
// customer conditions and the given extra filters.
func (b *builder) drill(page string, kv ...string) *reportview.Drill {
	q := map[string]string{}
	if b.r.UserID > 0 {
		q["owner_id"] = strconv.FormatInt(b.r.UserID, 10)
	}
	if b.r.CustomerID > 0 && page != "customers" {
		q["customer_id"] = strconv.FormatInt(b.r.CustomerID, 10)
	}
	if b.r.ProductID > 0 && page == "sales" {
		q["product_id"] = strconv.FormatInt(b.r.ProductID, 10)
	}
	if len(b.r.deptIDs) > 0 {
		ids := make([]string, len(b.r.deptIDs))
		for i, d := range b.r.deptIDs {
			ids[i] = id(d)
		}
		q["department_ids"] = strings.Join(ids, ",")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(q, kv[i])
			continue
		}
		q[kv[i]] = kv[i+1]
	}
	return &reportview.Drill{Page: page, Query: q}
}

// names reads id → name for a table (users, departments, products, customers).
func (b *builder) names(ctx context.Context, table string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var rows []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
		}
		// table is one of four constants, never input.
		if err := b.s.db.SelectContext(ctx, &rows, "SELECT id, name FROM "+table+" WHERE id IN ("+store.Placeholders(n)+")",
			store.Int64Args(ids[:n])...); err != nil {
			return nil, fmt.Errorf("report: names of %s: %w", table, err)
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
		ids = ids[n:]
	}
	return out, nil
}

// change is the relative change from before to now; nil when before is 0.
func change(now, before float64) *float64 {
	if before == 0 {
		return nil
	}
	c := (now - before) / before
	return &c
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func yuan(fen int64) string { return product.FormatFen(fen) }
