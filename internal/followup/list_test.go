package followup_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestListEqualsPlainScope: the list, read in index-served parts and
// merged, gives exactly the pages and totals of the one plain query it
// replaced ("the customer is in my scope OR I wrote it"), for every kind
// of scope, with filters, on every page, with ties in the follow-up time,
// with follow-ups written on customers since handed to someone outside
// the reader's scope, and with deleted follow-ups and customers.
func TestListEqualsPlainScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		people := []string{"sim_admin", "sim_mgr1", "sim_mgr2", "sim_s1", "sim_s2", "sim_s3", "sim_s5", "sim_s8"}
		actors := map[string]*auth.Actor{}
		for _, p := range people {
			actors[p] = f.actor(p)
		}
		rng := rand.New(rand.NewPCG(7, 11))
		var customers []int64
		for i := range 24 {
			owner := actors[people[3+i%5]]
			customers = append(customers, f.customer(owner, fmt.Sprintf("列表客户%d", i)).ID)
		}
		base := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
		methods := followup.Methods
		for i := range 300 {
			author := actors[people[rng.IntN(len(people))]]
			cid := customers[rng.IntN(len(customers))]
			// Every third time falls on the same minute as another: ties.
			at := base.Add(time.Duration(rng.IntN(200)) * time.Minute)
			var deleted any
			if i%17 == 0 {
				deleted = at
			}
			if _, err := db.Exec(`INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content,
				result, next_step, created_by, created_at, updated_at, version, deleted_at) VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?, ?, 1, ?)`,
				cid, author.UserID, author.PrimaryDeptID, at, methods[i%len(methods)], fmt.Sprintf("跟进%d", i),
				author.UserID, at, at, deleted); err != nil {
				t.Fatal(err)
			}
		}
		// Hand some customers to people in other departments, so authors
		// keep follow-ups on customers outside their scope; bin two.
		for i, cid := range customers[:8] {
			to := actors[people[3+(i+2)%5]]
			if _, err := db.Exec("UPDATE customers SET owner_id = ?, department_id = ? WHERE id = ?", to.UserID, to.PrimaryDeptID, cid); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec("UPDATE customers SET deleted_at = ? WHERE id IN (?, ?)", base, customers[9], customers[14]); err != nil {
			t.Fatal(err)
		}
		from, to := base.Add(30*time.Minute), base.Add(150*time.Minute)
		filters := []followup.Filter{
			{},
			{CustomerID: customers[3]},
			{CustomerID: customers[5]},
			{OwnerID: actors["sim_s1"].UserID},
			{DepartmentID: 2},
			{DepartmentIDs: []int64{3, 4}},
			{Method: methods[1]},
			{From: &from, To: &to},
			{Method: methods[0], From: &from},
		}
		for _, who := range people {
			a := actors[who]
			for fi, flt := range filters {
				want := plainList(t, db, a, flt)
				for _, size := range []int{7, 20} {
					for page := 1; page <= len(want)/size+2; page++ {
						flt.Page, flt.PageSize = page, size
						items, total, err := f.followups.List(f.ctx, a, flt)
						if err != nil {
							t.Fatal(err)
						}
						if total != len(want) {
							t.Fatalf("%s filter %d: total %d, want %d", who, fi, total, len(want))
						}
						var got []int64
						for _, it := range items {
							got = append(got, it.ID)
						}
						lo, hi := min(len(want), (page-1)*size), min(len(want), page*size)
						if !slices.Equal(got, want[lo:hi]) && !(len(got) == 0 && lo == hi) {
							t.Fatalf("%s filter %d page %d/%d: %v, want %v", who, fi, page, size, got, want[lo:hi])
						}
					}
				}
			}
		}
	})
}

// plainList is the reference: the one-statement list before it was split
// (the OR of the two scopes), all matching ids in list order.
func plainList(t *testing.T, db *store.DB, a *auth.Actor, f followup.Filter) []int64 {
	t.Helper()
	custCond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	ownCond, ownArgs := a.ScopeFilter("f.owner_id", "f.department_id")
	where := []string{"f.deleted_at IS NULL", "c.deleted_at IS NULL", "(" + custCond + " OR " + ownCond + ")"}
	args = append(args, ownArgs...)
	// The filters are the list's own (not under test here: the scope is).
	filters, filterArgs := followup.ListFilters(f)
	where, args = append(where, filters...), append(args, filterArgs...)
	var ids []int64
	if err := db.Select(&ids, "SELECT f.id FROM followups f JOIN customers c ON c.id = f.customer_id WHERE "+
		strings.Join(where, " AND ")+" ORDER BY f.followed_at DESC, f.id DESC", args...); err != nil {
		t.Fatal(err)
	}
	return ids
}
