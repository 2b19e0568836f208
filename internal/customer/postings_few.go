package customer

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/jmoiron/sqlx"
)

// fewPostings answers a one-owner search whose matches are few (at most
// maxSortedHere) in one statement: the matching postings joined to their
// customer rows, sorted and paged here. It reports false, having done
// nothing else, when there are more matches or customers wait on the index
// queue (windowPostings then answers); the queue is nearly always empty,
// and whether it is comes along in the same statement (or, when nothing
// matched, in the cheapest one there is). On MariaDB each statement of a
// search costs ~0.2 ms before it reads anything when its caches are cold
// (as they are after other work), so one statement with the name joins
// beats a plain one followed by a lookup of the names.
func (s *Store) fewPostings(ctx context.Context, ps postingScope, g int64, nq string, f Filter) ([]Customer, int, bool, error) {
	var rows []struct {
		Customer
		Queued bool `db:"queued"`
	}
	stmt, err := s.fewStmt(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	err = stmt.SelectContext(ctx, &rows, g, ps.owner, nq)
	if err != nil {
		return nil, 0, false, fmt.Errorf("customer: search postings: %w", err)
	}
	if len(rows) > maxSortedHere || len(rows) > 0 && rows[0].Queued {
		return nil, 0, false, nil
	}
	if len(rows) == 0 {
		var queued bool
		if err := s.db.GetContext(ctx, &queued, "SELECT EXISTS (SELECT 1 FROM customer_index_queue)"); err != nil {
			return nil, 0, false, fmt.Errorf("customer: index queue: %w", err)
		}
		return []Customer{}, 0, !queued, nil
	}
	cs := make([]Customer, len(rows))
	for i := range rows {
		cs[i] = rows[i].Customer
	}
	sortHere(cs, f.Sort)
	from := min(len(cs), (f.Page-1)*f.PageSize)
	out := cs[from:min(len(cs), from+f.PageSize)]
	for i := range out {
		out[i].decodeTags()
	}
	return out, len(cs), true, nil
}

// fewSQL is fewPostings' statement, prepared once per store: it runs on
// every search of a salesperson, and a prepared statement spares the
// server its parsing and the client the text protocol's conversions.
var fewSQL = "SELECT " + customerCols + ", EXISTS (SELECT 1 FROM customer_index_queue) AS queued" +
	" FROM customer_grams g JOIN customers c ON c.id = g.customer_id " + nameJoins +
	" WHERE g.gram = ? AND g.owner_id = ? AND g.live = 1 AND INSTR(g.field_text, ?) > 0 LIMIT " +
	strconv.Itoa(maxSortedHere+1)

type prepared struct {
	mu  sync.Mutex
	few *sqlx.Stmt
}

// fewStmt prepares fewSQL on first use (again after a failure).
func (s *Store) fewStmt(ctx context.Context) (*sqlx.Stmt, error) {
	s.prep.mu.Lock()
	defer s.prep.mu.Unlock()
	if s.prep.few == nil {
		stmt, err := s.db.PreparexContext(ctx, fewSQL)
		if err != nil {
			return nil, fmt.Errorf("customer: prepare search: %w", err)
		}
		s.prep.few = stmt
	}
	return s.prep.few, nil
}
