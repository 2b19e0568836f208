package customer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	. "github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestInsertBatch: a batch gets the IDs of its own rows, is searchable
// while queued for the index and after IndexPending has written its index
// (with the extra fields), and has duplicate keys; and the one-by-one path the
// batch falls back to when the IDs are not its rows works as well.
func TestInsertBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := seed.EnsureRoles(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, err := seed.SimulatedOrg(ctx, db); err != nil {
			t.Fatal(err)
		}
		a, err := auth.NewLoader(db).Load(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		st := NewStore(db)
		batch := func(prefix string, n int) []*Customer {
			var cs []*Customer
			for i := range n {
				name, phone, company := fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("1390000%s%03d", prefix[len(prefix)-1:], i), "批量公司"
				c, err := Validate(a, Input{Name: &name, Phone: &phone, Company: &company})
				if err != nil {
					t.Fatal(err)
				}
				cs = append(cs, c)
			}
			return cs
		}
		cs := batch("批量1", 5)
		extra := make([][]string, 5)
		extra[2] = []string{"韩梅梅", "13811112222"}
		err = db.WithTx(ctx, func(tx *sqlx.Tx) error { return st.InsertBatch(ctx, tx, cs, extra) })
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got, err := st.Get(ctx, db, a, c.ID, false)
			if err != nil || got.Name != c.Name || got.Phone != c.Phone {
				t.Fatalf("customer %d: %+v %v, want %s", c.ID, got, err, c.Name)
			}
		}
		search := func(when string) {
			for q, want := range map[string]int64{"韩梅梅": cs[2].ID, "13811112222": cs[2].ID, "批量14": cs[4].ID} {
				for _, owner := range []int64{0, a.UserID} { // the company's index, and one owner's
					items, total, err := st.List(ctx, a, Filter{Q: q, OwnerID: owner, Sort: "-updated_at", Page: 1, PageSize: 20}, false)
					if err != nil || len(items) != 1 || items[0].ID != want || total != 1 {
						t.Errorf("%s: search %q (owner %d): %+v %d %v", when, q, owner, items, total, err)
					}
				}
			}
		}
		// Queued for the index, the batch is found by its search text.
		if n, err := st.QueueLength(ctx); err != nil || n != 5 {
			t.Fatalf("queued: %d %v, want 5", n, err)
		}
		search("queued")
		if n, err := st.IndexPending(ctx); err != nil || n != 5 {
			t.Fatalf("indexed %d %v, want 5", n, err)
		}
		if n, err := st.QueueLength(ctx); err != nil || n != 0 {
			t.Fatalf("queue after indexing: %d %v", n, err)
		}
		if err := st.CheckIndex(ctx); err != nil {
			t.Fatal(err)
		}
		search("indexed")
		dups, err := st.DuplicatesAmong(ctx, db, []string{PhoneKey(cs[1].Phone)}, []string{NameKey(cs[3].Name, cs[3].Company)})
		if err != nil || len(dups) != 2 || dups[0].ID != cs[1].ID || dups[1].ID != cs[3].ID {
			t.Errorf("duplicates among the batch's keys: %+v %v", dups, err)
		}
		more := batch("批量2", 3)
		err = db.WithTx(ctx, func(tx *sqlx.Tx) error {
			if ok, err := IDsAre(st, ctx, tx, cs, cs[0].ID+1); ok || err != nil {
				return fmt.Errorf("idsAre accepted IDs off by one: %v", err)
			}
			if err := InsertOneByOne(st, ctx, tx, more); err != nil {
				return err
			}
			cs, texts := IndexBatch(more)
			return InsertGramsBatch(ctx, tx, cs, texts)
		})
		if err != nil {
			t.Fatal(err)
		}
		items, _, _ := st.List(ctx, a, Filter{Q: "批量2", Sort: "name", Page: 1, PageSize: 20}, false)
		if len(items) != 3 || items[0].ID != more[0].ID || items[2].ID != more[2].ID {
			t.Errorf("one by one: %+v", items)
		}
	})
}
