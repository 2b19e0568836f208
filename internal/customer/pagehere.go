package customer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxSortedHere is the most candidates a one-owner search reads whole and
// counts and sorts here rather than in the database.
const maxSortedHere = 100

// timeKeys are the sort fields sortHere orders exactly as SQL does (times,
// NULL before any time); a sort by name follows the database's collation
// and stays in SQL.
var timeKeys = map[string]func(*Customer) *time.Time{
	"created_at":     func(c *Customer) *time.Time { return &c.CreatedAt },
	"updated_at":     func(c *Customer) *time.Time { return &c.UpdatedAt },
	"next_follow_at": func(c *Customer) *time.Time { return c.NextFollowAt },
	"last_follow_at": func(c *Customer) *time.Time { return c.LastFollowAt },
}

// canSortHere says whether a search with this many candidates and sort can
// be answered by pageHere.
func canSortHere(candidates int, sort string) bool {
	_, ok := timeKeys[strings.TrimPrefix(sort, "-")]
	return ok && candidates <= maxSortedHere
}

// pageHere answers a search over a few candidates (an IN list, in where)
// with one plain statement: every matching row, whole, then the count, the
// order and the page worked out here. For a handful of rows this costs the
// database less than a window count and a sort over a derived table, which
// is what a salesperson's search nearly always is.
func (s *Store) pageHere(ctx context.Context, where string, args []any, f Filter) ([]Customer, int, error) {
	var all []Customer
	if err := s.db.SelectContext(ctx, &all, selectCols+" "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("customer: search: %w", err)
	}
	sortHere(all, f.Sort)
	from := min(len(all), (f.Page-1)*f.PageSize)
	page := all[from:min(len(all), from+f.PageSize)]
	out := make([]Customer, len(page))
	for i := range page {
		out[i] = page[i]
		out[i].decodeTags()
	}
	return out, len(all), nil
}

// sortHere orders cs as ORDER BY <field> <dir>, c.id <dir> does in SQL
// (NULL sorts before any time, so first ascending and last descending).
// It sorts positions and then moves the rows once: comparing whole rows by
// value would copy them at every comparison.
func sortHere(cs []Customer, sort string) {
	key := timeKeys[strings.TrimPrefix(sort, "-")]
	desc := strings.HasPrefix(sort, "-")
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		c := cmp.Or(compareTimes(key(&cs[i]), key(&cs[j])), cmp.Compare(cs[i].ID, cs[j].ID))
		if desc {
			return -c
		}
		return c
	})
	sorted := make([]Customer, len(cs))
	for k, i := range order {
		sorted[k] = cs[i]
	}
	copy(cs, sorted)
}

func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}
