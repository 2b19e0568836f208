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
// serve. "The customer is in my scope OR I am the author" spans two
// tables, so no index answers it and every COUNT walked every follow-up of
// the company (the slowest route under load). Apart, each half has its
// index: follow-ups of my customers (customers by owner or department,
// then follow-ups by customer), and follow-ups I wrote (by owner or
// department) on customers outside my scope. The second half excludes
// what the first holds, so the two add up without double counting. The
// company-wide scope sees everything live and needs one part.
func listParts(a *auth.Actor) []part {
	base := []string{"f.deleted_at IS NULL", "c.deleted_at IS NULL"}
	if a.Scope == auth.ScopeAll {
		return []part{{where: base}}
	}
	custCond, custArgs := a.ScopeFilter("c.owner_id", "c.department_id")
	ownCond, ownArgs := a.ScopeFilter("f.owner_id", "f.department_id")
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
