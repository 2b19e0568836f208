package customer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// A search answered from the postings (see postings.go) reads the index
// rows of one of the query's grams — the one with the fewest rows, by the
// database's estimate — keeps those whose field_text holds the query, and counts
// and orders them by the updated_at they carry. Only the page's customer
// rows are read. It serves the company-wide scope and one owner's (a
// salesperson, the pool, an owner filter), sorted by update time (the
// list's default), with no other filter; anything else (a department
// scope, filters on customer columns, other sorts, the recycle bin) takes
// the candidate path of store.go.

// postingScope is the owner condition of a posting search: the same rows
// the Actor's data scope and the filter allow.
type postingScope struct {
	ownerOp string // "= 0", "> 0" or "= <id>" (an integer, spelled out)
	owner   int64  // the one owner, unless ownerOp is "> 0"
}

func (p postingScope) on(col string) string { return col + " " + p.ownerOp }

// planPostings says whether a search can be answered from the postings,
// and in which owner scope. Every Filter field that narrows the rows must
// send the search to the candidate path here: the postings know only the
// owner, the update time and whether the customer is live.
func planPostings(a *auth.Actor, f Filter, deleted bool, nq string) (postingScope, bool) {
	plain := f.DepartmentID == 0 && len(f.DepartmentIDs) == 0 && f.Level == "" && f.Status == "" &&
		f.Source == "" && f.Industry == "" && f.Tag == "" && f.CreatedFrom == nil && f.CreatedTo == nil &&
		f.NextFollowFrom == nil && f.NextFollowTo == nil && f.SegmentCond == ""
	if deleted || !plain || strings.TrimPrefix(f.Sort, "-") != "updated_at" {
		return postingScope{}, false
	}
	if allDigits([]rune(nq)) && !searchesPhones(a) {
		return postingScope{}, false // digits must then match a name or company: the rows decide
	}
	owner := func(id int64) postingScope { return postingScope{ownerOp: "= " + strconv.FormatInt(id, 10), owner: id} }
	switch {
	case f.Pool:
		return postingScope{ownerOp: "= 0"}, true
	case a == nil:
		return postingScope{}, false
	case a.Scope == auth.ScopeAll && f.OwnerID > 0:
		return owner(f.OwnerID), true
	case a.Scope == auth.ScopeAll:
		return postingScope{ownerOp: "> 0"}, true
	}
	// Every other scope limited to the Actor's own customers (as
	// Actor.ScopeFilter spells it) is one owner's; a department scope is not.
	if (a.Scope == auth.ScopeDept || a.Scope == auth.ScopeDeptTree) && len(a.ScopeDeptIDs) > 0 {
		return postingScope{}, false
	}
	if f.OwnerID > 0 && f.OwnerID != a.UserID {
		return postingScope{}, false
	}
	return owner(a.UserID), true
}

// searchPostings answers a search planned by planPostings from the
// postings of the query's rarest gram: for one owner with few matches in
// one statement that reads their rows too (fewPostings), else in one that
// counts and pages with a window (windowPostings).
func (s *Store) searchPostings(ctx context.Context, ps postingScope, nq string, grams []int64, f Filter) ([]Customer, int, error) {
	g, err := s.rarestGram(ctx, ps, grams)
	if err != nil {
		return nil, 0, err
	}
	if ps.ownerOp != "> 0" {
		out, total, ok, err := s.fewPostings(ctx, ps, g, nq, f)
		if err != nil || ok {
			return out, total, err
		}
	}
	return s.windowPostings(ctx, ps, g, nq, f)
}

// windowPostings answers in one statement: the page and the count from a
// window over the matching postings (plus any matching customers still on
// the index queue), and the page's customer rows.
func (s *Store) windowPostings(ctx context.Context, ps postingScope, g int64, nq string, f Filter) ([]Customer, int, error) {
	dir := " DESC"
	if !strings.HasPrefix(f.Sort, "-") {
		dir = " ASC"
	}
	order := " ORDER BY m.updated_at" + dir + ", m.id" + dir
	// Queued customers have no index rows (indexing and re-indexing take
	// them off the queue); the NOT EXISTS makes sure none is counted twice.
	matches := "SELECT g.customer_id AS id, g.updated_at FROM customer_grams g WHERE g.gram = " +
		strconv.FormatInt(g, 10) + " AND " + ps.on("g.owner_id") + " AND g.live = 1 AND INSTR(g.field_text, ?) > 0" +
		" UNION ALL SELECT c.id, c.updated_at FROM customer_index_queue q JOIN customers c ON c.id = q.customer_id" +
		" WHERE c.deleted_at IS NULL AND " + ps.on("c.owner_id") + " AND INSTR(c.search_text, ?) > 0" +
		" AND NOT EXISTS (SELECT 1 FROM customer_grams x WHERE x.customer_id = c.id)"
	sqlText := "SELECT " + customerCols + ", p.total_rows, p.pos FROM (SELECT m.id, COUNT(*) OVER () AS total_rows, " +
		"ROW_NUMBER() OVER (" + strings.TrimSpace(order) + ") AS pos FROM (" + matches + ") m" + order +
		" LIMIT ? OFFSET ?) p JOIN customers c ON c.id = p.id " + nameJoins
	out, total, err := s.pageRows(ctx, sqlText, []any{nq, nq, f.PageSize, (f.Page - 1) * f.PageSize})
	if err != nil || len(out) > 0 || f.Page <= 1 {
		return out, total, err
	}
	// A page past the end has no row to carry the count.
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM ("+matches+") m", nq, nq); err != nil {
		return nil, 0, fmt.Errorf("customer: count: %w", err)
	}
	return out, total, nil
}

// maxGramEstimate bounds the postings SQLite counts to compare grams.
const maxGramEstimate = 1000

// rarestGram picks the gram of grams with the fewest postings. Any of
// them gives the same answer (field_text decides); the fewest is the least
// work. On MySQL it goes by the optimizer's own estimates of the company's
// postings (an index dive per gram, from one EXPLAIN), remembered for a
// while (gramEstimates); SQLite, in process, counts up to maxGramEstimate
// postings of each in the scope.
func (s *Store) rarestGram(ctx context.Context, ps postingScope, grams []int64) (int64, error) {
	if len(grams) == 1 {
		return grams[0], nil
	}
	sizes, err := s.gramSizes(ctx, ps, grams)
	if err != nil {
		return 0, err
	}
	best := 0
	for i := range grams {
		if sizes[i] < sizes[best] {
			best = i
		}
	}
	return grams[best], nil
}

func (s *Store) gramSizes(ctx context.Context, ps postingScope, grams []int64) ([]int64, error) {
	if s.db.Dialect == store.SQLite {
		return s.countPostings(ctx, ps, grams)
	}
	if sizes, ok := s.est.get(grams); ok {
		return sizes, nil
	}
	parts := make([]string, len(grams))
	for i, g := range grams {
		parts[i] = "SELECT 1 FROM customer_grams g WHERE g.gram = " + strconv.FormatInt(g, 10) + " AND g.owner_id > 0"
	}
	sizes, err := s.explainSizes(ctx, "EXPLAIN "+strings.Join(parts, " UNION ALL "), len(grams))
	if err == nil {
		s.est.put(grams, sizes)
	}
	return sizes, err
}

// countPostings counts up to maxGramEstimate postings of each gram in the
// scope, in one statement.
func (s *Store) countPostings(ctx context.Context, ps postingScope, grams []int64) ([]int64, error) {
	parts := make([]string, len(grams))
	for i, g := range grams {
		parts[i] = "(SELECT COUNT(*) FROM (SELECT 1 FROM customer_grams g WHERE g.gram = " + strconv.FormatInt(g, 10) +
			" AND " + ps.on("g.owner_id") + " LIMIT " + strconv.Itoa(maxGramEstimate) + "))"
	}
	sizes := make([]int64, len(grams))
	dst := make([]any, len(grams))
	for i := range sizes {
		dst[i] = &sizes[i]
	}
	if err := s.db.QueryRowContext(ctx, "SELECT "+strings.Join(parts, ", ")).Scan(dst...); err != nil {
		return nil, fmt.Errorf("customer: gram sizes: %w", err)
	}
	return sizes, nil
}

// explainSizes reads the estimated rows of each numbered SELECT (1..n) of
// an EXPLAIN.
func (s *Store) explainSizes(ctx context.Context, explain string, n int) ([]int64, error) {
	rows, err := s.db.QueryxContext(ctx, explain)
	if err != nil {
		return nil, fmt.Errorf("customer: gram sizes: %w", err)
	}
	defer rows.Close()
	sizes := make([]int64, n)
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, fmt.Errorf("customer: gram sizes: %w", err)
		}
		id, okID := explainInt(m["id"])
		est, okRows := explainInt(m["rows"])
		if okID && okRows && id >= 1 && id <= int64(n) {
			sizes[id-1] = est
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customer: gram sizes: %w", err)
	}
	return sizes, nil
}

// explainInt reads an EXPLAIN column, which drivers return as text or as
// an integer (MariaDB's id: unsigned), or NULL.
func explainInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// pageRows runs a page statement whose rows are customers with their
// position (pos) and the total (total_rows), and puts them in order.
func (s *Store) pageRows(ctx context.Context, sqlText string, args []any) ([]Customer, int, error) {
	var rows []struct {
		Customer
		Total int `db:"total_rows"`
		Pos   int `db:"pos"`
	}
	if err := s.db.SelectContext(ctx, &rows, sqlText, args...); err != nil {
		return nil, 0, fmt.Errorf("customer: search: %w", err)
	}
	slices.SortFunc(rows, func(a, b struct {
		Customer
		Total int `db:"total_rows"`
		Pos   int `db:"pos"`
	}) int {
		return a.Pos - b.Pos
	})
	out := make([]Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].Customer
		out[i].decodeTags()
	}
	if len(rows) == 0 {
		return out, 0, nil
	}
	return out, rows[0].Total, nil
}
