package customer

import (
	"context"
	"strconv"

	"github.com/dingcrm/crm/internal/auth"
)

// Search internals for the fuzz targets.
var (
	SearchTextOf = searchText
	QueryGrams   = queryGrams
)

// RowsOnly is st answering every search on the candidate path, for
// comparison with the posting search.
func RowsOnly(st *Store) *Store { c := *st; c.rowsOnly = true; return &c }

// RarestGram is the gram a posting search of q reads, in the company's
// scope (owner 0) or one owner's.
func RarestGram(ctx context.Context, st *Store, owner int64, q string) (int64, error) {
	ps := postingScope{ownerOp: "> 0"}
	if owner > 0 {
		ps.ownerOp = "= " + strconv.FormatInt(owner, 10)
	}
	return st.rarestGram(ctx, ps, queryGrams(q))
}

// PlanPostings reports whether a search goes the posting path, and in
// which owner scope ("" when not).
func PlanPostings(a *auth.Actor, f Filter, deleted bool) string {
	ps, ok := planPostings(a, f, deleted, NormalizeQuery(f.Q))
	if !ok {
		return ""
	}
	return ps.ownerOp
}
