package customer

// Search internals for the fuzz targets.
var (
	SearchTextOf = searchText
	QueryGrams   = queryGrams
)
