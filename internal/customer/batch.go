package customer

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// This file serves bulk writers (the Excel import): the same validation as
// Create, and an insert of many customers that writes the search index in a
// few statements instead of one per customer.

// Validate checks in as a new customer of a, by exactly the rules of Create
// (without an owner_id: the customer belongs to a), and returns the
// customer Create would store, not yet written, or every field problem.
func Validate(a *auth.Actor, in Input) (*Customer, error) { return ValidateWith(a, in, DefaultLists()) }

// ValidateWith is Validate against the given option lists.
func ValidateWith(a *auth.Actor, in Input, lists Lists) (*Customer, error) {
	now := store.Now()
	c := &Customer{Status: DefaultStatus, Tags: []string{}, OwnerID: a.UserID, DepartmentID: a.PrimaryDeptID,
		CreatedBy: a.UserID, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		in.Name = new(string) // so "required" is reported
	}
	if err := apply(c, in, lists); err != nil {
		return nil, err
	}
	return c, nil
}

// AuditFields are the fields the operation log records for c; a create
// entry's changes are audit.Diff(nil, c.AuditFields()).
func (c *Customer) AuditFields() map[string]any { return c.auditFields() }

// InsertBatch writes new customers inside tx and sets each one's ID.
// extra, when not nil, holds each customer's extra searchable fields (its
// contacts' names and phones, as Reindex takes them). The rows go in one
// multi-row INSERT; their search index rows are not written here: the
// customers go on the index queue (search finds them meanwhile by their
// search_text) and IndexPending writes their rows after the import.
func (s *Store) InsertBatch(ctx context.Context, tx *sqlx.Tx, cs []*Customer, extra [][]string) error {
	if len(cs) == 0 {
		return nil
	}
	if err := s.insertRows(ctx, tx, cs); err != nil {
		return err
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		c.Version = 1
		ids[i] = c.ID
		if extra != nil && len(extra[i]) > 0 {
			if _, err := s.setExtra(ctx, tx, c, extra[i]); err != nil {
				return err
			}
		}
	}
	return enqueue(ctx, tx, ids)
}

// insertRows writes cs in one multi-row INSERT and sets their IDs. The IDs
// of one statement's rows are consecutive on SQLite (one writer holds the
// database) and on MySQL in the usual auto-increment lock modes, but MySQL
// does not promise it under innodb_autoinc_lock_mode=2 with concurrent
// inserts. So the rows are read back by the IDs computed, and if any is
// not the one expected, the statement is undone (to a savepoint) and the
// rows are inserted one by one, each ID as the driver reports it.
func (s *Store) insertRows(ctx context.Context, tx *sqlx.Tx, cs []*Customer) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT customer_batch"); err != nil {
		return fmt.Errorf("customer: savepoint: %w", err)
	}
	head, tuple, _ := strings.Cut(insertSQL, "VALUES")
	args := make([]any, 0, len(cs)*20)
	for _, c := range cs {
		args = append(args, insertArgs(c)...)
	}
	res, err := tx.ExecContext(ctx, head+"VALUES"+strings.TrimSuffix(strings.Repeat(tuple+",", len(cs)), ","), args...)
	if err != nil {
		return fmt.Errorf("customer: insert batch: %w", err)
	}
	last, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("customer: insert batch id: %w", err)
	}
	first := last // MySQL reports the statement's first ID, SQLite its last
	if s.db.Dialect == store.SQLite {
		first = last - int64(len(cs)) + 1
	}
	ok, err := s.idsAre(ctx, tx, cs, first)
	if err != nil || ok {
		return err
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT customer_batch"); err != nil {
		return fmt.Errorf("customer: rollback to savepoint: %w", err)
	}
	return s.insertOneByOne(ctx, tx, cs)
}

// idsAre gives cs the IDs first, first+1, … if the rows stored under them
// are cs, in order.
func (s *Store) idsAre(ctx context.Context, tx *sqlx.Tx, cs []*Customer, first int64) (bool, error) {
	var got []struct {
		ID        int64  `db:"id"`
		Name      string `db:"name"`
		Phone     string `db:"phone"`
		Company   string `db:"company"`
		CreatedBy int64  `db:"created_by"`
	}
	err := tx.SelectContext(ctx, &got, `SELECT id, name, phone, company, created_by FROM customers
		WHERE id BETWEEN ? AND ? ORDER BY id`, first, first+int64(len(cs))-1)
	if err != nil {
		return false, fmt.Errorf("customer: read back batch: %w", err)
	}
	if len(got) != len(cs) {
		return false, nil
	}
	for i, c := range cs {
		g := got[i]
		if g.ID != first+int64(i) || g.Name != c.Name || g.Phone != c.Phone || g.Company != c.Company || g.CreatedBy != c.CreatedBy {
			return false, nil
		}
	}
	for i, c := range cs {
		c.ID = first + int64(i)
	}
	return true, nil
}

// insertOneByOne writes cs with one INSERT each.
func (s *Store) insertOneByOne(ctx context.Context, tx *sqlx.Tx, cs []*Customer) error {
	stmt, err := tx.PrepareContext(ctx, insertSQL)
	if err != nil {
		return fmt.Errorf("customer: prepare insert: %w", err)
	}
	defer stmt.Close()
	for _, c := range cs {
		res, err := stmt.ExecContext(ctx, insertArgs(c)...)
		if err != nil {
			return fmt.Errorf("customer: insert: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("customer: insert id: %w", err)
		}
	}
	return nil
}

// setExtra stores a new customer's extra searchable fields and the search
// text that includes them (as rebuild makes it), and returns that text.
func (s *Store) setExtra(ctx context.Context, tx *sqlx.Tx, c *Customer, extra []string) (string, error) {
	ex := extraText(extra)
	text := searchText(c)
	if ex != "" {
		text += fieldSep + ex
	}
	_, err := tx.ExecContext(ctx, "UPDATE customers SET search_extra = ?, search_text = ? WHERE id = ?", ex, text, c.ID)
	if err != nil {
		return "", fmt.Errorf("customer: search extra %d: %w", c.ID, err)
	}
	return text, nil
}

// insertGramsBatch writes the index rows of cs, whose search texts are texts.
func insertGramsBatch(ctx context.Context, tx sqlx.ExecerContext, cs []*Customer, texts []string) error {
	rows := make([]IndexedCustomer, len(cs))
	for i, c := range cs {
		rows[i] = IndexedCustomer{ID: c.ID, OwnerID: c.OwnerID, UpdatedAt: c.UpdatedAt, Live: true, Text: texts[i]}
	}
	return InsertIndexRows(ctx, tx, rows)
}

// keysPerLookup bounds the IN lists of one duplicate lookup.
const keysPerLookup = 500

// DuplicatesAmong returns the live customers whose phone key is one of
// phoneKeys or whose name key is one of nameKeys (keys as PhoneKey and
// NameKey make them; empty ones are ignored), for bulk writers that check
// many rows at once. Match says which key matched (the phone when both).
func (s *Store) DuplicatesAmong(ctx context.Context, x sqlx.QueryerContext, phoneKeys, nameKeys []string) ([]Duplicate, error) {
	out := []Duplicate{}
	for _, lookup := range []struct {
		col, match string
		keys       []string
	}{{"phone_key", MatchPhone, phoneKeys}, {"name_key", MatchName, nameKeys}} {
		keys := nonEmpty(lookup.keys)
		for len(keys) > 0 {
			n := min(keysPerLookup, len(keys))
			var found []Duplicate
			err := sqlx.SelectContext(ctx, x, &found, `SELECT c.id, c.name, c.owner_id, COALESCE(u.name, '') AS owner_name,
				c.department_id, COALESCE(c.phone_key, '') AS phone_key, COALESCE(c.name_key, '') AS name_key
				FROM customers c LEFT JOIN users u ON u.id = c.owner_id
				WHERE c.deleted_at IS NULL AND c.`+lookup.col+` IN (`+store.Placeholders(n)+`)`, anyArgs(keys[:n])...)
			if err != nil {
				return nil, fmt.Errorf("customer: duplicates among keys: %w", err)
			}
			for i := range found {
				found[i].Match = lookup.match
			}
			out = append(out, found...)
			keys = keys[n:]
		}
	}
	return out, nil
}

func nonEmpty(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

func anyArgs(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
