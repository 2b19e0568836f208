package customer_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestSearchPagesInSQLOrder: a search over one owner's few customers is
// counted, sorted and paged in Go (pageHere); its pages must be exactly the
// ones SQL's ORDER BY gives the same customers, for every time sort in both
// directions, with equal times (the id decides) and NULLs (first
// ascending, last descending).
func TestSearchPagesInSQLOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin, svc := searchFixture(t, ctx, db)
		base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		for i := range 37 {
			name, company, phone := fmt.Sprintf("客户%02d", i), fmt.Sprintf("杭州瑞丰%02d号", i), fmt.Sprintf("1390000%04d", i)
			c, err := svc.Create(ctx, admin, customer.Input{Name: &name, Company: &company, Phone: &phone})
			if err != nil {
				t.Fatal(err)
			}
			at := func(k int) *time.Time { // a few distinct times, so many are equal
				v := base.Add(time.Duration((i*k)%5) * time.Hour)
				return &v
			}
			next, last := at(7), at(3)
			if i%4 == 0 {
				next = nil
			}
			if i%3 == 1 {
				last = nil
			}
			if _, err := db.ExecContext(ctx, "UPDATE customers SET updated_at = ?, created_at = ?, next_follow_at = ?, last_follow_at = ? WHERE id = ?",
				*at(1), *at(2), next, last, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, field := range []string{"updated_at", "created_at", "next_follow_at", "last_follow_at"} {
			for _, sort := range []string{field, "-" + field} {
				for page := 1; page <= 4; page++ {
					f := customer.Filter{OwnerID: admin.UserID, Sort: sort, Page: page, PageSize: 10}
					want, wantTotal, err := svc.List(ctx, admin, f) // no keyword: SQL's ORDER BY
					if err != nil {
						t.Fatal(err)
					}
					f.Q = "瑞丰"
					got, total, err := svc.List(ctx, admin, f)
					if err != nil {
						t.Fatal(err)
					}
					if total != wantTotal || !slices.Equal(ids(got), ids(want)) {
						t.Errorf("sort %s page %d: search %v (total %d), SQL order %v (total %d)",
							sort, page, ids(got), total, ids(want), wantTotal)
					}
				}
			}
		}
	})
}

func ids(cs []customer.Customer) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}
