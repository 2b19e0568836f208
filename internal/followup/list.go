package followup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/store"
)

// part is one of the disjoint pieces a list is read from: the WHERE
// conditions (beyond the filters) and their arguments.
type part struct {
	where []string
	args  []any
}

// listParts splits the visibility rule of scoped into pieces that indexes
// serve, where that pays. "The customer is in my scope OR I am the author"
// spans two tables, so no index answers it, and for a salesperson every
// COUNT walked every follow-up of the company: 20 s at 500,000 on a stock
// server, the slowest route under load. Apart, each half of a person's own
// scope has its index: follow-ups of my customers (customers by owner,
// then follow-ups by customer), and follow-ups I wrote (by author) on
// customers outside my scope; 13–50 ms there. The second half excludes
// what the first holds, so the two add up without double counting.
//
// Department scopes keep the one OR statement: their halves are not
// selective (a region's customers are a fifth of the company), MariaDB
// drives the second half from every customer outside the region, and
// measured split they were no faster, slower with a filter (docs/
// benchmarks.md, "Follow-up list"). The company-wide scope needs no rule.
func listParts(a *auth.Actor) []part {
	base := []string{"f.deleted_at IS NULL", "c.deleted_at IS NULL"}
	if a.Scope == auth.ScopeAll {
		return []part{{where: base}}
	}
	custCond, custArgs := a.ScopeFilter("c.owner_id", "c.department_id")
	ownCond, ownArgs := a.ScopeFilter("f.owner_id", "f.department_id")
	if (a.Scope == auth.ScopeDept || a.Scope == auth.ScopeDeptTree) && len(a.ScopeDeptIDs) > 0 {
		return []part{{where: append(base, "("+custCond+" OR "+ownCond+")"), args: append(custArgs, ownArgs...)}}
	}
	return []part{
		{where: append(slices.Clone(base), custCond), args: custArgs},
		// The scope columns are NOT NULL, so NOT is the exact complement.
		{where: append(slices.Clone(base), ownCond, "NOT ("+custCond+")"), args: append(slices.Clone(ownArgs), custArgs...)},
	}
}

// listFilters are the list's own conditions, the same for every part.
func listFilters(f Filter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.CustomerID > 0 {
		add("f.customer_id = ?", f.CustomerID)
	}
	if f.OwnerID > 0 {
		add("f.owner_id = ?", f.OwnerID)
	}
	if f.DepartmentID > 0 {
		add("f.department_id = ?", f.DepartmentID)
	}
	if len(f.DepartmentIDs) > 0 {
		where = append(where, "f.department_id IN ("+store.Placeholders(len(f.DepartmentIDs))+")")
		args = append(args, store.Int64Args(f.DepartmentIDs)...)
	}
	if f.Method != "" {
		add("f.method = ?", f.Method)
	}
	if f.From != nil {
		add("f.followed_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		add("f.followed_at < ?", f.To.UTC())
	}
	return where, args
}

// listOrder is the list's order, latest first; id breaks ties so pages
// never overlap.
const listOrder = " ORDER BY f.followed_at DESC, f.id DESC"

// List returns one page of visible follow-ups, latest first, and the total.
func (s *Store) List(ctx context.Context, a *auth.Actor, f Filter) ([]Followup, int, error) {
	filters, filterArgs := listFilters(f)
	parts := listParts(a)
	conds := make([]string, len(parts))
	args := make([][]any, len(parts))
	total := 0
	for i, p := range parts {
		conds[i] = " WHERE " + strings.Join(append(slices.Clone(p.where), filters...), " AND ")
		args[i] = append(slices.Clone(p.args), filterArgs...)
		var n int
		if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*)"+fromJoin+conds[i], args[i]...); err != nil {
			return nil, 0, fmt.Errorf("followup: count: %w", err)
		}
		total += n
	}
	out := []Followup{}
	offset := (f.Page - 1) * f.PageSize
	if offset >= total {
		return out, total, nil
	}
	page, pageArgs := pageIDs(conds, args, offset, f.PageSize)
	// The page's ids come from the indexes alone (a deep page skips index
	// entries, not joined rows); only its rows are read whole.
	q := selectCols + " JOIN (" + page + ") p ON p.id = f.id" + listOrder
	if err := s.db.SelectContext(ctx, &out, q, pageArgs...); err != nil {
		return nil, 0, fmt.Errorf("followup: list: %w", err)
	}
	return out, total, nil
}

// pageIDs is a query for the ids of one page over the parts: each part's
// first offset+size ids in list order, merged and cut to the page.
func pageIDs(conds []string, args [][]any, offset, size int) (string, []any) {
	if len(conds) == 1 {
		return "SELECT f.id" + fromJoin + conds[0] + listOrder + " LIMIT ? OFFSET ?", append(slices.Clone(args[0]), size, offset)
	}
	subs := make([]string, len(conds))
	var all []any
	for i := range conds {
		subs[i] = "SELECT id, followed_at FROM (SELECT f.id, f.followed_at" + fromJoin + conds[i] + listOrder +
			" LIMIT ?) h" + strconv.Itoa(i)
		all = append(append(all, args[i]...), offset+size)
	}
	q := "SELECT id FROM (" + strings.Join(subs, " UNION ALL ") + ") u ORDER BY followed_at DESC, id DESC LIMIT ? OFFSET ?"
	return q, append(all, size, offset)
}
