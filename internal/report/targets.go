package report

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// ErrSubjectNotFound: the person or department of a target does not exist
// or is outside the Actor's scope.
var ErrSubjectNotFound = errs.NotFound("target.subject_not_found")

// Target is one month's sales target of a person or a department.
type Target struct {
	Kind        string `json:"kind" db:"subject_kind"` // user or department
	SubjectID   int64  `json:"subject_id" db:"subject_id"`
	SubjectName string `json:"subject_name" db:"subject_name"`
	Month       string `json:"month" db:"month"` // 2026-11
	AmountFen   int64  `json:"amount_fen" db:"amount_fen"`
	Amount      string `json:"amount" db:"-"`
}

// TargetInput sets one month's target (0 clears it).
type TargetInput struct {
	Kind      string `json:"kind"`
	SubjectID int64  `json:"subject_id"`
	Month     string `json:"month"`
	AmountFen *int64 `json:"amount_fen"`
}

// TargetFilter narrows the list: a year (required), and optionally one kind
// or subject.
type TargetFilter struct {
	Year      int
	Kind      string
	SubjectID int64
}

const maxTargetFen = 1e14

// ListTargets returns the year's monthly targets the Actor may see.
func (s *Service) ListTargets(ctx context.Context, a *auth.Actor, f TargetFilter) ([]Target, error) {
	if err := a.Require(PermTargetView); err != nil {
		return nil, err
	}
	var v errs.Invalid
	if f.Year < 2000 || f.Year > 2100 {
		v.Add("year", "target.year")
	}
	if f.Kind != "" && f.Kind != "user" && f.Kind != "department" {
		v.Add("kind", "target.kind")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	w := &where{}
	w.add("t.month >= ? AND t.month <= ?", fmt.Sprintf("%d-01-01", f.Year), fmt.Sprintf("%d-12-31", f.Year))
	if f.Kind != "" {
		w.add("t.subject_kind = ?", f.Kind)
	}
	if f.SubjectID > 0 {
		w.add("t.subject_id = ?", f.SubjectID)
	}
	var rows []Target
	err := s.db.SelectContext(ctx, &rows, `SELECT t.subject_kind, t.subject_id, COALESCE(u.name, d.name, '') AS subject_name,
		`+dayText(s.db.Dialect, "t.month")+` AS month, t.amount_fen FROM sales_targets t
		LEFT JOIN users u ON t.subject_kind = 'user' AND u.id = t.subject_id
		LEFT JOIN departments d ON t.subject_kind = 'department' AND d.id = t.subject_id`+w.sql()+
		" ORDER BY t.subject_kind DESC, t.subject_id, t.month", w.args...)
	if err != nil {
		return nil, fmt.Errorf("report: targets: %w", err)
	}
	out := []Target{}
	seen := map[string]bool{}
	for _, t := range rows {
		key := t.Kind + strconv.FormatInt(t.SubjectID, 10)
		ok, known := seen[key]
		if !known {
			var err error
			if ok, err = s.seesSubject(ctx, a, t.Kind, t.SubjectID); err != nil {
				return nil, err
			}
			seen[key] = ok
		}
		if ok {
			t.Month = t.Month[:7]
			t.Amount = yuan(t.AmountFen)
			out = append(out, t)
		}
	}
	return out, nil
}

// seesSubject: targets of a person in the Actor's scope, or of a
// department the Actor manages (salespeople see only their own).
func (s *Service) seesSubject(ctx context.Context, a *auth.Actor, kind string, id int64) (bool, error) {
	if kind == "department" {
		if a.Scope == auth.ScopeSelf {
			return false, nil
		}
		if !s.seesDept(a, id) {
			return false, nil
		}
		var n int
		err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM departments WHERE id = ?", id)
		return n > 0, err
	}
	return s.seesUser(ctx, a, id)
}

// SetTargets saves monthly targets (target.edit), all or none: every
// problem is reported at once; a person or department outside the Actor's
// scope is 404.
func (s *Service) SetTargets(ctx context.Context, a *auth.Actor, items []TargetInput) ([]Target, error) {
	if err := a.Require(PermTargetEdit); err != nil {
		return nil, err
	}
	var v errs.Invalid
	if len(items) == 0 || len(items) > 1200 {
		v.Add("items", "target.items")
	}
	months := make([]string, len(items))
	for i, it := range items {
		p := "items." + strconv.Itoa(i) + "."
		if it.Kind != "user" && it.Kind != "department" {
			v.Add(p+"kind", "target.kind")
		}
		if it.SubjectID < 1 {
			v.Add(p+"subject_id", "validation.required")
		}
		m, err := time.Parse("2006-01", it.Month)
		if err != nil || m.Year() < 2000 || m.Year() > 2100 {
			v.Add(p+"month", "target.month")
		}
		months[i] = m.Format(day)
		if it.AmountFen == nil || *it.AmountFen < 0 || *it.AmountFen > maxTargetFen {
			v.Add(p+"amount_fen", "target.amount")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	for _, it := range items {
		ok, err := s.seesSubject(ctx, a, it.Kind, it.SubjectID)
		if err != nil {
			return nil, err
		}
		if !ok || it.Kind == "user" && it.SubjectID == a.UserID && a.Scope == auth.ScopeSelf {
			return nil, ErrSubjectNotFound
		}
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		now := store.Now()
		for i, it := range items {
			var old int64
			err := tx.GetContext(ctx, &old, "SELECT amount_fen FROM sales_targets WHERE subject_kind = ? AND subject_id = ? AND month = ?",
				it.Kind, it.SubjectID, months[i])
			if err != nil && !store.IsNoRows(err) {
				return fmt.Errorf("report: read target: %w", err)
			}
			if err == nil && old == *it.AmountFen {
				continue
			}
			if err == nil {
				_, err = tx.ExecContext(ctx, "UPDATE sales_targets SET amount_fen = ?, updated_by = ?, updated_at = ? WHERE subject_kind = ? AND subject_id = ? AND month = ?",
					*it.AmountFen, a.UserID, now, it.Kind, it.SubjectID, months[i])
			} else {
				_, err = tx.ExecContext(ctx, "INSERT INTO sales_targets (subject_kind, subject_id, month, amount_fen, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
					it.Kind, it.SubjectID, months[i], *it.AmountFen, a.UserID, now)
			}
			if store.IsUniqueViolation(err) {
				return errs.Conflict("target.concurrent")
			}
			if err != nil {
				return fmt.Errorf("report: save target: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: audit.ActUpdate, Entity: "target", EntityID: it.SubjectID,
				EntityName: it.Kind + " " + it.Month, Changes: audit.Diff(map[string]any{"amount_fen": old}, map[string]any{"amount_fen": *it.AmountFen})}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Target, len(items))
	for i, it := range items {
		out[i] = Target{Kind: it.Kind, SubjectID: it.SubjectID, Month: it.Month, AmountFen: *it.AmountFen, Amount: yuan(*it.AmountFen)}
	}
	return out, nil
}

// Attainment is a target against what was sold, for the home page.
type Attainment struct {
	Kind      string  `json:"kind"` // user or department
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	TargetFen int64   `json:"target_fen"`
	ActualFen int64   `json:"actual_fen"`
	Target    string  `json:"target"`
	Actual    string  `json:"actual"`
	Rate      float64 `json:"rate"` // actual / target, 0 when no target
}

// AttainmentReport is the current month, quarter or year for the Actor
// and the departments they manage.
type AttainmentReport struct {
	Period string       `json:"period"`
	From   string       `json:"from"`
	To     string       `json:"to"`
	Items  []Attainment `json:"items"`
}

// Attainment computes the home page's figures: the Actor's own sales
// against their target, and (for managers and admins) each of their
// departments' sales, sub-departments included, against its target.
func (s *Service) Attainment(ctx context.Context, a *auth.Actor, periodName string) (*AttainmentReport, error) {
	if err := a.Require(PermTargetView); err != nil {
		return nil, err
	}
	preset := map[string]string{"month": "this_month", "quarter": "this_quarter", "year": "this_year", "": "this_month"}[periodName]
	if preset == "" {
		return nil, errs.InvalidField("period", "target.period")
	}
	p := presetPeriod(preset, s.today())
	out := &AttainmentReport{Period: periodName, From: p.from(), To: p.to(), Items: []Attainment{}}
	if out.Period == "" {
		out.Period = "month"
	}
	r := &resolved{period: p}
	b := &builder{s: s, a: a, r: r}
	add := func(kind string, id int64, name string, deptIDs []int64) error {
		sub := &resolved{period: p, deptIDs: deptIDs}
		sub.Raw = !s.summaries
		if kind == "user" {
			sub.UserID = id
		}
		bb := &builder{s: s, a: auth.System(), r: sub}
		total, err := bb.salesTotal(ctx, p)
		if err != nil {
			return err
		}
		targets, err := b.targetsBy(ctx, kind, p)
		if err != nil {
			return err
		}
		t := targets[strconv.FormatInt(id, 10)]
		out.Items = append(out.Items, Attainment{Kind: kind, ID: id, Name: name, TargetFen: t, ActualFen: total.Amount,
			Target: yuan(t), Actual: yuan(total.Amount), Rate: ratio(float64(total.Amount), float64(t))})
		return nil
	}
	if err := add("user", a.UserID, a.Name, nil); err != nil {
		return nil, err
	}
	if a.Scope == auth.ScopeSelf {
		return out, nil
	}
	names, err := b.names(ctx, "departments", a.DeptIDs)
	if err != nil {
		return nil, err
	}
	for _, d := range a.DeptIDs {
		tree, err := s.subtree(ctx, d)
		if err != nil {
			return nil, err
		}
		if len(tree) == 0 {
			continue
		}
		if err := add("department", d, names[d], tree); err != nil {
			return nil, err
		}
	}
	return out, nil
}
