package summary

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/jobs"
)

type dept struct {
	ID       int64  `db:"id"`
	ParentID *int64 `db:"parent_id"`
	Name     string `db:"name"`
}

// tree is the live department tree.
type tree struct {
	byID     map[int64]dept
	children map[int64][]int64
	roots    []int64
}

func (s *Service) tree(ctx context.Context) (*tree, error) {
	var ds []dept
	if err := s.db.SelectContext(ctx, &ds, "SELECT id, parent_id, name FROM departments WHERE removed_at IS NULL ORDER BY id"); err != nil {
		return nil, fmt.Errorf("summary: departments: %w", err)
	}
	t := &tree{byID: map[int64]dept{}, children: map[int64][]int64{}}
	for _, d := range ds {
		t.byID[d.ID] = d
	}
	for _, d := range ds {
		if d.ParentID != nil && t.byID[*d.ParentID].ID != 0 {
			t.children[*d.ParentID] = append(t.children[*d.ParentID], d.ID)
		} else {
			t.roots = append(t.roots, d.ID)
		}
	}
	return t, nil
}

// below returns ids and every department under them.
func (t *tree) below(ids ...int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	var walk func(int64)
	walk = func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, id)
		for _, c := range t.children[id] {
			walk(c)
		}
	}
	for _, id := range ids {
		walk(id)
	}
	return out
}

// tops returns those of ids that are not below another of them.
func (t *tree) tops(ids []int64) []int64 {
	in := map[int64]bool{}
	for _, id := range ids {
		in[id] = true
	}
	var out []int64
	for _, id := range ids {
		top := true
		for p := t.byID[id].ParentID; p != nil && top; p = t.byID[*p].ParentID {
			if in[*p] {
				top = false
			}
			if t.byID[*p].ID == 0 {
				break
			}
		}
		if top && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// figuresText is the period's figures and the month to date against the
// departments' target.
func (s *Service) figuresText(ctx context.Context, lang string, t *tree, depts []int64, p Period, sh Shown) (string, error) {
	below := t.below(depts...)
	f, err := Compute(ctx, s.db, below, p)
	if err != nil {
		return "", err
	}
	m, err := ComputeMonthToDate(ctx, s.db, below, t.tops(depts), p)
	if err != nil {
		return "", err
	}
	return lines(s.Text(lang, f, sh), s.TargetText(lang, m, sh)), nil
}

type person struct {
	ID     int64  `db:"id"`
	Name   string `db:"name"`
	Lang   string `db:"lang"`
	DeptID int64  `db:"department_id"`
}

func (s *Service) langOf(p person) string {
	if p.Lang != "" {
		return p.Lang
	}
	return s.lang
}

// TeamSummary is the team-summary job (18:00): each manager gets the day's
// figures of the departments they manage (and those below) as a work
// notification, once per (manager, day); each team's group robot gets its
// own figures once per day.
func (s *Service) TeamSummary(ctx context.Context, now time.Time) (jobs.Result, error) {
	day := Day(now, s.loc)
	date := day.firstDay()
	t, err := s.tree(ctx)
	if err != nil {
		return jobs.Result{}, err
	}
	var rows []person
	if err := s.db.SelectContext(ctx, &rows, `SELECT u.id, u.name, u.lang, ud.department_id FROM user_departments ud
		JOIN users u ON u.id = ud.user_id WHERE ud.is_manager = 1 AND u.active = 1 ORDER BY u.id, ud.department_id`); err != nil {
		return jobs.Result{}, fmt.Errorf("summary: managers: %w", err)
	}
	managed := map[int64][]int64{}
	var managers []person
	for _, r := range rows {
		if _, ok := managed[r.ID]; !ok {
			managers = append(managers, r)
		}
		managed[r.ID] = append(managed[r.ID], r.DeptID)
	}
	var notices []Notice
	for _, m := range managers {
		lang := s.langOf(m)
		text, err := s.figuresText(ctx, lang, t, managed[m.ID], day, s.readerShown(ctx, m.ID))
		if err != nil {
			return jobs.Result{}, err
		}
		title := s.msg.T(lang, "summary.team_title", map[string]any{"date": date})
		notices = append(notices, Notice{UserID: m.ID, Kind: "team_summary", Title: title,
			Body: "### " + title + "\n\n" + text, URL: "#/sales",
			DedupKey: fmt.Sprintf("team-summary:%d:%s", m.ID, date), DueAt: now})
	}
	res := jobs.Result{Counts: map[string]int64{"managers": int64(len(managers))}}
	var errList []error
	if err := s.notify(ctx, notices, &res); err != nil {
		errList = append(errList, err)
	}
	if err := s.postRobots(ctx, t, "team", date, day, "summary.team_title", map[string]any{"date": date}, &res); err != nil {
		errList = append(errList, err)
	}
	res.Summary = s.describe(res)
	return res, errors.Join(errList...)
}

// WeeklySummary is the weekly-summary job (Monday 09:00): the admins get
// last week's company figures with a line per top-level department; each
// team's group robot gets its own week.
func (s *Service) WeeklySummary(ctx context.Context, now time.Time) (jobs.Result, error) {
	week := LastWeek(now, s.loc)
	monday := week.firstDay()
	t, err := s.tree(ctx)
	if err != nil {
		return jobs.Result{}, err
	}
	var admins []person
	if err := s.db.SelectContext(ctx, &admins, `SELECT DISTINCT u.id, u.name, u.lang, 0 AS department_id FROM users u
		JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
		WHERE r.code = 'admin' AND u.active = 1 ORDER BY u.id`); err != nil {
		return jobs.Result{}, fmt.Errorf("summary: admins: %w", err)
	}
	total, err := Compute(ctx, s.db, nil, week)
	if err != nil {
		return jobs.Result{}, err
	}
	// The teams: the departments right under the top (the company itself
	// when there is only one level).
	var teams []int64
	for _, r := range t.roots {
		teams = append(teams, t.children[r]...)
	}
	teamFigures := make([]Figures, len(teams))
	teamMonth := make([]MonthToDate, len(teams))
	for i, id := range teams {
		if teamFigures[i], err = Compute(ctx, s.db, t.below(id), week); err != nil {
			return jobs.Result{}, err
		}
		if teamMonth[i], err = ComputeMonthToDate(ctx, s.db, t.below(id), []int64{id}, week); err != nil {
			return jobs.Result{}, err
		}
	}
	vars := map[string]any{"from": monday, "to": week.lastDay()}
	var notices []Notice
	for _, a := range admins {
		lang, sh := s.langOf(a), s.readerShown(ctx, a.ID)
		title := s.msg.T(lang, "summary.weekly_title", vars)
		var b strings.Builder
		b.WriteString("### " + title + "\n\n" + s.Text(lang, total, sh))
		for i, id := range teams {
			f := teamFigures[i]
			b.WriteString("\n\n**" + t.byID[id].Name + "**\n\n" + lines(s.Text(lang, f, sh), s.TargetText(lang, teamMonth[i], sh)))
		}
		notices = append(notices, Notice{UserID: a.ID, Kind: "weekly_summary", Title: title, Body: b.String(),
			URL: "#/sales", DedupKey: fmt.Sprintf("weekly-summary:%d:%s", a.ID, monday), DueAt: now})
	}
	res := jobs.Result{Counts: map[string]int64{"admins": int64(len(admins))}}
	var errList []error
	if err := s.notify(ctx, notices, &res); err != nil {
		errList = append(errList, err)
	}
	if err := s.postRobots(ctx, t, "weekly", monday, week, "summary.weekly_title", vars, &res); err != nil {
		errList = append(errList, err)
	}
	res.Summary = s.describe(res)
	return res, errors.Join(errList...)
}

func (s *Service) notify(ctx context.Context, notices []Notice, res *jobs.Result) error {
	if s.notifier == nil || len(notices) == 0 {
		return nil
	}
	if err := s.notifier.Notify(ctx, notices); err != nil {
		return fmt.Errorf("summary: queue notifications: %w", err)
	}
	res.Counts["notices"] = int64(len(notices))
	return nil
}

// postRobots posts each enabled team robot its department's figures.
func (s *Service) postRobots(ctx context.Context, t *tree, kind, period string, p Period, titleKey string,
	vars map[string]any, res *jobs.Result) error {
	robots, err := s.robots.Enabled(ctx)
	if err != nil {
		return err
	}
	if len(robots) == 0 {
		return nil
	}
	sh, err := s.groupShown(ctx)
	if err != nil {
		return err
	}
	var errList []error
	for _, r := range robots {
		if _, ok := t.byID[r.DepartmentID]; !ok {
			continue // the department was removed
		}
		text, err := s.figuresText(ctx, s.lang, t, []int64{r.DepartmentID}, p, sh)
		if err != nil {
			return err
		}
		title := s.msg.T(s.lang, titleKey, vars) + " · " + t.byID[r.DepartmentID].Name
		sent, err := s.robots.Post(ctx, r, kind, period, title, "### "+title+"\n\n"+text)
		switch {
		case err != nil:
			res.Counts["robot_failures"]++
			errList = append(errList, fmt.Errorf("group robot of %s: %w", t.byID[r.DepartmentID].Name, err))
		case sent:
			res.Counts["robots"]++
		default:
			res.Counts["robots_already_sent"]++
		}
	}
	return errors.Join(errList...)
}

// lines joins the non-empty lines of a summary.
func lines(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

func (s *Service) describe(res jobs.Result) string {
	c := res.Counts
	out := fmt.Sprintf("%d notifications, %d group robots (%d already sent, %d failed)",
		c["notices"], c["robots"], c["robots_already_sent"], c["robot_failures"])
	if s.notifier == nil {
		out += "; work notifications not wired (no outbox)"
	}
	return out
}
