// Package summary computes the sales teams' figures for a period (new
// customers, follow-ups, sales, won deals) and sends the scheduled
// summaries: each manager's daily team summary (18:00) and the admins'
// weekly summary (Monday), as work notifications through a Notifier and
// to the teams' group robots.
package summary

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/grouprobot"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/store"
)

// Figures are one scope's numbers for a period.
type Figures struct {
	NewCustomers int   `db:"new_customers"`
	Followups    int   `db:"followups"`
	Sales        int   `db:"sales"`
	SalesFen     int64 `db:"sales_fen"`
	WonDeals     int   `db:"won_deals"`
	WonFen       int64 `db:"won_fen"`
}

// Period is [From, To) in the company's zone; the dates are the calendar
// days it covers (To's day excluded) for date columns.
type Period struct {
	From, To time.Time
}

func (p Period) firstDay() string { return p.From.Format(time.DateOnly) }
func (p Period) lastDay() string  { return p.To.AddDate(0, 0, -1).Format(time.DateOnly) }

// Day is the calendar day of t in loc.
func Day(t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	from := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	return Period{From: from, To: from.AddDate(0, 0, 1)}
}

// LastWeek is the Monday-to-Sunday week before t's week, in loc.
func LastWeek(t time.Time, loc *time.Location) Period {
	d := Day(t, loc).From
	monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	return Period{From: monday.AddDate(0, 0, -7), To: monday}
}

// Compute returns the figures of the departments deptIDs (nil: the whole
// company) for p, filed by the records' departments.
func Compute(ctx context.Context, db *store.DB, deptIDs []int64, p Period) (Figures, error) {
	var f Figures
	cond, args := "", []any(nil)
	if deptIDs != nil {
		if len(deptIDs) == 0 {
			return f, nil
		}
		cond = " AND department_id IN (" + store.Placeholders(len(deptIDs)) + ")"
		args = store.Int64Args(deptIDs)
	}
	from, to := p.From.UTC(), p.To.UTC()
	q := func(dst any, sql string, first ...any) error {
		return db.GetContext(ctx, dst, sql+cond, append(first, args...)...)
	}
	if err := q(&f.NewCustomers, "SELECT COUNT(*) FROM customers WHERE created_at >= ? AND created_at < ? AND deleted_at IS NULL",
		from, to); err != nil {
		return f, fmt.Errorf("summary: customers: %w", err)
	}
	if err := q(&f.Followups, "SELECT COUNT(*) FROM followups WHERE followed_at >= ? AND followed_at < ? AND deleted_at IS NULL",
		from, to); err != nil {
		return f, fmt.Errorf("summary: follow-ups: %w", err)
	}
	var sales struct {
		N   int   `db:"n"`
		Fen int64 `db:"fen"`
	}
	if err := q(&sales, "SELECT COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen FROM sales WHERE sale_date >= ? AND sale_date <= ? AND deleted_at IS NULL",
		p.firstDay(), p.lastDay()); err != nil {
		return f, fmt.Errorf("summary: sales: %w", err)
	}
	f.Sales, f.SalesFen = sales.N, sales.Fen
	if err := q(&sales, "SELECT COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen FROM opportunities WHERE status = 'won' AND closed_at >= ? AND closed_at < ? AND deleted_at IS NULL",
		from, to); err != nil {
		return f, fmt.Errorf("summary: won deals: %w", err)
	}
	f.WonDeals, f.WonFen = sales.N, sales.Fen
	return f, nil
}

// Notice is a work notification to one person (the outbox's message).
type Notice struct {
	UserID   int64
	Kind     string
	Title    string
	Body     string // markdown
	URL      string // in-app route, e.g. "#/sales"
	DedupKey string // unique: the same notice is never queued twice
	DueAt    time.Time
}

// Notifier queues work notifications (the outbox, once it exists).
type Notifier interface {
	Notify(ctx context.Context, notices []Notice) error
}

// Shown says which money figures a summary's reader may see: the same
// field visibility (字段权限) that masks them in lists and reports.
type Shown struct{ SaleAmounts, DealAmounts bool }

// AllShown shows every figure.
var AllShown = Shown{SaleAmounts: true, DealAmounts: true}

// ShownBy is what a field policy lets its holder see.
func ShownBy(p auth.FieldPolicy) Shown {
	return Shown{SaleAmounts: p.Visible("sale.amount"), DealAmounts: p.Visible("opportunity.amount")}
}

// Service sends the summaries.
type Service struct {
	db       *store.DB
	actors   *auth.Loader // each reader's field policy
	robots   *grouprobot.Service
	notifier Notifier // nil: no work notifications, robots only
	msg      i18n.Catalog
	lang     string // the company's language, for group messages
	loc      *time.Location
	log      *slog.Logger
}

// New returns the service. notifier may be nil.
func New(db *store.DB, actors *auth.Loader, robots *grouprobot.Service, notifier Notifier, msg i18n.Catalog, lang string,
	loc *time.Location, log *slog.Logger) *Service {
	return &Service{db: db, actors: actors, robots: robots, notifier: notifier, msg: msg, lang: lang, loc: loc, log: log}
}

// Text renders figures as markdown lines in lang; amounts the reader may
// not see are left out (the counts stay).
func (s *Service) Text(lang string, f Figures, sh Shown) string {
	sales := s.msg.T(lang, "summary.sales_count", map[string]any{"n": f.Sales})
	if sh.SaleAmounts {
		sales = s.msg.T(lang, "summary.sales", map[string]any{"n": f.Sales, "amount": product.FormatFen(f.SalesFen)})
	}
	won := s.msg.T(lang, "summary.won_count", map[string]any{"n": f.WonDeals})
	if sh.DealAmounts {
		won = s.msg.T(lang, "summary.won", map[string]any{"n": f.WonDeals, "amount": product.FormatFen(f.WonFen)})
	}
	lines := []string{
		s.msg.T(lang, "summary.new_customers", map[string]any{"n": f.NewCustomers}),
		s.msg.T(lang, "summary.followups", map[string]any{"n": f.Followups}),
		sales, won,
	}
	return "- " + strings.Join(lines, "\n- ")
}

// readerShown is what one person may see of the figures; a person who
// cannot be loaded (deactivated meanwhile) sees no amounts.
func (s *Service) readerShown(ctx context.Context, userID int64) Shown {
	a, err := s.actors.Load(ctx, userID)
	if err != nil {
		return Shown{}
	}
	return ShownBy(a.Fields)
}

// groupShown is what a team's group chat may see: its members are
// salespeople, so the built-in 销售 role's field policy applies (no role:
// no amounts).
func (s *Service) groupShown(ctx context.Context) (Shown, error) {
	var raw string
	err := s.db.GetContext(ctx, &raw, "SELECT field_policy FROM roles WHERE code = 'sales'")
	if store.IsNoRows(err) {
		return Shown{}, nil
	}
	if err != nil {
		return Shown{}, fmt.Errorf("summary: the sales role: %w", err)
	}
	return ShownBy(auth.ParseFieldPolicy(raw)), nil
}

// MonthToDate is a scope's sales from the first of the month to the end of
// a period, against the departments' monthly targets (report's
// sales_targets; 0: none set).
type MonthToDate struct {
	Month     string // 2026-11
	SalesFen  int64
	TargetFen int64
}

// monthTo is the month of p's last day, from its first day to p.To.
func monthTo(p Period) Period {
	last := p.To.AddDate(0, 0, -1)
	return Period{From: time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, p.To.Location()), To: p.To}
}

// ComputeMonthToDate returns the month-to-date sales of the departments
// deptIDs (every department below included by the caller) and the sum of
// the monthly targets set on targetIDs (the topmost of them, so that a
// department's target is not counted again with its parent's).
func ComputeMonthToDate(ctx context.Context, db *store.DB, deptIDs, targetIDs []int64, p Period) (MonthToDate, error) {
	m := monthTo(p)
	out := MonthToDate{Month: m.From.Format("2006-01")}
	f, err := Compute(ctx, db, deptIDs, m)
	if err != nil {
		return out, err
	}
	out.SalesFen = f.SalesFen
	if len(targetIDs) == 0 {
		return out, nil
	}
	if err := db.GetContext(ctx, &out.TargetFen, `SELECT COALESCE(SUM(amount_fen), 0) FROM sales_targets
		WHERE subject_kind = 'department' AND month = ? AND subject_id IN (`+store.Placeholders(len(targetIDs))+`)`,
		append([]any{m.firstDay()}, store.Int64Args(targetIDs)...)...); err != nil {
		return out, fmt.Errorf("summary: targets: %w", err)
	}
	return out, nil
}

// TargetText renders the month-to-date line in lang; it is all sales
// amounts, so a reader who may not see them gets no line.
func (s *Service) TargetText(lang string, m MonthToDate, sh Shown) string {
	if !sh.SaleAmounts {
		return ""
	}
	if m.TargetFen <= 0 {
		return "- " + s.msg.T(lang, "summary.month_no_target", map[string]any{"month": m.Month, "amount": product.FormatFen(m.SalesFen)})
	}
	return "- " + s.msg.T(lang, "summary.month_target", map[string]any{"month": m.Month, "amount": product.FormatFen(m.SalesFen),
		"target": product.FormatFen(m.TargetFen), "rate": fmt.Sprintf("%.1f", float64(m.SalesFen)*100/float64(m.TargetFen))})
}
