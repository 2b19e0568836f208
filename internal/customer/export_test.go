package customer

import (
	"context"
	"strconv"
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
