package sale_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func ptr[T any](v T) *T { return &v }

func fields(err error) map[string]errs.Field {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func newService(org *saletest.Org) *sale.Service {
	return sale.NewService(org.DB, customer.NewStore(org.DB), org.Loader, shanghai)
}

func lines(items ...[2]int64) *[]product.LineInput {
	out := []product.LineInput{}
	for _, it := range items {
		out = append(out, product.LineInput{ProductID: ptr(it[0]), Quantity: ptr(it[1])})
	}
	return &out
}

// TestSaleLifecycle: record a sale from line items, edit it, lose a race,
// delete it and restore it from the recycle bin; every write is in the
// customer's timeline (audit with customer_id).
func TestSaleLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		svc := newService(org)
		s1, admin := org.As(t, "sim_s1"), org.As(t, "sim_admin")
		cust := org.Customer(t, "sim_s1", "上海华信科技")
		a := org.Product(t, "CRM 标准版", 3333)

		sl, err := svc.Create(ctx, s1, sale.Input{CustomerID: &cust, Lines: lines([2]int64{a, 3}), Notes: ptr("首单")})
		if err != nil {
			t.Fatal(err)
		}
		if sl.AmountFen != 9999 || sl.Amount != "99.99" || len(sl.Lines) != 1 || sl.Lines[0].Total != "99.99" {
			t.Fatalf("amount from lines: %+v", sl)
		}
		if sl.OwnerID != s1.UserID || sl.DepartmentID != s1.PrimaryDeptID || sl.CustomerName != "上海华信科技" || sl.Version != 1 {
			t.Fatalf("defaults: %+v", sl)
		}
		if today := sale.Today(shanghai); sl.SaleDate != today {
			t.Fatalf("sale date %q, want today in Shanghai %q", sl.SaleDate, today)
		}

		// An amount given wins over the lines (a discount); the date is kept
		// as the calendar day typed.
		up, err := svc.Update(ctx, s1, sl.ID, sale.Input{Version: ptr(1), AmountFen: ptr(int64(9000)), SaleDate: ptr("2026-11-27")})
		if err != nil || up.AmountFen != 9000 || up.SaleDate != "2026-11-27" || up.Version != 2 || len(up.Lines) != 1 {
			t.Fatalf("update: %+v %v", up, err)
		}
		// New lines without an amount: the amount follows the lines.
		up, err = svc.Update(ctx, s1, sl.ID, sale.Input{Version: ptr(2), Lines: lines([2]int64{a, 2})})
		if err != nil || up.AmountFen != 6666 || up.Version != 3 {
			t.Fatalf("relined: %+v %v", up, err)
		}
		if _, err := svc.Update(ctx, s1, sl.ID, sale.Input{Version: ptr(2), Notes: ptr("late")}); !errors.Is(err, sale.ErrStale) {
			t.Fatalf("stale edit: %v", err)
		}
		if _, err := svc.Update(ctx, s1, sl.ID, sale.Input{Notes: ptr("x")}); fields(err)["version"].Key == "" {
			t.Fatalf("edit without version: %v", err)
		}

		if err := svc.Delete(ctx, s1, sl.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, s1, sl.ID); !errors.Is(err, sale.ErrNotFound) {
			t.Fatalf("deleted sale still readable: %v", err)
		}
		if _, _, err := svc.ListDeleted(ctx, s1, sale.Filter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("salesperson opened the recycle bin: %v", err)
		}
		bin, totals, err := svc.ListDeleted(ctx, admin, sale.Filter{})
		if err != nil || len(bin) != 1 || totals.Count != 1 || bin[0].DeletedByName == nil {
			t.Fatalf("recycle bin: %+v %v", bin, err)
		}
		if _, err := svc.Restore(ctx, s1, sl.ID); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("salesperson restored: %v", err)
		}
		back, err := svc.Restore(ctx, admin, sl.ID)
		if err != nil || back.DeletedAt != nil || back.AmountFen != 6666 {
			t.Fatalf("restore: %+v %v", back, err)
		}

		entries := org.Audit(t, "sale", sl.ID)
		want := []string{audit.ActCreate, audit.ActUpdate, audit.ActUpdate, audit.ActDelete, audit.ActRestore}
		if len(entries) != len(want) {
			t.Fatalf("audit entries: %+v", entries)
		}
		for i, e := range entries {
			if e.Action != want[i] || e.CustomerID != cust {
				t.Errorf("audit %d: %+v, want %s with customer %d", i, e, want[i], cust)
			}
		}
		if !strings.Contains(entries[1].Changes, `"amount_fen":{"old":9999,"new":9000}`) {
			t.Errorf("update entry lacks the amount change: %s", entries[1].Changes)
		}
	})
}

// TestSaleTotals: the totals are the count and sum of the whole filtered
// set, not of the page, and follow every filter.
func TestSaleTotals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		svc := newService(org)
		s1, s3 := org.As(t, "sim_s1"), org.As(t, "sim_s3")
		c1, c3 := org.Customer(t, "sim_s1", "甲"), org.Customer(t, "sim_s1", "乙")
		c4 := org.Customer(t, "sim_s3", "丙")
		p := org.Product(t, "P", 100)
		mk := func(who string, cust int64, fen int64, date string, withLine bool) {
			in := sale.Input{CustomerID: &cust, AmountFen: &fen, SaleDate: &date}
			if withLine {
				in.Lines = lines([2]int64{p, 1})
			}
			if _, err := svc.Create(ctx, org.As(t, who), in); err != nil {
				t.Fatal(err)
			}
		}
		mk("sim_s1", c1, 101, "2026-10-31", false)
		mk("sim_s1", c1, 202, "2026-11-01", true)
		mk("sim_s1", c3, 303, "2026-11-15", false)
		mk("sim_s1", c3, 404, "2026-11-30", true)
		mk("sim_s1", c1, 505, "2026-12-01", false)
		mk("sim_s3", c4, 1000, "2026-11-20", false)
		tests := []struct {
			name  string
			who   string
			f     sale.Filter
			count int
			sum   int64
		}{
			{"all of mine, page of 2", "sim_s1", sale.Filter{PageSize: 2}, 5, 1515},
			{"november", "sim_s1", sale.Filter{From: "2026-11-01", To: "2026-11-30"}, 3, 909},
			{"one customer", "sim_s1", sale.Filter{CustomerID: c3}, 2, 707},
			{"with the product", "sim_s1", sale.Filter{ProductID: p}, 2, 606},
			{"manager, whole team", "sim_mgr1", sale.Filter{PageSize: 1}, 6, 2515},
			{"manager, one owner", "sim_mgr1", sale.Filter{OwnerID: s3.UserID}, 1, 1000},
			{"manager, 华东组", "sim_mgr1", sale.Filter{DepartmentID: s3.PrimaryDeptID}, 1, 1000},
			{"salesperson filtering on another", "sim_s1", sale.Filter{OwnerID: s3.UserID}, 0, 0},
		}
		for _, tt := range tests {
			items, totals, err := svc.List(ctx, org.As(t, tt.who), tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if totals.Count != tt.count || totals.AmountFen != tt.sum || totals.Amount != product.FormatFen(tt.sum) {
				t.Errorf("%s: totals %+v, want %d / %d", tt.name, totals, tt.count, tt.sum)
			}
			size := tt.f.PageSize
			if size == 0 {
				size = 20
			}
			if len(items) != min(tt.count, size) {
				t.Errorf("%s: page has %d items, want %d", tt.name, len(items), min(tt.count, size))
			}
		}
		for _, f := range []sale.Filter{{From: "2026-13-01"}, {To: "yesterday"}, {From: "2026-11-30", To: "2026-11-01"}, {PageSize: 1000}} {
			if _, _, err := svc.List(ctx, s1, f); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("filter %+v accepted: %v", f, err)
			}
		}
	})
}

// TestSaleScope: a salesperson sees only their own sales, a manager their
// departments' (销售一部 with 华东组 below), in lists and reads.
func TestSaleScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		svc := newService(org)
		ids := map[string]int64{}
		for _, who := range []string{"sim_s1", "sim_s3", "sim_s5"} {
			cust := org.Customer(t, who, "客户"+who)
			sl, err := svc.Create(ctx, org.As(t, who), sale.Input{CustomerID: &cust, AmountFen: ptr(int64(100))})
			if err != nil {
				t.Fatal(err)
			}
			ids[who] = sl.ID
		}
		tests := []struct {
			viewer string
			sees   map[string]bool
		}{
			{"sim_s1", map[string]bool{"sim_s1": true}},
			{"sim_s5", map[string]bool{"sim_s5": true}},
			{"sim_s2", map[string]bool{}},
			{"sim_mgr1", map[string]bool{"sim_s1": true, "sim_s3": true}},
			{"sim_mgr2", map[string]bool{"sim_s5": true}},
			{"sim_admin", map[string]bool{"sim_s1": true, "sim_s3": true, "sim_s5": true}},
		}
		for _, tt := range tests {
			a := org.As(t, tt.viewer)
			items, totals, err := svc.List(ctx, a, sale.Filter{})
			if err != nil || len(items) != len(tt.sees) || totals.Count != len(tt.sees) || totals.AmountFen != int64(100*len(tt.sees)) {
				t.Errorf("%s lists %d (totals %+v), want %d", tt.viewer, len(items), totals, len(tt.sees))
			}
			for owner, id := range ids {
				_, err := svc.Get(ctx, a, id)
				if tt.sees[owner] != (err == nil) || err != nil && !errors.Is(err, sale.ErrNotFound) {
					t.Errorf("%s reads %s's sale: %v", tt.viewer, owner, err)
				}
				if !tt.sees[owner] {
					if _, err := svc.Update(ctx, a, id, sale.Input{Version: ptr(1), Notes: ptr("x")}); !errors.Is(err, sale.ErrNotFound) {
						t.Errorf("%s edits %s's sale: %v", tt.viewer, owner, err)
					}
					if err := svc.Delete(ctx, a, id); !errors.Is(err, sale.ErrNotFound) {
						t.Errorf("%s deletes %s's sale: %v", tt.viewer, owner, err)
					}
				}
			}
		}
		// Without the permission: 403 whatever the scope.
		s1 := org.As(t, "sim_s1")
		if _, _, err := svc.List(ctx, saletest.Without(s1, sale.PermView), sale.Filter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("list without sale.view: %v", err)
		}
		if _, err := svc.Create(ctx, saletest.Without(s1, sale.PermCreate), sale.Input{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("create without sale.create: %v", err)
		}
		if err := svc.Delete(ctx, saletest.Without(s1, sale.PermDelete), ids["sim_s1"]); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("delete without sale.delete: %v", err)
		}
	})
}

// TestSalesperson: the salesperson (销售人员) defaults to the caller; others
// need sale.assign, within scope, and must be active; the department
// follows the salesperson.
func TestSalesperson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		svc := newService(org)
		cust := org.Customer(t, "sim_mgr1", "经理的客户")
		in := func(owner string) sale.Input {
			return sale.Input{CustomerID: &cust, AmountFen: ptr(int64(1)), OwnerID: ptr(org.ID(owner))}
		}
		s3 := org.As(t, "sim_s3")
		sl, err := svc.Create(ctx, org.As(t, "sim_mgr1"), in("sim_s3"))
		if err != nil || sl.OwnerID != s3.UserID || sl.DepartmentID != s3.PrimaryDeptID {
			t.Fatalf("manager assigns within the team: %+v %v", sl, err)
		}
		org.Deactivate(t, "sim_s4")
		tests := []struct {
			who, owner, key string
		}{
			{"sim_mgr1", "sim_s5", "validation.owner_out_of_scope"},
			{"sim_mgr1", "sim_s4", "validation.owner_inactive"},
			{"sim_s1", "sim_s2", "sale.cannot_assign"},
		}
		for _, tt := range tests {
			c := org.Customer(t, tt.who, "客户")
			i := in(tt.owner)
			i.CustomerID = &c
			if _, err := svc.Create(ctx, org.As(t, tt.who), i); fields(err)["owner_id"].Key != tt.key {
				t.Errorf("%s assigns to %s: %v, want %s", tt.who, tt.owner, err, tt.key)
			}
		}
		moved, err := svc.Update(ctx, org.As(t, "sim_mgr1"), sl.ID, sale.Input{Version: ptr(1), OwnerID: ptr(org.ID("sim_s1"))})
		if err != nil || moved.OwnerID != org.ID("sim_s1") || moved.DepartmentID != org.As(t, "sim_s1").PrimaryDeptID {
			t.Fatalf("reassign: %+v %v", moved, err)
		}
	})
}

// TestSaleBadInput: each bad sale is a 400 naming the field, and writes
// nothing at all.
func TestSaleBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		svc := newService(org)
		s1 := org.As(t, "sim_s1")
		mine := org.Customer(t, "sim_s1", "我的客户")
		theirs := org.Customer(t, "sim_s5", "别人的客户")
		p := org.Product(t, "P", 100)
		off := org.Product(t, "停用品", 100)
		db.Exec("UPDATE products SET active = 0 WHERE id = ?", off)
		gone := org.Customer(t, "sim_s1", "已删除")
		db.Exec("UPDATE customers SET deleted_at = created_at WHERE id = ?", gone)
		org.Deactivate(t, "sim_s2")
		amount := ptr(int64(100))
		tests := []struct {
			name  string
			in    sale.Input
			field string
		}{
			{"no customer", sale.Input{AmountFen: amount}, "customer_id"},
			{"unknown customer", sale.Input{CustomerID: ptr(int64(999999)), AmountFen: amount}, "customer_id"},
			{"someone else's customer", sale.Input{CustomerID: &theirs, AmountFen: amount}, "customer_id"},
			{"deleted customer", sale.Input{CustomerID: &gone, AmountFen: amount}, "customer_id"},
			{"negative amount", sale.Input{CustomerID: &mine, AmountFen: ptr(int64(-1))}, "amount_fen"},
			{"absurd amount", sale.Input{CustomerID: &mine, AmountFen: ptr(product.MaxFen + 1)}, "amount_fen"},
			{"no amount, no lines", sale.Input{CustomerID: &mine}, "amount_fen"},
			{"quantity 0", sale.Input{CustomerID: &mine, Lines: lines([2]int64{p, 0})}, "lines[0].quantity"},
			{"negative quantity", sale.Input{CustomerID: &mine, Lines: lines([2]int64{p, -3})}, "lines[0].quantity"},
			{"unknown product", sale.Input{CustomerID: &mine, Lines: lines([2]int64{999999, 1})}, "lines[0].product_id"},
			{"deactivated product", sale.Input{CustomerID: &mine, Lines: lines([2]int64{off, 1})}, "lines[0].product_id"},
			{"not a date", sale.Input{CustomerID: &mine, AmountFen: amount, SaleDate: ptr("2026-02-30")}, "sale_date"},
			{"a word for a date", sale.Input{CustomerID: &mine, AmountFen: amount, SaleDate: ptr("tomorrow")}, "sale_date"},
			{"deactivated salesperson", sale.Input{CustomerID: &mine, AmountFen: amount, OwnerID: ptr(org.ID("sim_s2"))}, "owner_id"},
			{"unknown opportunity", sale.Input{CustomerID: &mine, AmountFen: amount, OpportunityID: sale.OptID{Set: true, Value: ptr(int64(999))}}, "opportunity_id"},
			{"notes too long", sale.Input{CustomerID: &mine, AmountFen: amount, Notes: ptr(strings.Repeat("长", 2001))}, "notes"},
		}
		tables := []string{"sales", "sale_items", "audit_log"}
		before := org.Counts(t, tables...)
		for _, tt := range tests {
			_, err := svc.Create(ctx, s1, tt.in)
			if errs.KindOf(err) != errs.KindInvalid || fields(err)[tt.field].Key == "" {
				t.Errorf("%s: %v, want a problem on %s", tt.name, err, tt.field)
			}
		}
		// Several problems at once are all reported.
		_, err := svc.Create(ctx, s1, sale.Input{CustomerID: ptr(int64(999999)), AmountFen: ptr(int64(-1)), SaleDate: ptr("x")})
		if f := fields(err); f["customer_id"].Key == "" || f["amount_fen"].Key == "" || f["sale_date"].Key == "" {
			t.Errorf("not every problem reported: %v", err)
		}
		if after := org.Counts(t, tables...); after["sales"] != before["sales"] || after["sale_items"] != before["sale_items"] || after["audit_log"] != before["audit_log"] {
			t.Fatalf("bad input wrote rows: %v → %v", before, after)
		}
	})
}
