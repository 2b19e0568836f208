package excel_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/excel"
	"github.com/dingcrm/crm/internal/excel/exceltest"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

const benchRows = 20000

// BenchmarkImport20k: "Importing a 20,000-row file into MySQL: within 3×
// the time of a plain multi-row INSERT of the same rows, measured side by
// side in one run." Each iteration imports a generated file through the
// service (read, check every row and for duplicates, write in batches
// queued for the search index, with an audit entry per customer) into a
// fresh database, then lets the search indexer catch up (timed apart: the
// import has returned and its customers are searchable by then),
// and inserts the same 20,000 customer rows with multi-row INSERTs of 500
// (customers table only, no search index, no audit) into a second fresh
// database. A third fresh database gets the same rows plus their search
// index rows (multi-row INSERTs again), to show how much of the import's
// time the index alone costs. Run with:
//
//	CRM_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test ./internal/excel -run '^$' -bench Import20k -benchtime 1x
func BenchmarkImport20k(b *testing.B) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" {
		b.Skip("MySQL only: set CRM_TEST_MYSQL_DSN")
	}
	rows := benchCustomers()
	file := exceltest.Workbook(b, zhHeaders[:8], rows)
	var importTime, catchUpTime, baseTime, indexedTime time.Duration
	for range b.N {
		b.StopTimer()
		e := newEnv(b, storetest.MySQL(b))
		kicked := false
		e.excel.SetIndexer(func() { kicked = true }) // the app's background indexer, run below
		a := e.actor(b, "sim_mgr1")
		baseDB, indexedDB := storetest.MySQL(b), storetest.MySQL(b)
		args := baselineArgs(b, a, rows)
		b.StartTimer()
		start := time.Now()
		benchImport(b, e.excel, a, file)
		importTime += time.Since(start)
		b.StopTimer()
		start = time.Now()
		st := customer.NewStore(e.db)
		if n, err := st.IndexPending(context.Background()); err != nil || n != benchRows || !kicked {
			b.Fatalf("indexed %d of %d: %v (kicked: %v)", n, benchRows, err, kicked)
		}
		catchUpTime += time.Since(start)
		start = time.Now()
		benchBaseline(b, baseDB, args)
		baseTime += time.Since(start)
		start = time.Now()
		benchBaselineIndexed(b, indexedDB, args)
		indexedTime += time.Since(start)
		checkCount(b, e.db, baseDB, indexedDB)
	}
	n := float64(b.N)
	b.ReportMetric(importTime.Seconds()/n, "import-s")
	b.ReportMetric(baseTime.Seconds()/n, "insert-s")
	b.ReportMetric(importTime.Seconds()/baseTime.Seconds(), "ratio")
	b.ReportMetric(catchUpTime.Seconds()/n, "index-catch-up-s")
	b.ReportMetric((importTime+catchUpTime).Seconds()/baseTime.Seconds(), "ratio-until-indexed")
	b.ReportMetric(indexedTime.Seconds()/n, "insert+index-s")
	b.ReportMetric(float64(len(file))/(1<<20), "file-MB")
}

// benchCustomers generates 20,000 distinct customers (no two share a phone
// or a name and company, so every row is imported).
func benchCustomers() [][]string {
	r := rand.New(rand.NewPCG(2026, 20000))
	seen := map[string]bool{}
	var out [][]string
	for len(out) < benchRows {
		name, company, phone := seed.Person(r), seed.Company(r), seed.Mobile(r)
		if seen[phone] || seen[name+"|"+company] {
			continue
		}
		seen[phone], seen[name+"|"+company] = true, true
		out = append(out, []string{name, phone, company, company[:6] + "市高新区创业路" + fmt.Sprint(r.IntN(300)+1) + "号",
			customer.Industries[r.IntN(len(customer.Industries))], customer.Sources[r.IntN(len(customer.Sources))],
			customer.Levels[r.IntN(len(customer.Levels))], customer.Statuses[r.IntN(len(customer.Statuses))]})
	}
	return out
}

func benchImport(b *testing.B, svc *excel.Service, a *auth.Actor, file []byte) {
	limits := excel.DefaultLimits
	limits.BackgroundRows = benchRows // measured in the foreground
	j, _, err := svc.WithLimits(limits).ImportCustomers(context.Background(), a,
		excel.ImportRequest{FileName: "bench.xlsx", Body: bytes.NewReader(file), Lang: "zh-CN"})
	if err != nil {
		b.Fatal(err)
	}
	if j.Inserted != benchRows {
		b.Fatalf("imported %d of %d rows: %v", j.Inserted, benchRows, j.Problems)
	}
}

// baselineArgs are the INSERT arguments of the customers as the import
// stores them (validated by the same rules), prepared before the clock runs.
func baselineArgs(b *testing.B, a *auth.Actor, rows [][]string) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		c, err := customer.Validate(a, customer.Input{Name: &r[0], Phone: &r[1], Company: &r[2], Address: &r[3],
			Industry: &r[4], Source: &r[5], Level: &r[6], Status: &r[7]})
		if err != nil {
			b.Fatal(err)
		}
		out[i] = []any{c.Name, c.Phone, c.Company, c.Address, c.Industry, c.Source, c.Level, c.Status, "[]", "",
			c.OwnerID, c.DepartmentID, c.CreatedBy, c.CreatedAt, c.UpdatedAt}
	}
	return out
}

// benchBaseline inserts the rows 500 per INSERT, each INSERT its own
// transaction as each import batch is.
func benchBaseline(b *testing.B, db *store.DB, rows [][]any) {
	const perInsert = 500
	cols := "name, phone, company, address, industry, source, level, status, tags, note, owner_id, department_id, created_by, created_at, updated_at, version"
	for start := 0; start < len(rows); start += perInsert {
		chunk := rows[start:min(start+perInsert, len(rows))]
		args := make([]any, 0, 15*len(chunk))
		for _, r := range chunk {
			args = append(args, r...)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1), ", len(chunk)), ", ")
		if _, err := db.Exec("INSERT INTO customers ("+cols+") VALUES "+values, args...); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBaselineIndexed inserts the rows with explicit IDs, 500 per
// transaction, each transaction also inserting the rows' search index
// (computed as the customer store computes it) sorted by its key.
func benchBaselineIndexed(b *testing.B, db *store.DB, rows [][]any) {
	const perInsert = 500
	cols := "id, name, phone, company, address, industry, source, level, status, tags, note, owner_id, department_id, created_by, created_at, updated_at, version"
	for start := 0; start < len(rows); start += perInsert {
		chunk := rows[start:min(start+perInsert, len(rows))]
		args := make([]any, 0, 16*len(chunk))
		idx := make([]customer.IndexedCustomer, len(chunk))
		for i, r := range chunk {
			id := int64(start + i + 1)
			args = append(append(args, id), r...)
			idx[i] = customer.IndexedCustomer{ID: id, OwnerID: r[10].(int64), UpdatedAt: r[14].(time.Time), Live: true,
				Text: customer.SearchText(r[0].(string), r[2].(string), r[1].(string))}
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1), ", len(chunk)), ", ")
		err := db.WithTx(context.Background(), func(tx *sqlx.Tx) error {
			if _, err := tx.Exec("INSERT INTO customers ("+cols+") VALUES "+values, args...); err != nil {
				return err
			}
			return customer.InsertIndexRows(context.Background(), tx, idx)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func checkCount(b *testing.B, dbs ...*store.DB) {
	for _, db := range dbs {
		var n int
		db.Get(&n, "SELECT COUNT(*) FROM customers")
		if n != benchRows {
			b.Fatalf("%d customers, want %d", n, benchRows)
		}
	}
}
