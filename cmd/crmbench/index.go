package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

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
	fmt.Fprintf(w, "index check: %d sampled customers have exactly the index rows customer.Grams gives\n", checked)
	return nil
}

// checkOne reports false for an id with no customer (ids may have gaps).
func checkOne(ctx context.Context, db *store.DB, id int64) (bool, error) {
	var cs []struct {
		Text  string `db:"search_text"`
		Owner int64  `db:"owner_id"`
	}
	if err := db.SelectContext(ctx, &cs, "SELECT search_text, owner_id FROM customers WHERE id = ?", id); err != nil {
		return false, err
	}
	if len(cs) == 0 {
		return false, nil
	}
	texts := []string{cs[0].Text}
	var got []int64
	if err := db.SelectContext(ctx, &got, "SELECT gram FROM customer_grams WHERE customer_id = ?", id); err != nil {
		return false, err
	}
	var stale int
	if err := db.GetContext(ctx, &stale, "SELECT COUNT(*) FROM customer_grams WHERE customer_id = ? AND owner_id <> ?", id, cs[0].Owner); err != nil {
		return false, err
	}
	if stale > 0 {
		return false, fmt.Errorf("customer %d: %d index rows carry another owner than %d", id, stale, cs[0].Owner)
	}
	want := customer.Grams(texts[0])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return false, fmt.Errorf("customer %d: index has %d grams, search_text %q gives %d", id, len(got), texts[0], len(want))
	}
	return true, nil
}
