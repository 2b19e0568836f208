package customer_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var searchSeeds = [][3]string{
	{"王芳", "杭州瑞丰科技有限公司", "138 0013 8000"}, {"ACME", "ACME Trading", "+86 (21) 5555-0101"},
	{"İstanbul Kelvin \u212a", "ǅungla", "1234567"}, {"a\x1fb", "c", ""}, {"\xff\xfe", "x\x00y", "12"},
}

// FuzzSearchGrams checks the index against its definition on arbitrary
// text: whenever the normalized query is a substring of a customer's
// search text, every gram the search looks up is among the customer's
// index grams (so the index never hides a match), and no normalized query
// can contain the field separator (so no match spans two fields).
func FuzzSearchGrams(f *testing.F) {
	for _, s := range searchSeeds {
		f.Add(s[0], s[1], s[2], s[0][:len(s[0])/2])
	}
	f.Add("王芳", "", "13800138000", "0013")
	f.Add("王芳", "", "13800138000", "138-0013")
	f.Fuzz(func(t *testing.T, name, company, phone, q string) {
		text := customer.SearchTextOf(&customer.Customer{Name: name, Company: company, Phone: phone})
		nq := customer.NormalizeQuery(q)
		if strings.Contains(nq, "\x1f") {
			t.Fatalf("normalized query %q holds the field separator", nq)
		}
		grams := customer.Grams(text)
		if len(grams) != len(slices.Compact(slices.Sorted(slices.Values(grams)))) {
			t.Fatalf("Grams(%q) repeats a gram", text)
		}
		if nq == "" || !strings.Contains(text, nq) {
			return
		}
		for _, g := range customer.QueryGrams(nq) {
			if !slices.Contains(grams, g) {
				t.Fatalf("text %q contains query %q but lacks its gram %x", text, nq, g)
			}
		}
	})
}

// FuzzSearch runs the real search on SQLite: each input adds a customer
// (when its name is valid) and searches; the found customers must be
// exactly those a plain substring scan finds among all created so far.
func FuzzSearch(f *testing.F) {
	for _, s := range searchSeeds {
		f.Add(s[0], s[1], s[0])
	}
	f.Add("张三", "上海", "三上") // spans two fields: must not match
	f.Add("李四", "", "%")
	f.Add("赵_五", "", "_")
	db := storetest.SQLite(f)
	ctx := context.Background()
	admin, svc := searchFixture(f, ctx, db)
	var all []customer.Customer
	f.Fuzz(func(t *testing.T, name, company, q string) {
		if c, err := svc.Create(ctx, admin, customer.Input{Name: &name, Company: &company}); err == nil {
			all = append(all, *c)
		}
		items, total, err := svc.List(ctx, admin, customer.Filter{Q: q, PageSize: 100, Sort: "created_at"})
		if err != nil {
			return // an invalid query (too long) is refused, not searched
		}
		var want, got []int64
		for _, c := range all {
			if naiveMatch(c, q) {
				want = append(want, c.ID)
			}
		}
		for _, it := range items {
			got = append(got, it.ID)
		}
		if total != len(want) || (len(want) <= 100 && !slices.Equal(got, want)) {
			t.Fatalf("q=%q: search found %v (total %d), substring scan %v", q, got, total, want)
		}
		// Sorted by update time the search is answered from the index rows
		// alone (postings_search.go); it must find the same customers.
		items, total, err = svc.List(ctx, admin, customer.Filter{Q: q, PageSize: 100, Sort: "-updated_at"})
		if err != nil {
			t.Fatalf("q=%q sorted by update: %v", q, err)
		}
		got = got[:0]
		for _, it := range items {
			got = append(got, it.ID)
		}
		slices.Sort(got)
		if total != len(want) || (len(want) <= 100 && !slices.Equal(got, want)) {
			t.Fatalf("q=%q sorted by update: search found %v (total %d), substring scan %v", q, got, total, want)
		}
	})
}
