package customer

// Search internals for the fuzz targets.
var (
	SearchTextOf = searchText
	QueryGrams   = queryGrams
)

// RowsOnly is st answering every search on the candidate path, for
// comparison with the posting search.
func RowsOnly(st *Store) *Store { c := *st; c.rowsOnly = true; return &c }
