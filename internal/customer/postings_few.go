package customer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// fewPostings answers a one-owner search whose matches are few (at most
// maxSortedHere) in two short statements: the matching postings' ids and
// update times (one table, no temporary table: a statement joining the
// 30-million-row index to the customers costs MariaDB more to plan than
// both of these to run), sorted and paged here, then the page's customer
// rows. It reports false, having done nothing else, when there are more
// matches or customers wait on the index queue (windowPostings then
// answers); the queue is nearly always empty, so its ids come along in the
// first statement instead of costing one of their own.
func (s *Store) fewPostings(ctx context.Context, ps postingScope, g int64, nq string, f Filter) ([]Customer, int, bool, error) {
	var ms []struct {
		ID        int64      `db:"id"`
		UpdatedAt *time.Time `db:"updated_at"` // NULL: a queued customer
	}
	err := s.db.SelectContext(ctx, &ms, "SELECT g.customer_id AS id, g.updated_at FROM customer_grams g WHERE g.gram = "+
		strconv.FormatInt(g, 10)+" AND "+ps.on("g.owner_id")+" AND g.live = 1 AND INSTR(g.field_text, ?) > 0"+
		" UNION ALL SELECT customer_id, NULL FROM customer_index_queue LIMIT "+strconv.Itoa(maxSortedHere+1), nq)
	if err != nil {
		return nil, 0, false, fmt.Errorf("customer: search postings: %w", err)
	}
	if len(ms) > maxSortedHere || slices.ContainsFunc(ms, func(m struct {
		ID        int64      `db:"id"`
		UpdatedAt *time.Time `db:"updated_at"`
	}) bool {
		return m.UpdatedAt == nil
	}) {
		return nil, 0, false, nil
	}
	cs := make([]Customer, len(ms))
	for i, m := range ms {
		cs[i] = Customer{ID: m.ID, UpdatedAt: *m.UpdatedAt}
	}
	sortHere(cs, f.Sort)
	from := min(len(cs), (f.Page-1)*f.PageSize)
	page := cs[from:min(len(cs), from+f.PageSize)]
	out, err := s.readByIDs(ctx, page)
	return out, len(cs), true, err
}

// bareCols are customerCols without the joins for the names, which
// readByIDs fills in from one lookup of the few people and departments of
// a page: on MariaDB four LEFT JOINs cost a page read more than twice
// what the customer rows themselves do.
const bareCols = `c.id, c.name, c.phone, c.company, c.address, c.industry, c.source, c.level,
	c.status, c.tags, c.note, c.owner_id, '' AS owner_name, c.department_id, '' AS department_name,
	c.next_follow_at, c.last_follow_at, c.created_by, '' AS created_by_name, c.created_at, c.updated_at,
	c.version, c.deleted_at, NULL AS deleted_by_name, c.deleted_by`

// readByIDs reads the customers of ids (only their ID is used), in that
// order, with the names their joins would give.
func (s *Store) readByIDs(ctx context.Context, ids []Customer) ([]Customer, error) {
	out := make([]Customer, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	pos := make(map[int64]int, len(ids))
	list := make([]int64, len(ids))
	for i, c := range ids {
		pos[c.ID], list[i] = i, c.ID
	}
	var rows []struct {
		Customer
		DeletedBy *int64 `db:"deleted_by"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT "+bareCols+" FROM customers c WHERE c.id IN ("+intList(list)+")"); err != nil {
		return nil, fmt.Errorf("customer: search page: %w", err)
	}
	slices.SortFunc(rows, func(a, b struct {
		Customer
		DeletedBy *int64 `db:"deleted_by"`
	}) int {
		return pos[a.ID] - pos[b.ID]
	})
	var people, depts []int64
	for _, r := range rows {
		people = append(people, r.OwnerID, r.CreatedBy)
		if r.DeletedBy != nil {
			people = append(people, *r.DeletedBy)
		}
		depts = append(depts, r.DepartmentID)
	}
	users, departments, err := s.names(ctx, people, depts)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		c := r.Customer
		c.OwnerName, c.CreatedByName, c.DepartmentName = users[c.OwnerID], users[c.CreatedBy], departments[c.DepartmentID]
		if r.DeletedBy != nil {
			name := users[*r.DeletedBy]
			c.DeletedByName = &name
		}
		c.decodeTags()
		out = append(out, c)
	}
	return out, nil
}

// names looks up the names of these people and departments in one
// statement; a missing one has no entry (an empty name, as the joins'
// COALESCE gives).
func (s *Store) names(ctx context.Context, people, depts []int64) (map[int64]string, map[int64]string, error) {
	users, departments := map[int64]string{}, map[int64]string{}
	if len(people) == 0 {
		return users, departments, nil
	}
	var rows []struct {
		Kind int    `db:"kind"`
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	err := s.db.SelectContext(ctx, &rows, "SELECT 0 AS kind, id, name FROM users WHERE id IN ("+intList(people)+
		") UNION ALL SELECT 1, id, name FROM departments WHERE id IN ("+intList(depts)+")")
	if err != nil {
		return nil, nil, fmt.Errorf("customer: names: %w", err)
	}
	for _, r := range rows {
		if r.Kind == 0 {
			users[r.ID] = r.Name
		} else {
			departments[r.ID] = r.Name
		}
	}
	return users, departments, nil
}

// intList spells out integers for an IN list.
func intList(ids []int64) string {
	b := make([]byte, 0, 12*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}
