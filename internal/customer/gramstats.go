package customer

import (
	"sync"
	"time"
)

// gramEstimates remembers the database's row estimates of grams (how many
// postings each has company-wide) for a few minutes, so choosing which
// gram's postings a search reads (rarestGram) usually costs no round trip.
// They are statistics, like the optimizer's own, not results: a stale
// estimate can only make a search read more postings than it needs, never
// change what it finds.
type gramEstimates struct {
	mu    sync.Mutex
	since time.Time
	rows  map[int64]int64
}

const (
	// gramEstimateTTL is how long estimates are kept: long enough for the
	// grams of common words to stay known, short enough to follow growth.
	gramEstimateTTL = 10 * time.Minute
	// maxGramEstimates bounds the memory (~40 bytes an entry).
	maxGramEstimates = 100_000
)

// get returns the estimates of all grams, or false when one is unknown.
func (e *gramEstimates) get(grams []int64) ([]int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Since(e.since) > gramEstimateTTL || len(e.rows) > maxGramEstimates {
		e.since, e.rows = time.Now(), map[int64]int64{}
	}
	out := make([]int64, len(grams))
	for i, g := range grams {
		n, ok := e.rows[g]
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func (e *gramEstimates) put(grams, rows []int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rows == nil {
		e.since, e.rows = time.Now(), map[int64]int64{}
	}
	for i, g := range grams {
		e.rows[g] = rows[i]
	}
}
