package deal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/store"
)

// Store is the opportunities table with its line items and stage history.
type Store struct {
	db *store.DB
}

// NewStore returns the opportunity store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const selectCols = `SELECT o.id, o.customer_id, COALESCE(c.name, '') AS customer_name, o.title, o.amount_fen,
	o.expected_close_date, o.owner_id, COALESCE(u.name, '') AS owner_name, o.department_id,
	COALESCE(d.name, '') AS department_name, o.stage_id, st.code AS stage_code, st.name AS stage_name,
	st.kind AS stage_kind, o.probability, o.status, o.lost_reason, o.notes, o.closed_at, sa.id AS sale_id,
	o.created_by, COALESCE(cb.name, '') AS created_by_name, o.created_at, o.updated_at, o.version,
	o.deleted_at, du.name AS deleted_by_name
	FROM opportunities o
	JOIN opportunity_stages st ON st.id = o.stage_id
	LEFT JOIN customers c ON c.id = o.customer_id
	LEFT JOIN sales sa ON sa.opportunity_id = o.id
	LEFT JOIN users u ON u.id = o.owner_id
	LEFT JOIN departments d ON d.id = o.department_id
	LEFT JOIN users cb ON cb.id = o.created_by
	LEFT JOIN users du ON du.id = o.deleted_by`

// query is a WHERE clause under construction.
type query struct {
	joins string
	where []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *query) sql() string { return " WHERE " + strings.Join(q.where, " AND ") }

// build turns a validated Filter into SQL, always limited to the Actor's
// data scope and to live (or, for the recycle bin, deleted) rows.
func build(a *auth.Actor, f Filter, deleted bool) *query {
	q := &query{}
	if deleted {
		q.add("o.deleted_at IS NOT NULL")
	} else {
		q.add("o.deleted_at IS NULL")
	}
	cond, args := a.ScopeFilter("o.owner_id", "o.department_id")
	q.add(cond, args...)
	for col, v := range map[string]int64{"o.customer_id": f.CustomerID, "o.owner_id": f.OwnerID,
		"o.department_id": f.DepartmentID, "o.stage_id": f.StageID} {
		if v > 0 {
			q.add(col+" = ?", v)
		}
	}
	if len(f.DepartmentIDs) > 0 {
		q.add("o.department_id IN ("+store.Placeholders(len(f.DepartmentIDs))+")", store.Int64Args(f.DepartmentIDs)...)
	}
	if f.Status != "" {
		q.add("o.status = ?", f.Status)
	}
	if f.CloseFrom != "" {
		q.add("o.expected_close_date >= ?", f.CloseFrom)
	}
	if f.CloseTo != "" {
		q.add("o.expected_close_date <= ?", f.CloseTo)
	}
	if f.Q != "" {
		// The customer's name is matched too; the join is only made then.
		q.joins = " LEFT JOIN customers qc ON qc.id = o.customer_id"
		like := store.Contains(f.Q)
		q.add("(o.title LIKE ? "+store.LikeEscape+" OR qc.name LIKE ? "+store.LikeEscape+")", like, like)
	}
	return q
}

// cardOrder is the order of lists and kanban columns: most recently
// touched first.
const cardOrder = " ORDER BY o.updated_at DESC, o.id DESC"

// List returns one page and the total count.
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter, deleted bool) ([]Opportunity, int, error) {
	q := build(a, f, deleted)
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM opportunities o"+q.joins+q.sql(), q.args...); err != nil {
		return nil, 0, fmt.Errorf("deal: count: %w", err)
	}
	out := []Opportunity{}
	if total == 0 {
		return out, 0, nil
	}
	order := cardOrder
	if deleted {
		order = " ORDER BY o.deleted_at DESC, o.id DESC"
	}
	args := append(q.args, f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, selectCols+q.joins+q.sql()+order+" LIMIT ? OFFSET ?", args...); err != nil {
		return nil, 0, fmt.Errorf("deal: list: %w", err)
	}
	for i := range out {
		out[i].finish()
	}
	return out, total, nil
}

// Get reads one opportunity with its lines in the Actor's scope; deleted
// says which side of the recycle bin to look on.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64, deleted bool) (*Opportunity, error) {
	q := build(a, Filter{}, deleted)
	q.add("o.id = ?", id)
	var o Opportunity
	err := sqlx.GetContext(ctx, x, &o, selectCols+q.sql(), q.args...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("deal: get %d: %w", id, err)
	}
	lines, err := product.ReadLines(ctx, x, product.OpportunityItems, id)
	if err != nil {
		return nil, err
	}
	o.Lines = append([]product.Line{}, lines[id]...)
	o.finish()
	return &o, nil
}

// Insert writes a new opportunity with its lines and sets o.ID.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, o *Opportunity) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO opportunities (customer_id, title, amount_fen, expected_close_date,
		owner_id, department_id, stage_id, probability, status, lost_reason, notes, closed_at, created_by,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		o.CustomerID, o.Title, o.AmountFen, o.ExpectedCloseDate, o.OwnerID, o.DepartmentID, o.StageID,
		o.Probability, o.Status, o.LostReason, o.Notes, o.ClosedAt, o.CreatedBy, o.CreatedAt, o.UpdatedAt)
	if err != nil {
		return fmt.Errorf("deal: insert: %w", err)
	}
	if o.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("deal: insert id: %w", err)
	}
	o.Version = 1
	return product.WriteLines(ctx, tx, product.OpportunityItems, o.ID, o.Lines)
}

// Update writes o if its stored version is still o.Version (and its lines
// when linesChanged); false when someone else saved first.
func (s *Store) Update(ctx context.Context, tx *sqlx.Tx, o *Opportunity, linesChanged bool) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE opportunities SET customer_id = ?, title = ?, amount_fen = ?,
		expected_close_date = ?, owner_id = ?, department_id = ?, stage_id = ?, probability = ?, status = ?,
		lost_reason = ?, notes = ?, closed_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND deleted_at IS NULL`,
		o.CustomerID, o.Title, o.AmountFen, o.ExpectedCloseDate, o.OwnerID, o.DepartmentID, o.StageID,
		o.Probability, o.Status, o.LostReason, o.Notes, o.ClosedAt, o.UpdatedAt, o.ID, o.Version)
	if err != nil {
		return false, fmt.Errorf("deal: update %d: %w", o.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	o.Version++
	if !linesChanged {
		return true, nil
	}
	return true, product.WriteLines(ctx, tx, product.OpportunityItems, o.ID, o.Lines)
}

// SetDeleted moves an opportunity into (deletedBy > 0) or out of the
// recycle bin.
func (s *Store) SetDeleted(ctx context.Context, tx *sqlx.Tx, id int64, deletedBy int64, at time.Time) error {
	var err error
	if deletedBy > 0 {
		_, err = tx.ExecContext(ctx, `UPDATE opportunities SET deleted_at = ?, deleted_by = ?, updated_at = ?,
			version = version + 1 WHERE id = ? AND deleted_at IS NULL`, at, deletedBy, at, id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE opportunities SET deleted_at = NULL, deleted_by = NULL, updated_at = ?,
			version = version + 1 WHERE id = ? AND deleted_at IS NOT NULL`, at, id)
	}
	if err != nil {
		return fmt.Errorf("deal: set deleted %d: %w", id, err)
	}
	return nil
}

// AddHistory records one stage change (from is 0 on creation).
func (s *Store) AddHistory(ctx context.Context, tx *sqlx.Tx, oppID, from, to, by int64, at time.Time) error {
	var fromArg any
	if from > 0 {
		fromArg = from
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO opportunity_stage_history (opportunity_id, from_stage, to_stage,
		changed_by, changed_at) VALUES (?, ?, ?, ?, ?)`, oppID, fromArg, to, by, at)
	if err != nil {
		return fmt.Errorf("deal: stage history %d: %w", oppID, err)
	}
	return nil
}

// History returns one opportunity's stage changes, newest first.
func (s *Store) History(ctx context.Context, oppID int64, page, size int) ([]HistoryItem, int, error) {
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM opportunity_stage_history WHERE opportunity_id = ?", oppID); err != nil {
		return nil, 0, fmt.Errorf("deal: history count: %w", err)
	}
	out := []HistoryItem{}
	err := s.db.SelectContext(ctx, &out, `SELECT h.id, h.from_stage, fs.code AS from_code, fs.name AS from_name,
		h.to_stage, ts.code AS to_code, ts.name AS to_name, h.changed_by, COALESCE(u.name, '') AS changed_by_name,
		h.changed_at
		FROM opportunity_stage_history h
		JOIN opportunity_stages ts ON ts.id = h.to_stage
		LEFT JOIN opportunity_stages fs ON fs.id = h.from_stage
		LEFT JOIN users u ON u.id = h.changed_by
		WHERE h.opportunity_id = ? ORDER BY h.id DESC LIMIT ? OFFSET ?`, oppID, size, (page-1)*size)
	if err != nil {
		return nil, 0, fmt.Errorf("deal: history: %w", err)
	}
	return out, total, nil
}

// Cards reads the first page of a filtered list without counting it (the
// pipeline already has the count from its aggregate).
func (s *Store) Cards(ctx context.Context, a *auth.Actor, f Filter) ([]Opportunity, error) {
	q := build(a, f, false)
	out := []Opportunity{}
	args := append(q.args, f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, selectCols+q.joins+q.sql()+cardOrder+" LIMIT ? OFFSET ?", args...); err != nil {
		return nil, fmt.Errorf("deal: cards: %w", err)
	}
	for i := range out {
		out[i].finish()
	}
	return out, nil
}
