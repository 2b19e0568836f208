package customer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Each index row (a posting: one gram of one customer) carries, besides
// its key (gram, owner_id, customer_id):
//
//   - field_text: the customer's search-text fields that hold the gram,
//     joined by the separator. A query holds no separator, so it matches a
//     customer exactly when it is inside one field, and that field holds
//     every gram of the query: the substring test on the field_text of any
//     one of the query's grams is the test on the whole search_text.
//   - updated_at and live (0 in the recycle bin), copied from the customer
//     and kept in step with it, like owner_id, by a trigger on customers
//     (migration 00018), whatever code writes the customer row.
//
// So a search in the company's scope or one owner's (see postings_search.go)
// is answered from one gram's postings alone: it counts and orders them
// without reading a customer row, which is what a broad query (thousands
// of matches) spends its time on otherwise.

// IndexedCustomer is what a customer's index rows are made of.
type IndexedCustomer struct {
	ID        int64
	OwnerID   int64
	UpdatedAt time.Time
	Live      bool
	Text      string // its search_text
}

// GramText is one index row's gram and the fields that hold it.
type GramText struct {
	Gram int64
	Text string
}

// GramTexts returns the index rows of a search text: every distinct gram
// (those of textGrams, in its order) with the distinct fields holding it.
func GramTexts(text string) []GramText {
	fields := map[int64][]string{}
	var order []int64
	for _, field := range strings.Split(text, fieldSep) {
		for _, g := range textGrams(field) {
			have, seen := fields[g]
			if !seen {
				order = append(order, g)
			}
			if !slices.Contains(have, field) {
				fields[g] = append(have, field)
			}
		}
	}
	out := make([]GramText, len(order))
	for i, g := range order {
		out[i] = GramText{Gram: g, Text: strings.Join(fields[g], fieldSep)}
	}
	return out
}

// gramsPerInsert bounds one index INSERT (two placeholders a row, below
// SQLite's limit of 32,766).
const gramsPerInsert = 10000

// InsertIndexRows writes the index rows of cs (none of which may have
// rows yet), sorted by the index's primary key, gramsPerInsert per
// statement. Bulk loaders use it too, so their rows are the service's.
func InsertIndexRows(ctx context.Context, tx sqlx.ExecerContext, cs []IndexedCustomer) error {
	type row struct {
		gram, owner, id int64
		text            string
		at              time.Time
		live            bool
	}
	var rows []row
	for _, c := range cs {
		for _, g := range GramTexts(c.Text) {
			rows = append(rows, row{g.Gram, c.OwnerID, c.ID, g.Text, c.UpdatedAt, c.Live})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.gram, b.gram), cmp.Compare(a.owner, b.owner), cmp.Compare(a.id, b.id))
	})
	for len(rows) > 0 {
		n := min(gramsPerInsert, len(rows))
		// The integers are computed here and spelled out; the text and time
		// go as arguments.
		buf := make([]byte, 0, 48*n+96)
		buf = append(buf, "INSERT INTO customer_grams (gram, owner_id, customer_id, field_text, updated_at, live) VALUES "...)
		args := make([]any, 0, 2*n)
		for i, r := range rows[:n] {
			if i > 0 {
				buf = append(buf, ',')
			}
			live := 0
			if r.live {
				live = 1
			}
			buf = fmt.Appendf(buf, "(%d,%d,%d,?,?,%d)", r.gram, r.owner, r.id, live)
			args = append(args, r.text, r.at.UTC())
		}
		if _, err := tx.ExecContext(ctx, string(buf), args...); err != nil {
			return fmt.Errorf("customer: index rows: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}
