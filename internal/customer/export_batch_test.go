package customer

// Test access to the batch insert's fallback path (used by batch_test.go).
var (
	IDsAre         = (*Store).idsAre
	InsertOneByOne = (*Store).insertOneByOne
)

// IndexBatch writes the search index rows of cs (as InsertBatch does).
var IndexBatch = func(cs []*Customer) ([]*Customer, []string) {
	texts := make([]string, len(cs))
	for i, c := range cs {
		texts[i] = searchText(c)
	}
	return cs, texts
}

// InsertGramsBatch is insertGramsBatch.
var InsertGramsBatch = insertGramsBatch
