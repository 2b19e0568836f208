package customer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	// rowsOnly turns the posting search off (tests compare the two paths).
	rowsOnly bool
	est      *gramEstimates
	prep     *prepared
}

// NewStore returns the customer store.
func NewStore(db *store.DB) *Store { return &Store{db: db, est: &gramEstimates{}, prep: &prepared{}} }

const selectCols = `SELECT ` + customerCols + ` FROM customers c ` + nameJoins

// customerCols are the columns of a Customer; nameJoins bring the names of
// its owner, department, creator and deleter.
const (
	customerCols = `c.id, c.name, c.phone, c.company, c.address, c.industry, c.source, c.level,
	c.status, c.tags, c.note, c.owner_id, COALESCE(o.name, '') AS owner_name, c.department_id,
	COALESCE(d.name, '') AS department_name, c.next_follow_at, c.last_follow_at, c.created_by,
	COALESCE(cb.name, '') AS created_by_name, c.created_at, c.updated_at, c.version, c.deleted_at,
	du.name AS deleted_by_name`
	nameJoins = `LEFT JOIN users o ON o.id = c.owner_id
	LEFT JOIN departments d ON d.id = c.department_id
	LEFT JOIN users cb ON cb.id = c.created_by
	LEFT JOIN users du ON du.id = c.deleted_by`
)

// query is a WHERE clause under construction. A keyword search adds the
// candidate customers (cand, with its own arguments candArgs): the
// customer IDs the search index yields, read before any customer row.
type query struct {
	joins    []string
	where    []string
	args     []any
	cand     string
	candArgs []any
	// byOwner: the candidates are one owner's (few), see searchByIDs.
	byOwner bool
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
		// A query of one character has no gram: its search is a scan.
		if grams := queryGrams(nq); len(grams) > 0 {
			owner, ok := gramOwner(a, f, deleted)
			q.cand, q.candArgs = candidates(grams, owner, ok)
			q.byOwner = ok
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
	if len(f.DepartmentIDs) > 0 {
		q.add("c.department_id IN ("+store.Placeholders(len(f.DepartmentIDs))+")", store.Int64Args(f.DepartmentIDs)...)
	}
	if f.SegmentCond != "" {
		q.add(f.SegmentCond, f.SegmentArgs...)
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

// from is the FROM clause of q: the customers, or for a keyword search the
// index's candidates first and then their customer rows (the join order is
// forced: the candidates are few, and reading a customer row before all
// grams have been probed is what made broad searches slow).
func (s *Store) from(q *query) string {
	if q.cand == "" {
		return "customers c"
	}
	join := "STRAIGHT_JOIN"
	if s.db.Dialect == store.SQLite {
		join = "CROSS JOIN"
	}
	return "(" + q.cand + ") m " + join + " customers c ON c.id = m.customer_id"
}

// allArgs are q's arguments in the order of its SQL.
func (q *query) allArgs() []any { return append(slices.Clone(q.candArgs), q.args...) }

// List returns one page and the total count.
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter, deleted bool) ([]Customer, int, error) {
	if nq := NormalizeQuery(f.Q); nq != "" {
		if ps, ok := planPostings(a, f, deleted, nq); ok && !s.rowsOnly {
			if grams := queryGrams(nq); len(grams) > 0 {
				return s.searchPostings(ctx, ps, nq, grams, f)
			}
		}
	}
	q := build(a, f, deleted)
	order := orderBy(f.Sort)
	if deleted {
		order = " ORDER BY c.deleted_at DESC, c.id DESC"
	}
	if q.byOwner {
		return s.searchByIDs(ctx, q, f, order)
	}
	if q.cand != "" {
		return s.search(ctx, q, f, order)
	}
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM "+s.from(q)+" "+q.sql(), q.allArgs()...); err != nil {
		return nil, 0, fmt.Errorf("customer: count: %w", err)
	}
	out := []Customer{}
	if total == 0 {
		return out, 0, nil
	}
	sqlText := selectCols + " " + q.sql() + order + " LIMIT ? OFFSET ?"
	args := append(q.allArgs(), f.PageSize, (f.Page-1)*f.PageSize)
	if err := s.db.SelectContext(ctx, &out, sqlText, args...); err != nil {
		return nil, 0, fmt.Errorf("customer: list: %w", err)
	}
	for i := range out {
		out[i].decodeTags()
	}
	return out, total, nil
}

// maxOwnerCandidates bounds the ID list searchByIDs passes back to the
// database; above it the search is one statement (search).
const maxOwnerCandidates = 5000

// searchByIDs answers a search limited to one owner in two short
// statements: the candidate IDs from the index alone (a few index rows of
// that owner, and any customers queued for the index), then the page and
// the count from those customers' rows. Two simple statements cost the
// database less than one that joins the index to the customers (the
// planner's work on the large index dominates a search this small).
func (s *Store) searchByIDs(ctx context.Context, q *query, f Filter, order string) ([]Customer, int, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, q.cand+" LIMIT "+strconv.Itoa(maxOwnerCandidates+1), q.candArgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("customer: search candidates: %w", err)
	}
	if len(ids) > maxOwnerCandidates {
		return s.search(ctx, q, f, order)
	}
	if len(ids) == 0 {
		return []Customer{}, 0, nil
	}
	in := make([]byte, 0, 12*len(ids)+16)
	in = append(in, " AND c.id IN ("...)
	for i, id := range ids {
		if i > 0 {
			in = append(in, ',')
		}
		in = strconv.AppendInt(in, id, 10)
	}
	in = append(in, ')')
	if canSortHere(len(ids), f.Sort) {
		return s.pageHere(ctx, q.sql()+string(in), q.args, f)
	}
	out, total, err := s.readPage(ctx, "customers c "+q.sql()+string(in), q.args, order, f)
	if err != nil || len(out) > 0 {
		return out, total, err
	}
	if f.Page > 1 {
		if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM customers c "+q.sql()+string(in), q.args...); err != nil {
			return nil, 0, fmt.Errorf("customer: count: %w", err)
		}
	}
	return out, total, nil
}

// search answers a keyword search in one statement (readPage) over the
// index's candidates joined to their customers. A page past the end has no
// row to carry the count, so the count is then asked for separately.
func (s *Store) search(ctx context.Context, q *query, f Filter, order string) ([]Customer, int, error) {
	out, total, err := s.readPage(ctx, s.from(q)+" "+q.sql(), q.allArgs(), order, f)
	if err != nil || len(out) > 0 {
		return out, total, err
	}
	if f.Page <= 1 {
		return out, 0, nil
	}
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM "+s.from(q)+" "+q.sql(), q.allArgs()...); err != nil {
		return nil, 0, fmt.Errorf("customer: count: %w", err)
	}
	return out, total, nil
}

// readPage reads one page of the customers that from (a FROM and WHERE
// clause over customers c, with its arguments) selects, and their count.
// The count and the order are worked out on the IDs alone (a window count
// and each row's position), and only the page's rows are read in full,
// without an ORDER BY: sorting or windowing whole rows needs a temporary
// table, and one holding the TEXT columns (note) is an on-disk table on
// MariaDB, milliseconds to create per search. The rows are put in order
// here by their position. A page past the end has no row to carry the
// count: the total is then 0 and the caller asks for it if it matters.
func (s *Store) readPage(ctx context.Context, from string, args []any, order string, f Filter) ([]Customer, int, error) {
	sqlText := "SELECT " + customerCols + ", p.total_rows, p.pos FROM (SELECT c.id, COUNT(*) OVER () AS total_rows, " +
		"ROW_NUMBER() OVER (" + strings.TrimSpace(order) + ") AS pos FROM " + from + order +
		" LIMIT ? OFFSET ?) p JOIN customers c ON c.id = p.id " + nameJoins
	return s.pageRows(ctx, sqlText, append(slices.Clone(args), f.PageSize, (f.Page-1)*f.PageSize))
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
	return s.writeGrams(ctx, tx, IndexedCustomer{ID: c.ID, OwnerID: c.OwnerID, UpdatedAt: c.UpdatedAt, Live: true,
		Text: searchText(c)}, false)
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
	return true, nil // the index rows follow owner and time by trigger
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

// writeGrams writes a customer's search-index rows, with replace first
// removing the ones it has. A replacement also takes the customer off the
// index queue: it is indexed.
func (s *Store) writeGrams(ctx context.Context, tx sqlx.ExecerContext, c IndexedCustomer, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, "DELETE FROM customer_grams WHERE customer_id = ?", c.ID); err != nil {
			return fmt.Errorf("customer: clear index %d: %w", c.ID, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM customer_index_queue WHERE customer_id = ?", c.ID); err != nil {
			return fmt.Errorf("customer: dequeue %d: %w", c.ID, err)
		}
	}
	return InsertIndexRows(ctx, tx, []IndexedCustomer{c})
}

// SearchText exposes the stored search text of a customer with these
// fields (for bulk loaders that write rows directly).
func SearchText(name, company, phone string) string {
	return searchText(&Customer{Name: name, Company: company, Phone: phone})
}
