package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Types are the reports there are.
var Types = []string{"sales", "customers", "performance", "funnel", "rfm"}

// Presets are the named time ranges (今天, 本周, …), read in the company's zone.
var Presets = []string{"today", "this_week", "this_month", "this_quarter", "this_year", "last_month", "last_quarter", "last_year"}

// Groupings are what each report may be grouped by ("" = its default).
var Groupings = map[string][]string{
	"sales":       {"day", "week", "month", "quarter", "year", "user", "department", "product", "customer", "source"},
	"customers":   {"source", "level", "industry", "status", "user"},
	"performance": {"user", "department"},
	"funnel":      {},
	"rfm":         {},
}

// defaultGroup is each report's grouping when none is asked for.
var defaultGroup = map[string]string{"sales": "month", "customers": "source", "performance": "user"}

// MaxYears bounds a range: a longer one is refused rather than computed.
const MaxYears = 10

// Params are a report's conditions as the request gave them.
type Params struct {
	Type         string
	From, To     string // dates (2026-11-01), both included
	Preset       string
	GroupBy      string
	UserID       int64
	DepartmentID int64
	CustomerID   int64
	ProductID    int64
	// DormantDays: a customer with no follow-up in this many days is
	// dormant (customer report; default 30).
	DormantDays int
	// Lang is the reader's language for every label.
	Lang string
	// Raw computes from the raw tables only (the benchmark's and the
	// tests' reference; also used when the zone has daylight saving).
	Raw bool
}

// DefaultDormantDays is the dormancy threshold when none is given.
const DefaultDormantDays = 30

// period is a resolved, validated date range.
type period struct {
	From, To time.Time // dates at 00:00 UTC (calendar days, zone-free)
}

func (p period) days() int { return int(p.To.Sub(p.From).Hours()/24) + 1 }

const day = "2006-01-02"

func (p period) from() string { return p.From.Format(day) }
func (p period) to() string   { return p.To.Format(day) }

// shift moves the period: the previous period of the same length, or the
// same dates a year before.
func (p period) previous() period {
	if p.monthAligned() { // whole months: the months just before (March → February)
		months := (p.To.Year()-p.From.Year())*12 + int(p.To.Month()-p.From.Month()) + 1
		return period{From: p.From.AddDate(0, -months, 0), To: p.From.AddDate(0, 0, -1)}
	}
	n := p.days()
	return period{From: p.From.AddDate(0, 0, -n), To: p.From.AddDate(0, 0, -1)}
}

func (p period) yearBefore() period {
	if p.monthAligned() { // keeps 29 February ranges whole months
		return period{From: p.From.AddDate(-1, 0, 0), To: p.To.AddDate(0, 0, 1).AddDate(-1, 0, -1)}
	}
	return period{From: p.From.AddDate(-1, 0, 0), To: p.To.AddDate(-1, 0, 0)}
}

// utc is the period as UTC instants [start, end) of the company's days.
func (p period) utc(loc *time.Location) (time.Time, time.Time) {
	s := time.Date(p.From.Year(), p.From.Month(), p.From.Day(), 0, 0, 0, 0, loc).UTC()
	e := time.Date(p.To.Year(), p.To.Month(), p.To.Day()+1, 0, 0, 0, 0, loc).UTC()
	return s, e
}

// monthAligned reports whether the period is whole calendar months.
func (p period) monthAligned() bool {
	return p.From.Day() == 1 && p.To.AddDate(0, 0, 1).Day() == 1
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// presetPeriod is a named range around today (a company-zone date).
func presetPeriod(name string, today time.Time) period {
	y, m, d := today.Date()
	q := (int(m) - 1) / 3
	mk := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	switch name {
	case "today":
		return period{today, today}
	case "this_week": // Monday to Sunday
		wd := (int(today.Weekday()) + 6) % 7
		s := today.AddDate(0, 0, -wd)
		return period{s, s.AddDate(0, 0, 6)}
	case "this_month":
		return period{mk(y, m, 1), mk(y, m+1, 0)}
	case "this_quarter":
		return period{mk(y, time.Month(q*3+1), 1), mk(y, time.Month(q*3+4), 0)}
	case "this_year":
		return period{mk(y, 1, 1), mk(y, 12, 31)}
	case "last_month":
		return period{mk(y, m-1, 1), mk(y, m, 0)}
	case "last_quarter":
		return period{mk(y, time.Month(q*3-2), 1), mk(y, time.Month(q*3+1), 0)}
	case "last_year":
		return period{mk(y-1, 1, 1), mk(y-1, 12, 31)}
	}
	_ = d
	return period{}
}

// resolved is a request after validation: the range, the grouping and the
// departments the department condition covers.
type resolved struct {
	Params
	period  period
	deptIDs []int64 // the asked department and all below it
}

// resolve checks every condition at once (400 with all problems) and then
// that the named person, department and customer are within the Actor's
// scope (404 otherwise), before anything is computed.
func (s *Service) resolve(ctx context.Context, a *auth.Actor, p Params) (*resolved, error) {
	var v errs.Invalid
	if !in(Types, p.Type) {
		v.Add("type", "report.unknown_type")
	}
	r := &resolved{Params: p}
	today := civil(time.Now().In(s.loc))
	switch {
	case p.Preset != "" && (p.From != "" || p.To != ""):
		v.Add("preset", "report.preset_and_dates")
	case p.Preset != "":
		if !in(Presets, p.Preset) {
			v.Add("preset", "report.unknown_preset")
		} else {
			r.period = presetPeriod(p.Preset, today)
		}
	default:
		r.period = presetPeriod("this_month", today)
		if p.Type == "rfm" {
			r.period = period{today.AddDate(-1, 0, 1), today}
		}
		if p.From != "" {
			t, ok := parseDay(p.From)
			if !ok {
				v.Add("from", "report.date")
			}
			r.period.From = t
		}
		if p.To != "" {
			t, ok := parseDay(p.To)
			if !ok {
				v.Add("to", "report.date")
			}
			r.period.To = t
		}
		if !v.Has("from") && !v.Has("to") {
			if r.period.To.Before(r.period.From) {
				v.Add("to", "report.range_reversed")
			} else if r.period.From.AddDate(MaxYears, 0, 0).Before(r.period.To) {
				v.Add("to", "report.range_too_long", "years", MaxYears)
			}
		}
	}
	if in(Types, p.Type) {
		if p.GroupBy == "" {
			r.GroupBy = defaultGroup[p.Type]
		} else if !in(Groupings[p.Type], p.GroupBy) {
			v.Add("group_by", "report.unknown_group_by")
		}
	}
	if p.DormantDays == 0 {
		r.DormantDays = DefaultDormantDays
	} else if p.DormantDays < 1 || p.DormantDays > 3650 {
		v.Add("dormant_days", "report.dormant_days")
	}
	if (p.Type == "performance" || p.Type == "customers") && p.ProductID > 0 {
		v.Add("product_id", "report.condition_unsupported")
	}
	if p.Type == "performance" && p.CustomerID > 0 {
		v.Add("customer_id", "report.condition_unsupported")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return r, s.checkScope(ctx, a, r)
}

func parseDay(s string) (time.Time, bool) {
	t, err := time.Parse(day, s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, false
	}
	return t, true
}

func in(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkScope: a person, department or customer named in the conditions
// must be one the Actor may report on; otherwise 404 (as if absent).
func (s *Service) checkScope(ctx context.Context, a *auth.Actor, r *resolved) error {
	if r.DepartmentID > 0 {
		tree, err := s.subtree(ctx, r.DepartmentID)
		if err != nil {
			return err
		}
		if len(tree) == 0 || !s.seesDept(a, r.DepartmentID) {
			return ErrDepartmentNotFound
		}
		r.deptIDs = tree
	}
	if r.UserID > 0 {
		ok, err := s.seesUser(ctx, a, r.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUserNotFound
		}
	}
	if r.CustomerID > 0 {
		cond, args := a.ScopeFilter("owner_id", "department_id")
		var n int
		err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM customers WHERE id = ? AND deleted_at IS NULL AND "+cond,
			append([]any{r.CustomerID}, args...)...)
		if err != nil {
			return fmt.Errorf("report: check customer: %w", err)
		}
		if n == 0 {
			return ErrCustomerNotFound
		}
	}
	if r.ProductID > 0 {
		var n int
		if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM products WHERE id = ?", r.ProductID); err != nil {
			return fmt.Errorf("report: check product: %w", err)
		}
		if n == 0 {
			return ErrProductNotFound
		}
	}
	return nil
}

// seesDept: admins see every department, managers theirs (and below), a
// salesperson only their own departments (their own records in them).
func (s *Service) seesDept(a *auth.Actor, id int64) bool {
	if a.Scope == auth.ScopeAll {
		return true
	}
	for _, d := range append(append([]int64{}, a.ScopeDeptIDs...), a.DeptIDs...) {
		if d == id {
			return true
		}
	}
	return false
}

// seesUser: the Actor themself, anyone for admins, and for managers anyone
// in a department of their scope.
func (s *Service) seesUser(ctx context.Context, a *auth.Actor, id int64) (bool, error) {
	if id == a.UserID {
		return true, nil
	}
	switch a.Scope {
	case auth.ScopeAll:
		var n int
		err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM users WHERE id = ?", id)
		return n > 0, err
	case auth.ScopeDept, auth.ScopeDeptTree:
		if len(a.ScopeDeptIDs) == 0 {
			return false, nil
		}
		var n int
		err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM user_departments WHERE user_id = ? AND department_id IN ("+
			store.Placeholders(len(a.ScopeDeptIDs))+")", append([]any{id}, store.Int64Args(a.ScopeDeptIDs)...)...)
		return n > 0, err
	}
	return false, nil
}

// subtree is a department and every department below it (empty when the
// department does not exist).
func (s *Service) subtree(ctx context.Context, root int64) ([]int64, error) {
	var rows []struct {
		ID     int64  `db:"id"`
		Parent *int64 `db:"parent_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT id, parent_id FROM departments"); err != nil {
		return nil, fmt.Errorf("report: departments: %w", err)
	}
	kids := map[int64][]int64{}
	exists := false
	for _, r := range rows {
		if r.ID == root {
			exists = true
		}
		if r.Parent != nil {
			kids[*r.Parent] = append(kids[*r.Parent], r.ID)
		}
	}
	if !exists {
		return nil, nil
	}
	out := []int64{root}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out, nil
}

// where is a WHERE clause under construction.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// people adds the scope, person and department conditions on a table with
// the given owner and department columns: the one place every report's
// rows are limited to what the Actor may see.
func (r *resolved) people(w *where, a *auth.Actor, owner, dept string) {
	cond, args := a.ScopeFilter(owner, dept)
	w.add(cond, args...)
	if r.UserID > 0 {
		w.add(owner+" = ?", r.UserID)
	}
	if len(r.deptIDs) > 0 {
		w.add(dept+" IN ("+store.Placeholders(len(r.deptIDs))+")", store.Int64Args(r.deptIDs)...)
	}
}
