package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
)

func checkIndexCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-index", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN")
	sample := fs.Int("sample", 2000, "customers to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openMySQL(ctx, *dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	return checkIndex(ctx, db, *sample, stdout)
}

// checkIndex compares, for a random sample of customers, the index rows in
// the database with the ones the application computes from search_text
// (customer.Grams). It proves the bulk loader (or a migration that
// backfilled the index) wrote exactly what the service would have.
func checkIndex(ctx context.Context, db *store.DB, sample int, w io.Writer) error {
	var maxID int64
	if err := db.GetContext(ctx, &maxID, "SELECT COALESCE(MAX(id), 0) FROM customers"); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for range sample {
		if maxID == 0 {
			break
		}
		ok, err := checkOne(ctx, db, r.Int64N(maxID)+1)
		if err != nil {
			return err
		}
		if ok {
			checked++
		}
	}
	fmt.Fprintf(w, "index check: %d sampled customers have exactly the index rows customer.GramTexts gives\n", checked)
	return nil
}

// checkOne reports false for an id with no customer (ids may have gaps).
// The customer's index rows must be exactly customer.GramTexts of its
// search_text, each with its owner, update time and live flag.
func checkOne(ctx context.Context, db *store.DB, id int64) (bool, error) {
	var cs []struct {
		Text      string     `db:"search_text"`
		Owner     int64      `db:"owner_id"`
		UpdatedAt time.Time  `db:"updated_at"`
		DeletedAt *time.Time `db:"deleted_at"`
	}
	if err := db.SelectContext(ctx, &cs, "SELECT search_text, owner_id, updated_at, deleted_at FROM customers WHERE id = ?", id); err != nil {
		return false, err
	}
	if len(cs) == 0 {
		return false, nil
	}
	c := cs[0]
	var got []struct {
		Gram      int64     `db:"gram"`
		Owner     int64     `db:"owner_id"`
		Text      string    `db:"field_text"`
		UpdatedAt time.Time `db:"updated_at"`
		Live      bool      `db:"live"`
	}
	if err := db.SelectContext(ctx, &got, "SELECT gram, owner_id, field_text, updated_at, live FROM customer_grams WHERE customer_id = ? ORDER BY gram", id); err != nil {
		return false, err
	}
	want := customer.GramTexts(c.Text)
	slices.SortFunc(want, func(a, b customer.GramText) int { return cmp.Compare(a.Gram, b.Gram) })
	if len(got) != len(want) {
		return false, fmt.Errorf("customer %d: index has %d rows, search_text %q gives %d", id, len(got), c.Text, len(want))
	}
	for i, g := range got {
		if g.Gram != want[i].Gram || g.Text != want[i].Text || g.Owner != c.Owner || !g.UpdatedAt.Equal(c.UpdatedAt) ||
			g.Live != (c.DeletedAt == nil) {
			return false, fmt.Errorf("customer %d: index row %+v, want gram %d text %q owner %d updated %v live %v",
				id, g, want[i].Gram, want[i].Text, c.Owner, c.UpdatedAt, c.DeletedAt == nil)
		}
	}
	return true, nil
}
