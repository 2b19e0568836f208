package product_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/product"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func TestFormatFen(t *testing.T) {
	tests := []struct {
		fen  int64
		want string
	}{
		{0, "0.00"}, {5, "0.05"}, {99, "0.99"}, {100, "1.00"}, {9999, "99.99"}, {1234567, "12345.67"},
		{-5, "-0.05"}, {product.MaxFen, "10000000000.00"},
	}
	for _, tt := range tests {
		if got := product.FormatFen(tt.fen); got != tt.want {
			t.Errorf("FormatFen(%d) = %q, want %q", tt.fen, got, tt.want)
		}
	}
}

func fields(err error) map[string]errs.Field {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// TestCatalogue: admins add, rename, reprice and deactivate products;
// salespeople only read; names are unique; edits are optimistic.
func TestCatalogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		admin, sales := org.As(t, "sim_admin"), org.As(t, "sim_s1")
		svc := product.NewService(db)

		if _, err := svc.Create(ctx, sales, product.Input{Name: ptr("X")}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("salesperson created a product: %v", err)
		}
		p, err := svc.Create(ctx, admin, product.Input{Name: ptr(" 实施服务 "), Code: ptr("SVC"), Unit: ptr("人天"), UnitPriceFen: ptr(int64(150000))})
		if err != nil || p.Name != "实施服务" || p.UnitPrice != "1500.00" || !p.Active || p.Version != 1 {
			t.Fatalf("create: %+v %v", p, err)
		}
		if _, err := svc.Create(ctx, admin, product.Input{Name: ptr("实施服务")}); fields(err)["name"].Key != "product.name_taken" {
			t.Fatalf("duplicate name: %v", err)
		}
		bad := []product.Input{
			{Name: ptr("")}, {Name: ptr("负价"), UnitPriceFen: ptr(int64(-1))},
			{Name: ptr("天价"), UnitPriceFen: ptr(product.MaxFen + 1)},
		}
		for _, in := range bad {
			if _, err := svc.Create(ctx, admin, in); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("bad product %+v accepted: %v", in, err)
			}
		}
		if _, err := svc.Update(ctx, sales, p.ID, product.Input{Version: ptr(1), Active: ptr(false)}); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("salesperson deactivated: %v", err)
		}
		off, err := svc.Update(ctx, admin, p.ID, product.Input{Version: ptr(1), Active: ptr(false)})
		if err != nil || off.Active || off.Version != 2 {
			t.Fatalf("deactivate: %+v %v", off, err)
		}
		if _, err := svc.Update(ctx, admin, p.ID, product.Input{Version: ptr(1), Name: ptr("新名")}); !errors.Is(err, product.ErrStale) {
			t.Fatalf("stale edit: %v", err)
		}
		other, _ := svc.Create(ctx, admin, product.Input{Name: ptr("培训服务")})
		if _, err := svc.Update(ctx, admin, other.ID, product.Input{Version: ptr(1), Name: ptr("实施服务")}); fields(err)["name"].Key != "product.name_taken" {
			t.Fatalf("rename onto a taken name: %v", err)
		}
		if _, err := svc.Create(ctx, admin, product.Input{Name: ptr(`限时 100%_off! \`)}); err != nil {
			t.Fatal(err)
		}
		// Search is literal: LIKE's metacharacters match only themselves.
		for _, tt := range []struct {
			f    product.Filter
			want int
		}{
			{product.Filter{}, 3}, {product.Filter{Active: ptr(true)}, 2}, {product.Filter{Active: ptr(false)}, 1},
			{product.Filter{Q: "svc"}, 1}, {product.Filter{Q: "服务"}, 2}, {product.Filter{Q: "%"}, 1},
			{product.Filter{Q: "_"}, 1}, {product.Filter{Q: "%_off!"}, 1}, {product.Filter{Q: "!"}, 1},
			{product.Filter{Q: `\`}, 1}, {product.Filter{Q: "0%f"}, 0},
		} {
			items, total, err := svc.List(ctx, sales, tt.f)
			if err != nil || total != tt.want || len(items) != tt.want {
				t.Errorf("list %+v: %d items, total %d, %v; want %d", tt.f, len(items), total, err, tt.want)
			}
		}
		if n := len(org.Audit(t, "product", p.ID)); n != 2 {
			t.Errorf("product audit entries: %d, want 2 (create, deactivate)", n)
		}
	})
}

// TestLineArithmetic: line totals and sums are integer fen, so 3 × 33.33
// is exactly 99.99; prices default to the catalogue's; bad lines are
// reported per line.
func TestLineArithmetic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org := saletest.NewOrg(t, db)
		a := org.Product(t, "A", 3333)
		b := org.Product(t, "B", 10)
		line := func(id, qty int64, price *int64) product.LineInput {
			return product.LineInput{ProductID: &id, Quantity: &qty, UnitPriceFen: price}
		}
		tests := []struct {
			name   string
			lines  []product.LineInput
			sum    int64
			totals []string
		}{
			{"3 × 33.33", []product.LineInput{line(a, 3, nil)}, 9999, []string{"99.99"}},
			{"catalogue and agreed prices", []product.LineInput{line(a, 1, nil), line(b, 7, ptr(int64(1)))}, 3340, []string{"33.33", "0.07"}},
			{"ten cents many times", []product.LineInput{line(b, 1000000, nil)}, 10000000, []string{"100000.00"}},
			{"free item", []product.LineInput{line(a, 2, ptr(int64(0)))}, 0, []string{"0.00"}},
		}
		for _, tt := range tests {
			var v errs.Invalid
			lines, err := product.BuildLines(ctx, db, tt.lines, nil, &v)
			if err != nil || v.Err() != nil {
				t.Fatalf("%s: %v %v", tt.name, err, v.Err())
			}
			if got := product.Sum(lines); got != tt.sum {
				t.Errorf("%s: sum %d, want %d", tt.name, got, tt.sum)
			}
			for i, l := range lines {
				if l.Total != tt.totals[i] || l.TotalFen != l.Quantity*l.UnitPriceFen {
					t.Errorf("%s: line %d total %q (%d), want %q", tt.name, i, l.Total, l.TotalFen, tt.totals[i])
				}
			}
		}
		bad := []struct {
			line  product.LineInput
			field string
		}{
			{line(a, 0, nil), "lines[0].quantity"}, {line(a, -2, nil), "lines[0].quantity"},
			{line(a, product.MaxQuantity+1, nil), "lines[0].quantity"},
			{line(a, 1, ptr(int64(-1))), "lines[0].unit_price_fen"}, {line(999999, 1, nil), "lines[0].product_id"},
			{product.LineInput{Quantity: ptr(int64(1))}, "lines[0].product_id"},
			{line(a, product.MaxQuantity, ptr(product.MaxFen)), "lines[0].quantity"},
		}
		for _, tt := range bad {
			var v errs.Invalid
			if _, err := product.BuildLines(ctx, db, []product.LineInput{tt.line}, nil, &v); err != nil || fields(v.Err())[tt.field].Key == "" {
				t.Errorf("bad line %+v: %v, want a problem on %s", tt.line, v.Err(), tt.field)
			}
		}
		// A deactivated product is refused on new lines but kept on a
		// record that already has it.
		if _, err := db.Exec("UPDATE products SET active = 0 WHERE id = ?", b); err != nil {
			t.Fatal(err)
		}
		var v errs.Invalid
		product.BuildLines(ctx, db, []product.LineInput{line(b, 1, nil)}, nil, &v)
		if fields(v.Err())["lines[0].product_id"].Key != "product.inactive" {
			t.Errorf("inactive product accepted: %v", v.Err())
		}
		v = errs.Invalid{}
		product.BuildLines(ctx, db, []product.LineInput{line(b, 1, nil)}, map[int64]bool{b: true}, &v)
		if v.Err() != nil {
			t.Errorf("inactive product already on the record refused: %v", v.Err())
		}
	})
}

func TestSeedDemo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			if err := product.SeedDemo(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		db.Get(&n, "SELECT COUNT(*) FROM products WHERE active = 1")
		if n != 6 {
			t.Fatalf("demo products after seeding twice: %d, want 6", n)
		}
	})
}
