package report_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/deal"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/report"
	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/rfm"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func ptr[T any](v T) *T { return &v }

// world is a database filled through the real services with edits,
// deletes, restores, reassignments, merges, backdated records and
// records either side of midnight in Asia/Shanghai.
type world struct {
	*saletest.Org
	reports *report.Service
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, db *store.DB, ops int) *world {
	ctx := context.Background()
	org := saletest.NewOrg(t, db)
	w := &world{Org: org, reports: report.NewService(db, shanghai, i18n.MustLoad())}
	sales := sale.NewService(db, customer.NewStore(db), org.Loader, shanghai)
	deals := deal.NewService(db, customer.NewStore(db), org.Loader, sales)
	fups := followup.NewService(db)
	custs := customer.NewService(db, customer.NewStore(db), org.Loader, audit.NewService(db))
	rnd := rand.New(rand.NewSource(6))
	people := []string{"sim_s1", "sim_s2", "sim_s3", "sim_s5", "sim_s8"}
	products := []int64{org.Product(t, "报表产品A", 1000), org.Product(t, "报表产品B", 2500), org.Product(t, "报表产品C", 99)}
	stage := map[string]int64{}
	var st []struct {
		ID   int64  `db:"id"`
		Code string `db:"code"`
	}
	must(t, db.SelectContext(ctx, &st, "SELECT id, code FROM opportunity_stages"))
	for _, s := range st {
		stage[s.Code] = s.ID
	}
	custOf := map[string][]int64{}
	for _, p := range people {
		for i := 0; i < 3; i++ {
			id := org.Customer(t, p, fmt.Sprintf("%s客户%d", p, i))
			custOf[p] = append(custOf[p], id)
			// Backdated customers, some just either side of midnight.
			at := time.Date(2026, 1, 1+rnd.Intn(80), 15+rnd.Intn(2), 59, rnd.Intn(60), 0, time.UTC)
			_, err := db.ExecContext(ctx, "UPDATE customers SET created_at = ?, source = ? WHERE id = ?", at,
				[]string{"referral", "website", ""}[rnd.Intn(3)], id)
			must(t, err)
		}
	}
	day := func() string { return time.Date(2025, 12, 20+rnd.Intn(100), 0, 0, 0, 0, time.UTC).Format("2006-01-02") }
	moment := func() time.Time {
		return time.Date(2026, 1, 1+rnd.Intn(85), []int{15, 16, 23, 0, 8}[rnd.Intn(5)], rnd.Intn(60), rnd.Intn(60), rnd.Intn(1000)*1e6, time.UTC)
	}
	var saleIDs, fupIDs, oppIDs []int64
	deleted := map[int64]bool{}
	admin, mgr1 := org.As(t, "sim_admin"), org.As(t, "sim_mgr1")
	for i := 0; i < ops; i++ {
		p := people[rnd.Intn(len(people))]
		a := org.As(t, p)
		cid := custOf[p][rnd.Intn(len(custOf[p]))]
		switch op := rnd.Intn(10); {
		case op < 3:
			in := sale.Input{CustomerID: &cid, SaleDate: ptr(day())}
			if rnd.Intn(2) == 0 {
				lines := []product.LineInput{}
				for j := 0; j <= rnd.Intn(3); j++ {
					lines = append(lines, product.LineInput{ProductID: &products[rnd.Intn(3)], Quantity: ptr(int64(1 + rnd.Intn(4))), UnitPriceFen: ptr(int64(100 + rnd.Intn(5000)))})
				}
				in.Lines = &lines
			} else {
				in.AmountFen = ptr(int64(100 + rnd.Intn(100000)))
			}
			s, err := sales.Create(ctx, a, in)
			if err != nil {
				t.Fatalf("sale: %v", err)
			}
			saleIDs = append(saleIDs, s.ID)
		case op == 3 && len(saleIDs) > 0: // edit: date, amount, lines or (by a manager) the salesperson
			id := saleIDs[rnd.Intn(len(saleIDs))]
			if deleted[id] {
				_, err := sales.Restore(ctx, admin, id)
				must(t, err)
				delete(deleted, id)
				continue
			}
			cur, err := sales.Get(ctx, admin, id)
			must(t, err)
			in := sale.Input{Version: &cur.Version}
			switch rnd.Intn(4) {
			case 0:
				in.SaleDate = ptr(day())
			case 1:
				in.AmountFen = ptr(int64(rnd.Intn(50000)))
			case 2:
				lines := []product.LineInput{{ProductID: &products[rnd.Intn(3)], Quantity: ptr(int64(2)), UnitPriceFen: ptr(int64(777))}}
				in.Lines = &lines
			default:
				in.OwnerID = ptr(org.ID([]string{"sim_s1", "sim_s2", "sim_s3"}[rnd.Intn(3)]))
				if !mgr1.Sees(cur.OwnerID, cur.DepartmentID) {
					in.OwnerID = nil
					in.SaleDate = ptr(day())
				}
			}
			_, err = sales.Update(ctx, admin, id, in)
			must(t, err)
		case op == 4 && len(saleIDs) > 0:
			id := saleIDs[rnd.Intn(len(saleIDs))]
			if !deleted[id] {
				must(t, sales.Delete(ctx, admin, id))
				deleted[id] = true
			}
		case op == 5 || op == 6:
			f, err := fups.Create(ctx, a, followup.Input{CustomerID: &cid, FollowedAt: ptr(moment().Format(time.RFC3339Nano)),
				Method: ptr("phone"), Content: ptr("跟进")})
			must(t, err)
			fupIDs = append(fupIDs, f.ID)
			if rnd.Intn(3) == 0 {
				_, err = fups.Update(ctx, a, f.ID, followup.Input{FollowedAt: ptr(moment().Format(time.RFC3339Nano)), Version: &f.Version})
				must(t, err)
			} else if rnd.Intn(4) == 0 {
				must(t, fups.Delete(ctx, a, f.ID))
			}
		case op == 7:
			o, err := deals.Create(ctx, a, deal.Input{CustomerID: &cid, Title: ptr("机会"), AmountFen: ptr(int64(1000 + rnd.Intn(90000))),
				StageID: ptr(stage[[]string{"initial", "needs", "proposal"}[rnd.Intn(3)]])})
			must(t, err)
			oppIDs = append(oppIDs, o.ID)
			to := []string{"won", "lost", "negotiation"}[rnd.Intn(3)]
			mv := deal.MoveInput{StageID: ptr(stage[to]), Version: &o.Version}
			if to == "lost" {
				mv.LostReason = ptr(deal.LostReasons[0])
			}
			_, err = deals.Move(ctx, a, o.ID, mv)
			must(t, err)
			if to != "negotiation" {
				// Closed on a backdated moment (some straddle midnight).
				_, err = db.ExecContext(ctx, "UPDATE opportunities SET closed_at = ?, created_at = ? WHERE id = ?", moment(), time.Date(2025, 12, 1, 3, 0, 0, 123e6, time.UTC), o.ID)
				must(t, err)
			}
			if rnd.Intn(5) == 0 {
				must(t, deals.Delete(ctx, a, o.ID))
			}
		case op == 8: // merge two of a person's customers
			list := custOf[p]
			if len(list) > 1 {
				_, err := custs.Merge(ctx, admin, list[0], customer.MergeInput{FromID: &list[len(list)-1]})
				must(t, err)
				custOf[p] = list[:len(list)-1]
			}
		case op == 9: // a customer handed to someone else
			to := people[rnd.Intn(len(people))]
			cur, err := custs.Get(ctx, admin, cid)
			must(t, err)
			_, err = custs.Update(ctx, admin, cid, customer.Input{OwnerID: ptr(org.ID(to)), Version: &cur.Version})
			must(t, err)
			if to != p {
				custOf[p] = remove(custOf[p], cid)
				custOf[to] = append(custOf[to], cid)
				if len(custOf[p]) == 0 {
					custOf[p] = append(custOf[p], org.Customer(t, p, fmt.Sprintf("%s补充%d", p, i)))
				}
			}
		}
	}
	return w
}

func remove(list []int64, id int64) []int64 {
	out := []int64{}
	for _, x := range list {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// truth is the straightforward computation from the raw rows in Go.
type truth struct {
	sales []struct {
		ID, Owner, Dept, Customer, Amount int64
		Date                              string
		Deleted                           bool
	}
	items []struct{ Sale, Product, Qty, Total int64 }
	fups  []struct {
		Owner, Dept int64
		At          time.Time
		Deleted     bool
	}
	custs []struct {
		Owner, Dept int64
		At          time.Time
		Deleted     bool
	}
	opps []struct {
		Owner, Dept, Amount int64
		Status              string
		Created             time.Time
		Closed              *time.Time
		Deleted             bool
	}
}

func load(t *testing.T, db *store.DB) *truth {
	ctx := context.Background()
	tr := &truth{}
	rows, err := db.QueryxContext(ctx, "SELECT id, owner_id, department_id, customer_id, amount_fen, sale_date, deleted_at IS NOT NULL FROM sales")
	must(t, err)
	for rows.Next() {
		var s struct {
			ID, Owner, Dept, Customer, Amount int64
			Date                              string
			Deleted                           bool
		}
		var d sale.Date
		must(t, rows.Scan(&s.ID, &s.Owner, &s.Dept, &s.Customer, &s.Amount, &d, &s.Deleted))
		s.Date = string(d)
		tr.sales = append(tr.sales, s)
	}
	rows.Close()
	rows, err = db.QueryxContext(ctx, "SELECT sale_id, product_id, quantity, total_fen FROM sale_items")
	must(t, err)
	for rows.Next() {
		var it struct{ Sale, Product, Qty, Total int64 }
		must(t, rows.Scan(&it.Sale, &it.Product, &it.Qty, &it.Total))
		tr.items = append(tr.items, it)
	}
	rows.Close()
	for _, q := range []string{"SELECT owner_id, department_id, followed_at, deleted_at IS NOT NULL FROM followups",
		"SELECT owner_id, department_id, created_at, deleted_at IS NOT NULL FROM customers"} {
		rows, err = db.QueryxContext(ctx, q)
		must(t, err)
		for rows.Next() {
			var f struct {
				Owner, Dept int64
				At          time.Time
				Deleted     bool
			}
			must(t, rows.Scan(&f.Owner, &f.Dept, &f.At, &f.Deleted))
			if q[len(q)-9:] == "followups" {
				tr.fups = append(tr.fups, f)
			} else {
				tr.custs = append(tr.custs, f)
			}
		}
		rows.Close()
	}
	rows, err = db.QueryxContext(ctx, "SELECT owner_id, department_id, amount_fen, status, created_at, closed_at, deleted_at IS NOT NULL FROM opportunities")
	must(t, err)
	for rows.Next() {
		var o struct {
			Owner, Dept, Amount int64
			Status              string
			Created             time.Time
			Closed              *time.Time
			Deleted             bool
		}
		must(t, rows.Scan(&o.Owner, &o.Dept, &o.Amount, &o.Status, &o.Created, &o.Closed, &o.Deleted))
		tr.opps = append(tr.opps, o)
	}
	rows.Close()
	return tr
}

func localDay(t time.Time) string { return t.In(shanghai).Format("2006-01-02") }

type sums struct{ Count, Amount, Qty, Won, Lost, Fups, NewCust, CycleMs int64 }

// expect computes per-key sums for an Actor over [from, to]; key picks the
// group ("owner", "dept", "month", "day", "product", "source" needs
// customers and is left to the raw-vs-summary check).
func (tr *truth) expect(a *auth.Actor, from, to, key string) map[string]*sums {
	out := map[string]*sums{}
	get := func(k string) *sums {
		if out[k] == nil {
			out[k] = &sums{}
		}
		return out[k]
	}
	pick := func(owner, dept int64, date string) string {
		switch key {
		case "owner":
			return strconv.FormatInt(owner, 10)
		case "dept":
			return strconv.FormatInt(dept, 10)
		case "month":
			return date[:7]
		}
		return date
	}
	in := func(d string) bool { return d >= from && d <= to }
	live := map[int64]bool{}
	for _, s := range tr.sales {
		if s.Deleted || !a.Sees(s.Owner, s.Dept) || !in(s.Date) {
			continue
		}
		live[s.ID] = true
		if key == "product" {
			continue
		}
		g := get(pick(s.Owner, s.Dept, s.Date))
		g.Count++
		g.Amount += s.Amount
	}
	if key == "product" {
		for _, it := range tr.items {
			if live[it.Sale] {
				g := get(strconv.FormatInt(it.Product, 10))
				g.Count++
				g.Qty += it.Qty
				g.Amount += it.Total
			}
		}
		return out
	}
	for _, f := range tr.fups {
		if !f.Deleted && a.Sees(f.Owner, f.Dept) && in(localDay(f.At)) {
			get(pick(f.Owner, f.Dept, localDay(f.At))).Fups++
		}
	}
	for _, c := range tr.custs {
		if !c.Deleted && a.Sees(c.Owner, c.Dept) && in(localDay(c.At)) && c.Owner != 0 {
			get(pick(c.Owner, c.Dept, localDay(c.At))).NewCust++
		}
	}
	for _, o := range tr.opps {
		if o.Deleted || o.Closed == nil || !a.Sees(o.Owner, o.Dept) || !in(localDay(*o.Closed)) {
			continue
		}
		g := get(pick(o.Owner, o.Dept, localDay(*o.Closed)))
		switch o.Status {
		case "won":
			g.Won++
			g.CycleMs += o.Closed.Sub(o.Created).Milliseconds()
		case "lost":
			g.Lost++
		}
	}
	return out
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(math.Round(x))
	}
	panic(fmt.Sprintf("%T", v))
}

// TestReportsReconcile compares every report with the straightforward
// computation, for an admin, a manager (department and below) and a
// salesperson, on SQLite and MySQL; the summary tables kept by the write
// paths equal a rebuild; and the summary path equals the raw path.
func TestReportsReconcile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := build(t, db, 260)
		kept, err := summary.Snapshot(ctx, db, db.Dialect)
		must(t, err)
		must(t, db.WithTx(ctx, func(tx *sqlx.Tx) error { return summary.Rebuild(ctx, tx, db.Dialect) }))
		rebuilt, err := summary.Snapshot(ctx, db, db.Dialect)
		must(t, err)
		if !reflect.DeepEqual(kept, rebuilt) {
			t.Fatalf("summaries kept by the write paths differ from a rebuild:\nkept    %v\nrebuilt %v", kept, rebuilt)
		}
		// A backup carries no summaries; the restore recomputes them.
		var buf bytes.Buffer
		_, err = backup.Write(ctx, db, &buf, backup.Options{})
		must(t, err)
		target := storetest.SQLite(t)
		_, err = backup.Restore(ctx, target, &buf, backup.RestoreOptions{})
		must(t, err)
		restored, err := summary.Snapshot(ctx, target, target.Dialect)
		must(t, err)
		if !reflect.DeepEqual(kept, restored) {
			t.Fatalf("summaries after a restore differ:\nkept     %v\nrestored %v", kept, restored)
		}
		tr := load(t, db)
		for _, who := range []string{"sim_admin", "sim_mgr1", "sim_s1"} {
			a := w.As(t, who)
			run := func(p report.Params) *reportview.Report {
				t.Helper()
				r, err := w.reports.Build(ctx, a, p)
				must(t, err)
				p.Raw = true
				raw, err := w.reports.Build(ctx, a, p)
				must(t, err)
				r.GeneratedAt, raw.GeneratedAt = "", ""
				if !reflect.DeepEqual(r, raw) {
					t.Fatalf("%s %+v: summary path != raw path\nsummary %+v\nraw     %+v", who, p, r, raw)
				}
				return r
			}
			// Monthly (whole months: the monthly summary), daily across an
			// unaligned range (the daily summary), by person, department, product.
			for _, c := range []struct {
				p    report.Params
				key  string
				from string
				to   string
				id   func(reportview.Row) string
			}{
				{report.Params{Type: "sales", GroupBy: "month", From: "2026-01-01", To: "2026-03-31"}, "month", "2026-01-01", "2026-03-31",
					func(r reportview.Row) string { return r.Cells["key"].(string) }},
				{report.Params{Type: "sales", GroupBy: "day", From: "2026-01-15", To: "2026-02-10"}, "day", "2026-01-15", "2026-02-10",
					func(r reportview.Row) string { return r.Cells["key"].(string) }},
				{report.Params{Type: "sales", GroupBy: "user", From: "2025-12-20", To: "2026-03-31"}, "owner", "2025-12-20", "2026-03-31",
					func(r reportview.Row) string { return r.Drill.Query["owner_id"] }},
				{report.Params{Type: "sales", GroupBy: "department", From: "2026-01-10", To: "2026-03-31"}, "dept", "2026-01-10", "2026-03-31",
					func(r reportview.Row) string { return r.Drill.Query["department_id"] }},
				{report.Params{Type: "sales", GroupBy: "product", From: "2026-01-01", To: "2026-02-28"}, "product", "2026-01-01", "2026-02-28",
					func(r reportview.Row) string { return r.Drill.Query["product_id"] }},
			} {
				r := run(c.p)
				want := tr.expect(a, c.from, c.to, c.key)
				got := map[string]bool{}
				for _, row := range r.Tables[0].Rows {
					k := c.id(row)
					e := want[k]
					if e == nil {
						e = &sums{}
					}
					if num(row.Cells["amount"]) != e.Amount || num(row.Cells["count"]) != e.Count || c.key == "product" && num(row.Cells["quantity"]) != e.Qty {
						t.Errorf("%s sales by %s %s: row %v, want %+v", who, c.key, k, row.Cells, *e)
					}
					got[k] = true
				}
				for k, e := range want {
					if !got[k] && (e.Count != 0 || e.Amount != 0) {
						t.Errorf("%s sales by %s: missing %s %+v", who, c.key, k, *e)
					}
				}
			}
			// Performance per salesperson over a long range and over single
			// days (follow-ups, new customers and deals either side of midnight).
			days := []string{"2026-01-05~2026-03-20", "2026-01-01~2026-02-28"}
			for d := 1; d <= 31; d++ {
				x := fmt.Sprintf("2026-01-%02d", d)
				days = append(days, x+"~"+x)
			}
			perfRows := 0
			for _, rg := range days {
				from, to := rg[:10], rg[11:]
				perfRows += checkPerformance(t, who, run(report.Params{Type: "performance", GroupBy: "user", From: from, To: to}), tr.expect(a, from, to, "owner"))
			}
			if perfRows < 5 {
				t.Fatalf("%s: only %d performance rows compared", who, perfRows)
			}
			// New customers: owned, live, created in the range (company zone).
			for _, rg := range [][2]string{{"2026-01-01", "2026-03-31"}, {"2026-01-31", "2026-01-31"}, {"2026-02-01", "2026-02-01"}} {
				cr := run(report.Params{Type: "customers", From: rg[0], To: rg[1]})
				var n int64
				for _, c := range tr.custs {
					if !c.Deleted && c.Owner != 0 && a.Sees(c.Owner, c.Dept) && localDay(c.At) >= rg[0] && localDay(c.At) <= rg[1] {
						n++
					}
				}
				var bySource int64
				for _, row := range cr.Tables[0].Rows {
					bySource += num(row.Cells["count"])
				}
				if got := num(cr.Summary[0].Value); got != n || bySource != n {
					t.Errorf("%s new customers %v: %d (by source %d), want %d", who, rg, got, bySource, n)
				}
			}
			// RFM segments as of today over the default window.
			checkRFM(t, db, who, a, run(report.Params{Type: "rfm"}))
			for _, p := range []report.Params{
				{Type: "performance", GroupBy: "department", Preset: "this_year"},
				{Type: "sales", GroupBy: "source", From: "2026-01-01", To: "2026-03-31"},
				{Type: "sales", GroupBy: "customer", From: "2026-01-01", To: "2026-03-31"},
				{Type: "sales", GroupBy: "week", From: "2026-01-01", To: "2026-03-31"},
				{Type: "sales", GroupBy: "quarter", From: "2025-10-01", To: "2026-09-30"},
				{Type: "customers", From: "2026-01-01", To: "2026-03-31"},
				{Type: "funnel", From: "2025-12-01", To: "2026-12-31"},
				{Type: "rfm"},
			} {
				run(p)
			}
		}
	})
}

func checkPerformance(t *testing.T, who string, r *reportview.Report, want map[string]*sums) int {
	t.Helper()
	delete(want, "0")
	rows := 0
	for _, row := range r.Tables[0].Rows {
		k := row.Drill.Query["owner_id"]
		e := want[k]
		if e == nil {
			t.Errorf("%s performance: unexpected row %s %v", who, k, row.Cells)
			continue
		}
		cycle := 0.0
		if e.Won > 0 {
			cycle = float64(e.CycleMs) / float64(e.Won) / 86400000
		}
		c := row.Cells
		if num(c["amount"]) != e.Amount || num(c["count"]) != e.Count || num(c["won"]) != e.Won || num(c["lost"]) != e.Lost ||
			num(c["followups"]) != e.Fups || num(c["new_customers"]) != e.NewCust || math.Abs(c["cycle_days"].(float64)-cycle) > 1e-9 {
			t.Errorf("%s performance %s: %v, want %+v (cycle %v)", who, k, c, *e, cycle)
		}
		rows++
	}
	if rows != len(want) {
		t.Errorf("%s performance: %d rows, want %d (%v)", who, rows, len(want), r.Tables[0].Rows)
	}
	return rows
}

// checkRFM classifies the visible live customers' live sales in Go.
func checkRFM(t *testing.T, db *store.DB, who string, a *auth.Actor, r *reportview.Report) {
	t.Helper()
	var custs []struct {
		ID    int64 `db:"id"`
		Owner int64 `db:"owner_id"`
		Dept  int64 `db:"department_id"`
	}
	must(t, db.Select(&custs, "SELECT id, owner_id, department_id FROM customers WHERE deleted_at IS NULL"))
	set := rfm.Defaults()
	today := time.Now().In(shanghai)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	from, to := set.Window(today)
	tr := load(t, db)
	type agg struct {
		last          string
		count, amount int64
	}
	per := map[int64]*agg{}
	for _, s := range tr.sales {
		if s.Deleted || s.Date < from || s.Date > to {
			continue
		}
		if per[s.Customer] == nil {
			per[s.Customer] = &agg{}
		}
		g := per[s.Customer]
		g.count++
		g.amount += s.Amount
		if s.Date > g.last {
			g.last = s.Date
		}
	}
	want := map[string]int64{}
	for _, c := range custs {
		if g := per[c.ID]; g != nil && a.Sees(c.Owner, c.Dept) {
			want[set.Classify(today, g.last, g.count, g.amount)]++
		}
	}
	var total int64
	for i, seg := range rfm.Segments {
		got := num(r.Tables[0].Rows[i].Cells["customers"])
		total += got
		if got != want[seg] {
			t.Errorf("%s rfm %s: %d, want %d", who, seg, got, want[seg])
		}
	}
	if total == 0 && a.Scope == auth.ScopeAll {
		t.Errorf("%s rfm: no customers classified", who)
	}
}
