package followup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// Store is the followups table and the follow-up times of customers.
type Store struct {
	db *store.DB
}

// NewStore returns the follow-up store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const selectCols = `SELECT f.id, f.customer_id, c.name AS customer_name, f.opportunity_id, f.owner_id,
	COALESCE(o.name, '') AS owner_name, f.department_id, f.followed_at, f.method, f.content, f.result,
	f.next_step, f.next_follow_at, f.created_by, f.created_at, f.updated_at, f.version
	FROM followups f
	JOIN customers c ON c.id = f.customer_id
	LEFT JOIN users o ON o.id = f.owner_id`

const fromJoin = " FROM followups f JOIN customers c ON c.id = f.customer_id"

// scoped is the WHERE clause every read starts from. A follow-up is
// visible when its customer is (the JOIN, which cannot go stale when the
// customer is handed on) or when it is in the Actor's scope by its own
// author and department: a salesperson keeps seeing what they logged.
// Follow-ups of a customer in the recycle bin are hidden with it.
func scoped(a *auth.Actor) ([]string, []any) {
	custCond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	ownCond, ownArgs := a.ScopeFilter("f.owner_id", "f.department_id")
	return []string{"f.deleted_at IS NULL", "c.deleted_at IS NULL", "(" + custCond + " OR " + ownCond + ")"},
		append(args, ownArgs...)
}

// Get reads one visible follow-up; not found or out of scope: ErrNotFound.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*Followup, error) {
	where, args := scoped(a)
	var f Followup
	err := sqlx.GetContext(ctx, x, &f, selectCols+" WHERE "+strings.Join(where, " AND ")+" AND f.id = ?",
		append(args, id)...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("followup: get %d: %w", id, err)
	}
	return &f, nil
}

// CustomerOf returns the customer of a live follow-up, unscoped: the
// service needs it before its transaction to know which customer to lock,
// and answers nothing from it until the scoped read.
func (s *Store) CustomerOf(ctx context.Context, id int64) (int64, error) {
	var cid int64
	err := s.db.GetContext(ctx, &cid, "SELECT customer_id FROM followups WHERE id = ? AND deleted_at IS NULL", id)
	if store.IsNoRows(err) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("followup: customer of %d: %w", id, err)
	}
	return cid, nil
}

// Insert writes a new follow-up; it sets f.ID and f.Version.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, f *Followup) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO followups (customer_id, opportunity_id, owner_id, department_id,
		followed_at, method, content, result, next_step, next_follow_at, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		f.CustomerID, f.OpportunityID, f.OwnerID, f.DepartmentID, f.FollowedAt, f.Method, f.Content, f.Result,
		f.NextStep, f.NextFollowAt, f.CreatedBy, f.CreatedAt, f.UpdatedAt)
	if err != nil {
		return fmt.Errorf("followup: insert: %w", err)
	}
	if f.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("followup: insert id: %w", err)
	}
	f.Version = 1
	return nil
}

// Update writes f if its stored version is still f.Version and bumps the
// version; it reports false when someone else saved first.
func (s *Store) Update(ctx context.Context, tx *sqlx.Tx, f *Followup) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE followups SET opportunity_id = ?, followed_at = ?, method = ?,
		content = ?, result = ?, next_step = ?, next_follow_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND deleted_at IS NULL`,
		f.OpportunityID, f.FollowedAt, f.Method, f.Content, f.Result, f.NextStep, f.NextFollowAt, f.UpdatedAt,
		f.ID, f.Version)
	if err != nil {
		return false, fmt.Errorf("followup: update %d: %w", f.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	f.Version++
	return true, nil
}

// SetDeleted moves a follow-up to the recycle bin (soft delete).
func (s *Store) SetDeleted(ctx context.Context, tx *sqlx.Tx, id, deletedBy int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE followups SET deleted_at = ?, deleted_by = ?, updated_at = ?,
		version = version + 1 WHERE id = ? AND deleted_at IS NULL`, at, deletedBy, at, id)
	if err != nil {
		return fmt.Errorf("followup: delete %d: %w", id, err)
	}
	return nil
}
