package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"
)

// seedSalesCmd is `crmbench seed-sales`: it adds N sales records to a
// database `crmbench seed` has loaded, each for an existing customer and
// owned by that customer's owner, spread over the last three years.
func seedSalesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed-sales", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN of a database crmbench seed loaded")
	n := fs.Int("sales", 1_000_000, "sales records to add")
	workers := fs.Int("workers", 2, "concurrent loading connections")
	batch := fs.Int("batch", 2000, "rows per INSERT and per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *workers < 1 || *batch < 1 || *batch > 5000 {
		return errors.New("--sales and --workers must be positive, --batch between 1 and 5000")
	}
	db, err := openMySQL(ctx, *dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var customers, existing int64
	if err := db.GetContext(ctx, &customers, "SELECT COUNT(*) FROM customers"); err != nil {
		return err
	}
	if err := db.GetContext(ctx, &existing, "SELECT COUNT(*) FROM sales"); err != nil {
		return err
	}
	if customers == 0 || existing > 0 {
		return fmt.Errorf("want a seeded database without sales: %d customers, %d sales", customers, existing)
	}
	owners, err := loadOwners(ctx, db.DB, customers)
	if err != nil {
		return err
	}
	start := time.Now()
	bar := countBar(int64(*n), "sales", stderr)
	g, gctx := errgroup.WithContext(ctx)
	chunks := make(chan chunk)
	g.Go(func() error {
		defer close(chunks)
		for first := 1; first <= *n; first += *batch {
			select {
			case chunks <- chunk{first: int64(first), n: min(*batch, *n-first+1)}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range *workers {
		g.Go(func() error {
			for c := range chunks {
				if err := insertSales(gctx, db.DB, c, owners); err != nil {
					return err
				}
				bar.Add(c.n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE sales"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %d sales records in %s\n", *n, time.Since(start).Round(time.Second))
	return nil
}

// custOwner is a customer's owner and department (index = customer id).
type custOwner struct{ owner, dept int64 }

// loadOwners reads every customer's owner and department (16 bytes each).
func loadOwners(ctx context.Context, db *sqlx.DB, customers int64) ([]custOwner, error) {
	out := make([]custOwner, customers+1)
	rows, err := db.QueryContext(ctx, "SELECT id, owner_id, department_id FROM customers")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, o, d int64
		if err := rows.Scan(&id, &o, &d); err != nil {
			return nil, err
		}
		if id > 0 && id <= customers {
			out[id] = custOwner{o, d}
		}
	}
	return out, rows.Err()
}

// insertSales writes sales first..first+n-1 in one statement. Sale i
// belongs to customer (i*7919 mod customers)+1 and is owned by its owner,
// so the records are what the app would have made.
func insertSales(ctx context.Context, db *sqlx.DB, c chunk, owners []custOwner) error {
	r := rand.New(rand.NewPCG(uint64(c.first), 42))
	customers := int64(len(owners) - 1)
	var b strings.Builder
	b.WriteString(`INSERT INTO sales (id, customer_id, owner_id, department_id, sale_date, amount_fen, notes,
		created_by, created_at, updated_at, version) VALUES `)
	args := make([]any, 0, c.n*10)
	for i := range c.n {
		id := c.first + int64(i)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)")
		day := benchNow.AddDate(0, 0, -r.IntN(3*365))
		notes := ""
		if r.IntN(3) == 0 {
			notes = saleNotes[r.IntN(len(saleNotes))]
		}
		cid := (id*7919)%customers + 1
		o := owners[cid]
		at := day.Add(time.Duration(9+r.IntN(9)) * time.Hour)
		args = append(args, id, cid, o.owner, o.dept, day.Format("2006-01-02"), int64(100+r.IntN(500_000))*100, notes,
			o.owner, at, at)
	}
	_, err := db.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("insert sales %d..: %w", c.first, err)
	}
	return nil
}

var saleNotes = []string{"年度框架合同首期款", "续费（含三年维保）", "加购 20 个账号", "渠道代理成交，含实施服务",
	"Q4 promotion, paid in two instalments", "试点项目转正式采购"}

// countBar is the progress bar of a load: rows done of total, on w.
func countBar(total int64, what string, w io.Writer) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}
