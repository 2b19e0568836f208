package customer_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// naiveMatch is the definition keyword search must agree with: a plain
// substring test on lower-cased name and company, or on the phone's digits.
func naiveMatch(c customer.Customer, q string) bool {
	nq := customer.NormalizeQuery(q)
	if nq == "" {
		return true
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, c.Phone)
	return strings.Contains(strings.ToLower(c.Name), nq) || strings.Contains(strings.ToLower(c.Company), nq) ||
		strings.Contains(digits, nq)
}

// TestSearchEqualsSubstringScan loads random customers and checks, for
// many queries, that the indexed search returns exactly the customers a
// plain substring scan would, on every engine.
func TestSearchEqualsSubstringScan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin, svc := searchFixture(t, ctx, db)
		r := rand.New(rand.NewPCG(7, 7))
		var all []customer.Customer
		for i := 0; i < 300; i++ {
			name := seed.Person(r)
			company := seed.Company(r)
			if i%10 == 0 {
				company = "ACME Trading " + company
			}
			phone := seed.Mobile(r)
			in := customer.Input{Name: &name, Company: &company, Phone: &phone}
			c, err := svc.Create(ctx, admin, in)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, *c)
		}
		queries := []string{"王", "王芳", "张伟", "有限公司", "瑞丰", "杭州瑞丰", "科技有限", "acme", "ACME tr", "me tr",
			"138", "1380", "5", "139 12", "(0)", "股份有限公司", "不存在的词", "王王", all[5].Name, all[17].Company[3:12],
			all[42].Phone[3:9], all[99].Name[:3]}
		for _, q := range queries {
			var want []int64
			for _, c := range all {
				if naiveMatch(c, q) {
					want = append(want, c.ID)
				}
			}
			slices.Sort(want)
			// The whole company's index, and one owner's (the two-statement
			// path of an owner-limited search); sorted by creation (the
			// candidate path) and by update (the posting path); a page past
			// the end still reports the total.
			for _, run := range []struct {
				owner int64
				sort  string
			}{{0, "created_at"}, {admin.UserID, "created_at"}, {0, "-updated_at"}, {admin.UserID, "-updated_at"}} {
				owner := run.owner
				var got []int64
				for page := 1; ; page++ {
					items, total, err := svc.List(ctx, admin, customer.Filter{Q: q, OwnerID: owner, Page: page, PageSize: 100, Sort: run.sort})
					if err != nil {
						t.Fatalf("q=%q: %v", q, err)
					}
					if total != len(want) {
						t.Errorf("q=%q owner %d sort %s page %d: total %d, substring scan finds %d", q, owner, run.sort, page, total, len(want))
					}
					for _, it := range items {
						got = append(got, it.ID)
					}
					if len(items) < 100 {
						if len(items) > 0 {
							continue // one more page: past the end
						}
						break
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("q=%q owner %d sort %s: search found %d, substring scan %d", q, owner, run.sort, len(got), len(want))
				}
			}
		}
	})
}

func TestNormalizeQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  王芳 ", "王芳"},
		{"ACME", "acme"},
		{"139-1234 5678", "13912345678"},
		{"+86 (139) 1234", "86139" + "1234"},
		{"a\x1fb", "ab"},
		{"1", "1"},
		{"-", "-"},
		{"100%", "100%"},
	}
	for _, tt := range tests {
		if got := customer.NormalizeQuery(tt.in); got != tt.want {
			t.Errorf("NormalizeQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
