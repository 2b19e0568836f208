package customer

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// A customer is also found by the text of its records (its contacts' names
// and phone digits): those fields are kept in customers.search_extra and
// appended to search_text after the customer's own fields, each behind the
// same separator, so search stays a plain substring test on search_text.

// Reindex replaces the customer's extra searchable fields with extra and
// rebuilds search_text and its index rows, inside the caller's transaction.
// Callers pass the complete list every time (e.g. every live contact's name
// and phone digits), never a difference.
func (s *Store) Reindex(ctx context.Context, tx *sqlx.Tx, customerID int64, extra []string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET search_extra = ? WHERE id = ?",
		extraText(extra), customerID); err != nil {
		return fmt.Errorf("customer: set search extra %d: %w", customerID, err)
	}
	return s.rebuild(ctx, tx, customerID)
}

// rebuild recomputes search_text and the index rows from the stored row.
// Callers have just updated that row in tx, so on MySQL the read sees their
// own row version, made from the newest committed one: a concurrent edit of
// the customer and of its contacts cannot leave a stale search text behind.
func (s *Store) rebuild(ctx context.Context, tx *sqlx.Tx, id int64) error {
	var r struct {
		Name      string     `db:"name"`
		Company   string     `db:"company"`
		Phone     string     `db:"phone"`
		Extra     string     `db:"search_extra"`
		OwnerID   int64      `db:"owner_id"`
		UpdatedAt time.Time  `db:"updated_at"`
		DeletedAt *time.Time `db:"deleted_at"`
	}
	err := tx.GetContext(ctx, &r, `SELECT name, company, phone, search_extra, owner_id, updated_at, deleted_at
		FROM customers WHERE id = ?`, id)
	if store.IsNoRows(err) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("customer: read for index %d: %w", id, err)
	}
	text := searchText(&Customer{Name: r.Name, Company: r.Company, Phone: r.Phone})
	if r.Extra != "" {
		text += fieldSep + r.Extra
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET search_text = ? WHERE id = ?", text, id); err != nil {
		return fmt.Errorf("customer: set search text %d: %w", id, err)
	}
	return s.writeGrams(ctx, tx, IndexedCustomer{ID: id, OwnerID: r.OwnerID, UpdatedAt: r.UpdatedAt,
		Live: r.DeletedAt == nil, Text: text}, true)
}

// extraText is the stored form of the extra fields: each lower-cased, without
// control characters (so none can carry the separator), blanks dropped,
// joined by the field separator.
func extraText(extra []string) string {
	out := make([]string, 0, len(extra))
	for _, e := range extra {
		e = strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, strings.ToLower(e)))
		if e != "" {
			out = append(out, e)
		}
	}
	return strings.Join(out, fieldSep)
}
