package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
)

// loader bulk-loads generated customers and their search index.
type loader struct {
	db      *store.DB
	gen     *generator
	batch   int
	workers int
	// keys says the schema has the duplicate keys (phone_key, name_key),
	// which the loader then fills as the service does.
	keys bool
	// customersMu makes the chunks' customer INSERTs take turns (see
	// writeChunk).
	customersMu sync.Mutex
}

// chunk is a run of customer ids one transaction writes.
type chunk struct {
	first int64
	n     int
}

// load writes total customers with ids 1..total. Ids are given rather than
// auto-assigned so every worker knows its rows' ids before inserting and
// can write their index rows in the same transaction.
func (l *loader) load(ctx context.Context, total int, progress io.Writer) error {
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription("customers"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
	g, ctx := errgroup.WithContext(ctx)
	chunks := make(chan chunk)
	g.Go(func() error {
		defer close(chunks)
		for first := 1; first <= total; first += l.batch {
			select {
			case chunks <- chunk{first: int64(first), n: min(l.batch, total-first+1)}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range l.workers {
		g.Go(func() error {
			for c := range chunks {
				if err := l.writeChunk(ctx, c); err != nil {
					return err
				}
				bar.Add(c.n)
			}
			return nil
		})
	}
	return g.Wait()
}

// writeChunk generates one chunk and writes it: its customers, then its
// index rows, each in a transaction. The customers' INSERTs take turns
// (customersMu): the report summaries' trigger on customers updates the
// same owner-and-month rows from every chunk in random order, so two at
// once deadlock. The index rows, most of the work, go in concurrently.
func (l *loader) writeChunk(ctx context.Context, c chunk) error {
	rows := l.gen.rows(c.first, c.n)
	l.customersMu.Lock()
	err := l.db.WithTx(ctx, func(tx *sqlx.Tx) error { return insertCustomers(ctx, tx, rows, l.keys) })
	l.customersMu.Unlock()
	if err != nil {
		return err
	}
	return l.db.WithTx(ctx, func(tx *sqlx.Tx) error { return insertGrams(ctx, tx, rows) })
}

const customerCols = `id, name, phone, company, address, industry, source, level, status, tags, note,
	owner_id, department_id, next_follow_at, last_follow_at, created_by, created_at, updated_at, version, search_text`

// insertCustomers writes rows in one multi-row INSERT.
func insertCustomers(ctx context.Context, tx *sqlx.Tx, rows []row, keys bool) error {
	cols, tuple := customerCols, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, 1, ?"
	if keys {
		cols, tuple = cols+", phone_key, name_key", tuple+", ?, ?"
	}
	var b strings.Builder
	b.WriteString("INSERT INTO customers (" + cols + ") VALUES ")
	args := make([]any, 0, 21*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple + ")")
		args = append(args, r.id, r.name, r.phone, r.company, r.addr, r.industry, r.source, r.level, r.status,
			r.tags, r.owner.ID, r.owner.Dept, r.nextFollow, r.lastFollow, r.owner.ID, r.created, r.updated, r.searchText)
		if keys {
			args = append(args, nullIfEmpty(r.phoneKey), nullIfEmpty(r.nameKey))
		}
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert customers %d..: %w", rows[0].id, err)
	}
	return nil
}

// nullIfEmpty stores "no key" as NULL, which the UNIQUE index allows twice.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// hasKeyColumns reports whether the customers table has the duplicate keys.
func hasKeyColumns(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT COUNT(*) FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = 'customers' AND column_name IN ('phone_key', 'name_key')`)
	return n == 2, err
}

// insertGrams writes the index rows of rows with customer.InsertIndexRows,
// the service's own writer. It sorts them by the table's primary key
// (gram, owner_id, customer_id), so InnoDB appends to each gram's run of
// pages instead of splitting pages at random.
func insertGrams(ctx context.Context, tx *sqlx.Tx, rows []row) error {
	cs := make([]customer.IndexedCustomer, len(rows))
	for i, r := range rows {
		cs[i] = customer.IndexedCustomer{ID: r.id, OwnerID: r.owner.ID, UpdatedAt: r.updated, Live: true, Text: r.searchText}
	}
	if err := customer.InsertIndexRows(ctx, tx, cs); err != nil {
		return fmt.Errorf("insert grams of %d..: %w", rows[0].id, err)
	}
	return nil
}
