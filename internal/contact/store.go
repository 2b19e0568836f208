package contact

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// Store is the contacts table. Methods take an sqlx interface so they run
// on the DB or inside a service's transaction.
type Store struct {
	db *store.DB
}

// NewStore returns the contact store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// A contact is visible exactly when its customer is: every read joins the
// customer and filters by the customer's owner and department, so a
// reassigned customer takes its contacts along.
const selectCols = `SELECT ct.id, ct.customer_id, c.name AS customer_name, ct.name, ct.title, ct.phones,
	ct.email, ct.wechat, ct.birthday, ct.notes, ct.is_primary, ct.created_by,
	COALESCE(cb.name, '') AS created_by_name, ct.created_at, ct.updated_at, ct.version
	FROM contacts ct
	JOIN customers c ON c.id = ct.customer_id
	LEFT JOIN users cb ON cb.id = ct.created_by`

// scoped is the WHERE clause every read starts from.
func scoped(a *auth.Actor) ([]string, []any) {
	cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	return []string{"ct.deleted_at IS NULL", "c.deleted_at IS NULL", cond}, args
}

// List returns one page of visible contacts and the total count: one
// customer's with the primary first, or everyone's newest first.
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter) ([]Contact, int, error) {
	where, args := scoped(a)
	order := " ORDER BY ct.id DESC"
	if f.CustomerID > 0 {
		where = append(where, "ct.customer_id = ?")
		args = append(args, f.CustomerID)
		order = " ORDER BY ct.is_primary DESC, ct.id ASC"
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(q) + "%"
		// A field the person may not see in full is not searched either:
		// a hit would reveal what the mask hides.
		conds := []string{"ct.name LIKE ? ESCAPE '!'", "ct.title LIKE ? ESCAPE '!'"}
		for col, field := range map[string]string{"ct.phones": FieldPhone, "ct.email": FieldEmail, "ct.wechat": FieldWeChat} {
			if a == nil || a.Fields.Visible(field) {
				conds = append(conds, col+" LIKE ? ESCAPE '!'")
			}
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
		for range conds {
			args = append(args, like)
		}
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM contacts ct JOIN customers c ON c.id = ct.customer_id"+cond, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("contact: count: %w", err)
	}
	out := []Contact{}
	if total == 0 {
		return out, 0, nil
	}
	args = append(args, f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, selectCols+cond+order+" LIMIT ? OFFSET ?", args...); err != nil {
		return nil, 0, fmt.Errorf("contact: list: %w", err)
	}
	for i := range out {
		out[i].decodePhones()
	}
	return out, total, nil
}

// Get reads one visible contact; not found or out of scope: ErrNotFound.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64) (*Contact, error) {
	where, args := scoped(a)
	where = append(where, "ct.id = ?")
	var c Contact
	err := sqlx.GetContext(ctx, x, &c, selectCols+" WHERE "+strings.Join(where, " AND "), append(args, id)...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("contact: get %d: %w", id, err)
	}
	c.decodePhones()
	return &c, nil
}

// CustomerOf returns the customer of a live contact, unscoped: the service
// needs it before its transaction to know which customer to lock, and
// answers nothing from it until the scoped read.
func (s *Store) CustomerOf(ctx context.Context, id int64) (int64, error) {
	var cid int64
	err := s.db.GetContext(ctx, &cid, "SELECT customer_id FROM contacts WHERE id = ? AND deleted_at IS NULL", id)
	if store.IsNoRows(err) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("contact: customer of %d: %w", id, err)
	}
	return cid, nil
}

// Live returns a customer's live contacts, oldest first.
func (s *Store) Live(ctx context.Context, tx *sqlx.Tx, customerID int64) ([]Contact, error) {
	var out []Contact
	err := tx.SelectContext(ctx, &out, `SELECT id, customer_id, name, phones, is_primary, version
		FROM contacts WHERE customer_id = ? AND deleted_at IS NULL ORDER BY id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("contact: live contacts of %d: %w", customerID, err)
	}
	for i := range out {
		out[i].decodePhones()
	}
	return out, nil
}

// Insert writes a new contact; it sets c.ID and c.Version.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, c *Contact) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO contacts (customer_id, name, title, phones, email, wechat,
		birthday, notes, is_primary, created_by, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		c.CustomerID, c.Name, c.Title, encodePhones(c.Phones), c.Email, c.WeChat, c.Birthday, c.Notes,
		c.IsPrimary, c.CreatedBy, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return mapUnique(fmt.Errorf("contact: insert: %w", err))
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("contact: insert id: %w", err)
	}
	c.Version = 1
	return nil
}

// Update writes c if its stored version is still c.Version and bumps the
// version; it reports false when someone else saved first.
func (s *Store) Update(ctx context.Context, tx *sqlx.Tx, c *Contact) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ?, title = ?, phones = ?, email = ?, wechat = ?,
		birthday = ?, notes = ?, is_primary = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND deleted_at IS NULL`,
		c.Name, c.Title, encodePhones(c.Phones), c.Email, c.WeChat, c.Birthday, c.Notes, c.IsPrimary,
		c.UpdatedAt, c.ID, c.Version)
	if err != nil {
		return false, mapUnique(fmt.Errorf("contact: update %d: %w", c.ID, err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	c.Version++
	return true, nil
}

// SetPrimary sets or clears one live contact's primary flag, bumping its
// version (the flag shows on the contact's page).
func (s *Store) SetPrimary(ctx context.Context, tx *sqlx.Tx, id int64, primary bool, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE contacts SET is_primary = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND deleted_at IS NULL`, primary, at, id)
	if err != nil {
		return mapUnique(fmt.Errorf("contact: set primary %d: %w", id, err))
	}
	return nil
}

// SetDeleted moves a contact to the recycle bin (soft delete). Its primary
// flag stays as it was; the one-primary rule counts live contacts only.
func (s *Store) SetDeleted(ctx context.Context, tx *sqlx.Tx, id, deletedBy int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE contacts SET deleted_at = ?, deleted_by = ?, updated_at = ?,
		version = version + 1 WHERE id = ? AND deleted_at IS NULL`, at, deletedBy, at, id)
	if err != nil {
		return fmt.Errorf("contact: delete %d: %w", id, err)
	}
	return nil
}

// escapeLike escapes LIKE metacharacters with '!', which reads the same in
// MySQL and SQLite string literals (a backslash does not: MySQL takes '\'
// as an escaped quote).
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// mapUnique turns the one-primary-per-customer key into a conflict; with
// the customer locked it cannot fire, but a duplicate is never a 500.
func mapUnique(err error) error {
	if store.IsUniqueViolation(err) {
		return ErrConcurrent
	}
	return err
}
