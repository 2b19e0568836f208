package customer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestReindexKeepsSubstringEquivalence gives customers extra searchable
// fields (as the contact service does with contact names and phones), edits
// some customers afterwards, and checks for many queries that search still
// returns exactly the customers whose name, company, phone digits or extra
// fields contain the query, on every engine.
func TestReindexKeepsSubstringEquivalence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin, svc := searchFixture(t, ctx, db)
		st := customer.NewStore(db)
		r := rand.New(rand.NewPCG(11, 3))
		type row struct {
			c     customer.Customer
			extra []string
		}
		var rows []*row
		for i := 0; i < 80; i++ {
			name, company, phone := seed.Person(r)+fmt.Sprint(i), seed.Company(r), seed.Mobile(r)
			c, err := svc.Create(ctx, admin, customer.Input{Name: &name, Company: &company, Phone: &phone})
			if err != nil {
				t.Fatal(err)
			}
			rw := &row{c: *c}
			for j := r.IntN(3); j > 0; j-- {
				rw.extra = append(rw.extra, seed.Person(r), seed.Mobile(r))
			}
			if i%7 == 0 {
				rw.extra = append(rw.extra, "Mixed CASE Name")
			}
			reindex(t, db, st, c.ID, rw.extra)
			rows = append(rows, rw)
		}
		// Edits of the customer's own fields keep the extra fields.
		for i := 0; i < len(rows); i += 5 {
			name := rows[i].c.Name + "改"
			phone := seed.Mobile(r)
			c, err := svc.Update(ctx, admin, rows[i].c.ID, customer.Input{Name: &name, Phone: &phone, Version: &rows[i].c.Version})
			if err != nil {
				t.Fatal(err)
			}
			rows[i].c = *c
		}
		// Clearing the extra fields makes them unsearchable again.
		rows[3].extra = nil
		reindex(t, db, st, rows[3].c.ID, nil)

		// rows[0] has "Mixed CASE Name" and was edited: its extra survived.
		if got := searchIDs(t, ctx, svc, admin, "mixed case n"); !slices.Contains(got, rows[0].c.ID) {
			t.Errorf("an edited customer lost its extra fields: %v", got)
		}
		queries := []string{"王", "有限公司", "mixed case", "CASE n", "138", "139 12", "改", "不存在的词"}
		for _, i := range []int{1, 2, 3, 4, 14, 21, 40, 77} {
			if len(rows[i].extra) >= 2 {
				queries = append(queries, rows[i].extra[0], rows[i].extra[1][2:8])
			}
		}
		queries = append(queries, "卫"+rows[3].c.Name) // nobody
		for _, q := range queries {
			nq := customer.NormalizeQuery(q)
			var want []int64
			for _, rw := range rows {
				fields := append([]string{strings.ToLower(rw.c.Name), strings.ToLower(rw.c.Company), digitsOf(rw.c.Phone)}, rw.extra...)
				for _, f := range fields {
					if strings.Contains(strings.ToLower(f), nq) {
						want = append(want, rw.c.ID)
						break
					}
				}
			}
			got := searchIDs(t, ctx, svc, admin, q)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("q=%q: search found %v, substring scan %v", q, got, want)
			}
		}
	})
}

func searchFixture(t testing.TB, ctx context.Context, db *store.DB) (*auth.Actor, *customer.Service) {
	t.Helper()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	loader := auth.NewLoader(db)
	admin, err := loader.Load(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return admin, customer.NewService(db, customer.NewStore(db), loader, audit.NewService(db))
}

func reindex(t *testing.T, db *store.DB, st *customer.Store, id int64, extra []string) {
	t.Helper()
	if err := db.WithTx(context.Background(), func(tx *sqlx.Tx) error { return st.Reindex(context.Background(), tx, id, extra) }); err != nil {
		t.Fatal(err)
	}
}

func searchIDs(t *testing.T, ctx context.Context, svc *customer.Service, a *auth.Actor, q string) []int64 {
	t.Helper()
	var got []int64
	for page := 1; ; page++ {
		items, _, err := svc.List(ctx, a, customer.Filter{Q: q, Page: page, PageSize: 100, Sort: "created_at"})
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		for _, it := range items {
			got = append(got, it.ID)
		}
		if len(items) < 100 {
			break
		}
	}
	slices.Sort(got)
	return got
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// TestAssignRestartsOwnerSince: handing a customer to someone else through
// an edit restarts the pool's reclaim clock, on both engines.
func TestAssignRestartsOwnerSince(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed.EnsureRoles(ctx, db)
		seed.SimulatedOrg(ctx, db)
		loader := auth.NewLoader(db)
		var mgrID, s1, s2 int64
		db.Get(&mgrID, "SELECT id FROM users WHERE userid = 'sim_mgr1'")
		db.Get(&s1, "SELECT id FROM users WHERE userid = 'sim_s1'")
		db.Get(&s2, "SELECT id FROM users WHERE userid = 'sim_s2'")
		mgr, _ := loader.Load(ctx, mgrID)
		svc := customer.NewService(db, customer.NewStore(db), loader, audit.NewService(db))
		name := "时钟测试"
		c, err := svc.Create(ctx, mgr, customer.Input{Name: &name, OwnerID: &s1})
		if err != nil {
			t.Fatal(err)
		}
		db.Exec("UPDATE customers SET owner_since = NULL WHERE id = ?", c.ID)
		note := "只改备注"
		v := c.Version
		if c, err = svc.Update(ctx, mgr, c.ID, customer.Input{Note: &note, Version: &v}); err != nil {
			t.Fatal(err)
		}
		var since *time.Time
		db.Get(&since, "SELECT owner_since FROM customers WHERE id = ?", c.ID)
		if since != nil {
			t.Fatal("owner_since set by an edit that kept the owner")
		}
		v = c.Version
		if _, err = svc.Update(ctx, mgr, c.ID, customer.Input{OwnerID: &s2, Version: &v}); err != nil {
			t.Fatal(err)
		}
		db.Get(&since, "SELECT owner_since FROM customers WHERE id = ?", c.ID)
		if since == nil || time.Since(*since) > time.Minute {
			t.Fatalf("owner_since not restarted on reassignment: %v", since)
		}
	})
}

// TestOwnerChangeKeepsIndex: the search index carries the owner, and a
// salesperson's search reads only their own index rows; an edit that only
// moves the customer, and one that also renames it, both keep it true.
func TestOwnerChangeKeepsIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed.EnsureRoles(ctx, db)
		seed.SimulatedOrg(ctx, db)
		loader := auth.NewLoader(db)
		load := func(userid string) *auth.Actor {
			var id int64
			db.Get(&id, "SELECT id FROM users WHERE userid = ?", userid)
			a, err := loader.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		mgr, s1, s2 := load("sim_mgr1"), load("sim_s1"), load("sim_s2")
		st := customer.NewStore(db)
		svc := customer.NewService(db, st, loader, audit.NewService(db))
		found := func(a *auth.Actor, q string) int {
			_, n, err := svc.List(ctx, a, customer.Filter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		name := "索引归属测试"
		c, err := svc.Create(ctx, mgr, customer.Input{Name: &name, OwnerID: &s1.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if found(s1, "归属") != 1 || found(s2, "归属") != 0 || found(mgr, "归属") != 1 {
			t.Fatal("search before the move")
		}
		v := c.Version
		if c, err = svc.Update(ctx, mgr, c.ID, customer.Input{OwnerID: &s2.UserID, Version: &v}); err != nil {
			t.Fatal(err)
		}
		if err := st.CheckIndex(ctx); err != nil {
			t.Fatalf("after a move: %v", err)
		}
		if found(s1, "归属") != 0 || found(s2, "归属") != 1 || found(mgr, "归属") != 1 {
			t.Fatal("search after the move")
		}
		renamed, v := "改名归属测试", c.Version
		if _, err = svc.Update(ctx, mgr, c.ID, customer.Input{Name: &renamed, OwnerID: &s1.UserID, Version: &v}); err != nil {
			t.Fatal(err)
		}
		if err := st.CheckIndex(ctx); err != nil {
			t.Fatalf("after a move with a new name: %v", err)
		}
		if found(s1, "改名") != 1 || found(s2, "改名") != 0 {
			t.Fatal("search after the move with a new name")
		}
	})
}
