package customer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// Store is the customers table and its search index. Methods take an
// sqlx.ExtContext so they run on the DB or inside a service's transaction.
type Store struct {
	db *store.DB
}

// NewStore returns the customer store.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const selectCols = `SELECT c.id, c.name, c.phone, c.company, c.address, c.industry, c.source, c.level,
	c.status, c.tags, c.note, c.owner_id, COALESCE(o.name, '') AS owner_name, c.department_id,
	COALESCE(d.name, '') AS department_name, c.next_follow_at, c.last_follow_at, c.created_by,
	COALESCE(cb.name, '') AS created_by_name, c.created_at, c.updated_at, c.version, c.deleted_at,
	du.name AS deleted_by_name
	FROM customers c
	LEFT JOIN users o ON o.id = c.owner_id
	LEFT JOIN departments d ON d.id = c.department_id
	LEFT JOIN users cb ON cb.id = c.created_by
	LEFT JOIN users du ON du.id = c.deleted_by`

// query is a WHERE clause under construction.
type query struct {
	joins []string
	where []string
	args  []any
}

func (q *query) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *query) sql() string {
	return strings.Join(q.joins, " ") + " WHERE " + strings.Join(q.where, " AND ")
}

// build turns a validated Filter into SQL, always limited to the Actor's
// data scope and to live (or, for the recycle bin, deleted) rows.
func build(a *auth.Actor, f Filter, deleted bool) *query {
	q := &query{}
	if deleted {
		q.add("c.deleted_at IS NOT NULL")
	} else {
		q.add("c.deleted_at IS NULL")
	}
	if f.Pool {
		// The public pool (公海) belongs to nobody, so no data scope applies:
		// the pool service lets whoever may view the pool see all of it.
		q.add("c.owner_id = 0")
	} else {
		cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
		q.add(cond, args...)
		q.add("c.owner_id > 0") // pool customers only through the explicit Pool filter
	}
	if nq := NormalizeQuery(f.Q); nq != "" {
		grams := queryGrams(nq)
		for i, g := range grams {
			alias := fmt.Sprintf("g%d", i)
			q.joins = append(q.joins, fmt.Sprintf("JOIN customer_grams %s ON %s.customer_id = c.id AND %s.gram = %d", alias, alias, alias, g))
		}
		q.add("INSTR(c.search_text, ?) > 0", nq)
		if allDigits([]rune(nq)) && !searchesPhones(a) {
			// Phone digits are indexed too; a person who may not see phones
			// must not find a customer by one, so digits must then match the
			// name or company.
			q.add("(INSTR(LOWER(c.name), ?) > 0 OR INSTR(LOWER(c.company), ?) > 0)", nq, nq)
		}
	}
	eq := map[string]any{"c.owner_id": f.OwnerID, "c.department_id": f.DepartmentID}
	for col, v := range eq {
		if v.(int64) > 0 {
			q.add(col+" = ?", v)
		}
	}
	for col, v := range map[string]string{"c.level": f.Level, "c.status": f.Status, "c.source": f.Source, "c.industry": f.Industry} {
		if v != "" {
			q.add(col+" = ?", v)
		}
	}
	if f.Tag != "" {
		q.add("c.tags LIKE ? "+store.LikeEscape, `%"`+store.EscapeLike(f.Tag)+`"%`)
	}
	ranges := []struct {
		col   string
		op    string
		value *time.Time
	}{
		{"c.created_at", ">=", f.CreatedFrom}, {"c.created_at", "<", f.CreatedTo},
		{"c.next_follow_at", ">=", f.NextFollowFrom}, {"c.next_follow_at", "<", f.NextFollowTo},
	}
	for _, r := range ranges {
		if r.value != nil {
			q.add(r.col+" "+r.op+" ?", r.value.UTC())
		}
	}
	return q
}

func orderBy(sort string) string {
	dir := "ASC"
	if strings.HasPrefix(sort, "-") {
		dir = "DESC"
	}
	return " ORDER BY " + SortFields[strings.TrimPrefix(sort, "-")] + " " + dir + ", c.id " + dir
}

// List returns one page and the total count.
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter, deleted bool) ([]Customer, int, error) {
	q := build(a, f, deleted)
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM customers c "+q.sql(), q.args...); err != nil {
		return nil, 0, fmt.Errorf("customer: count: %w", err)
	}
	order := orderBy(f.Sort)
	if deleted {
		order = " ORDER BY c.deleted_at DESC, c.id DESC"
	}
	out := []Customer{}
	if total == 0 {
		return out, 0, nil
	}
	sqlText := selectCols + " " + q.sql() + order + " LIMIT ? OFFSET ?"
	args := append(q.args, f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, sqlText, args...); err != nil {
		return nil, 0, fmt.Errorf("customer: list: %w", err)
	}
	for i := range out {
		out[i].decodeTags()
	}
	return out, total, nil
}

// Get reads one customer in the Actor's scope; deleted says which side of
// the recycle bin to look on. Not found or out of scope: ErrNotFound.
func (s *Store) Get(ctx context.Context, x sqlx.QueryerContext, a *auth.Actor, id int64, deleted bool) (*Customer, error) {
	q := build(a, Filter{}, deleted)
	q.add("c.id = ?", id)
	var c Customer
	err := sqlx.GetContext(ctx, x, &c, selectCols+" "+q.sql(), q.args...)
	if store.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("customer: get %d: %w", id, err)
	}
	c.decodeTags()
	return &c, nil
}

// insertSQL and insertArgs write one customer row; Insert and InsertBatch
// share them so a new column cannot reach one and miss the other.
const insertSQL = `INSERT INTO customers (name, phone, company, address, industry, source,
	level, status, tags, note, owner_id, department_id, next_follow_at, last_follow_at, created_by,
	created_at, updated_at, version, search_text, phone_key, name_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`

func insertArgs(c *Customer) []any {
	return []any{c.Name, c.Phone, c.Company, c.Address, c.Industry, c.Source, c.Level, c.Status, encodeTags(c.Tags),
		c.Note, c.OwnerID, c.DepartmentID, c.NextFollowAt, c.LastFollowAt, c.CreatedBy, c.CreatedAt,
		c.UpdatedAt, searchText(c), keyArg(PhoneKey(c.Phone)), keyArg(NameKey(c.Name, c.Company))}
}

// Insert writes a new customer and its search index; it sets c.ID.
func (s *Store) Insert(ctx context.Context, tx *sqlx.Tx, c *Customer) error {
	res, err := tx.ExecContext(ctx, insertSQL, insertArgs(c)...)
	if err != nil {
		return fmt.Errorf("customer: insert: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("customer: insert id: %w", err)
	}
	c.Version = 1
	return s.writeGrams(ctx, tx, c.ID, searchText(c), false)
}

// Update writes c if its stored version is still c.Version and bumps the
// version; it reports false when someone else saved first. With reindex the
// search text is rebuilt from the saved row, keeping its contacts' fields.
func (s *Store) Update(ctx context.Context, tx *sqlx.Tx, c *Customer, reindex bool) (bool, error) {
	// owner_since (the pool's reclaim clock) restarts when the owner changes;
	// it is assigned first so both engines compare against the old owner_id
	// (MySQL applies SET assignments left to right).
	res, err := tx.ExecContext(ctx, `UPDATE customers SET
		owner_since = CASE WHEN owner_id <> ? THEN ? ELSE owner_since END,
		name = ?, phone = ?, company = ?, address = ?,
		industry = ?, source = ?, level = ?, status = ?, tags = ?, note = ?, owner_id = ?, department_id = ?,
		next_follow_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND deleted_at IS NULL`,
		c.OwnerID, c.UpdatedAt, c.Name, c.Phone, c.Company, c.Address, c.Industry, c.Source, c.Level, c.Status, encodeTags(c.Tags),
		c.Note, c.OwnerID, c.DepartmentID, c.NextFollowAt, c.UpdatedAt, c.ID, c.Version)
	if err != nil {
		return false, fmt.Errorf("customer: update %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	c.Version++
	if reindex {
		return true, s.rebuild(ctx, tx, c.ID)
	}
	return true, nil
}

// SetDeleted moves a customer into (deletedBy > 0) or out of the recycle bin.
func (s *Store) SetDeleted(ctx context.Context, tx *sqlx.Tx, id int64, deletedBy int64, at time.Time) error {
	var err error
	if deletedBy > 0 {
		// A customer in the recycle bin gives up its duplicate keys (a restore
		// takes them back, see Service.Restore).
		_, err = tx.ExecContext(ctx, `UPDATE customers SET deleted_at = ?, deleted_by = ?, updated_at = ?,
			version = version + 1, phone_key = NULL, name_key = NULL WHERE id = ? AND deleted_at IS NULL`, at, deletedBy, at, id)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE customers SET deleted_at = NULL, deleted_by = NULL, updated_at = ?,
			version = version + 1 WHERE id = ? AND deleted_at IS NOT NULL`, at, id)
	}
	if err != nil {
		return fmt.Errorf("customer: set deleted %d: %w", id, err)
	}
	return nil
}

// writeGrams replaces a customer's search-index rows in batches.
func (s *Store) writeGrams(ctx context.Context, tx sqlx.ExecerContext, id int64, text string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, "DELETE FROM customer_grams WHERE customer_id = ?", id); err != nil {
			return fmt.Errorf("customer: clear index %d: %w", id, err)
		}
	}
	return InsertGrams(ctx, tx, id, text)
}

// InsertGrams writes the index rows for one customer's search text. The
// bulk loader of the benchmark uses it too, so both index the same way.
func InsertGrams(ctx context.Context, tx sqlx.ExecerContext, id int64, text string) error {
	grams := textGrams(text)
	const batch = 200
	for len(grams) > 0 {
		n := min(batch, len(grams))
		args := make([]any, 0, 2*n)
		for _, g := range grams[:n] {
			args = append(args, g, id)
		}
		sqlText := "INSERT INTO customer_grams (gram, customer_id) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ")
		if _, err := tx.ExecContext(ctx, sqlText, args...); err != nil {
			return fmt.Errorf("customer: index %d: %w", id, err)
		}
		grams = grams[n:]
	}
	return nil
}

// SearchText exposes the stored search text of a customer with these
// fields (for bulk loaders that write rows directly).
func SearchText(name, company, phone string) string {
	return searchText(&Customer{Name: name, Company: company, Phone: phone})
}
