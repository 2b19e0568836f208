package customer_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestPostingSearchEqualsRowSearch: a search answered from the index rows
// alone (count, order and page from one gram's postings) must give exactly
// the page (every field of every row) and total of the candidate path, which tests every customer row,
// after every kind of write that changes what the postings carry: edits
// (update time), owner changes, the pool, the recycle bin and back, equal
// update times (the id decides), contacts' fields and customers still on
// the index queue; for the company's scope, a salesperson's, an owner
// filter and the pool, both sort directions, and pages up to past the end.
func TestPostingSearchEqualsRowSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin, svc := searchFixture(t, ctx, db)
		loader := auth.NewLoader(db)
		var salesID int64
		if err := db.GetContext(ctx, &salesID, `SELECT MIN(ur.user_id) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
			WHERE r.code = 'sales'`); err != nil {
			t.Fatal(err)
		}
		sales, err := loader.Load(ctx, salesID)
		if err != nil {
			t.Fatal(err)
		}
		st := customer.NewStore(db)
		rows := customer.NewService(db, customer.RowsOnly(st), loader, audit.NewService(db))

		var cs []*customer.Customer
		for i := range 40 {
			name := fmt.Sprintf("王芳%02d", i)
			company := []string{"杭州瑞丰电子", "苏州瑞丰贸易", "瑞丰电子科技", "Apex 杭州"}[i%4]
			phone := fmt.Sprintf("1391234%04d", i)
			owner := []int64{admin.UserID, salesID}[i%2]
			c, err := svc.Create(ctx, admin, customer.Input{Name: &name, Company: &company, Phone: &phone, OwnerID: &owner})
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// Equal update times in threes, so the id decides the order.
		base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		for i, c := range cs {
			exec("UPDATE customers SET updated_at = ? WHERE id = ?", base.Add(time.Duration(i/3)*time.Minute), c.ID)
		}
		edited := "王芳改名" // an edit: new search text and update time
		if _, err := svc.Update(ctx, admin, cs[4].ID, customer.Input{Name: &edited, Version: &cs[4].Version}); err != nil {
			t.Fatal(err)
		}
		toSales := salesID // an owner change without a new search text
		c6, err := svc.Get(ctx, admin, cs[6].ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, admin, cs[6].ID, customer.Input{OwnerID: &toSales, Version: &c6.Version}); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{8, 9, 10} {
			if err := svc.Delete(ctx, admin, cs[i].ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Restore(ctx, admin, cs[9].ID); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{12, 13} { // into the public pool, as pool.toPool writes it
			exec("UPDATE customers SET owner_id = 0, department_id = 0, updated_at = ? WHERE id = ?", base.Add(time.Hour), cs[i].ID)
		}
		err = db.WithTx(ctx, func(tx *sqlx.Tx) error { // a contact's name is searchable too
			return st.Reindex(ctx, tx, cs[15].ID, []string{"瑞丰联系人", "13700001111"})
		})
		if err != nil {
			t.Fatal(err)
		}
		var queued []*customer.Customer // bulk-written, still on the index queue
		for i := range 4 {
			name, company, phone := fmt.Sprintf("王芳批量%d", i), "瑞丰电子批量", fmt.Sprintf("1391234%04d", 100+i)
			c, err := customer.Validate(admin, customer.Input{Name: &name, Company: &company, Phone: &phone})
			if err != nil {
				t.Fatal(err)
			}
			queued = append(queued, c)
		}
		if err := db.WithTx(ctx, func(tx *sqlx.Tx) error { return st.InsertBatch(ctx, tx, queued, nil) }); err != nil {
			t.Fatal(err)
		}
		if n, err := st.QueueLength(ctx); err != nil || n != 4 {
			t.Fatalf("queued %d %v, want 4", n, err)
		}

		scopes := []struct {
			name string
			a    *auth.Actor
			f    customer.Filter
		}{
			{"company", admin, customer.Filter{}},
			{"salesperson", sales, customer.Filter{}},
			{"owner filter", admin, customer.Filter{OwnerID: salesID}},
			{"pool", admin, customer.Filter{Pool: true}},
		}
		queries := []string{"王芳", "瑞丰电子", "杭州瑞丰", "apex", "1234", "91234000", "联系人", "王芳改", "不存在"}
		check := func(when string) {
			t.Helper()
			matched := 0
			for _, sc := range scopes {
				for _, q := range queries {
					for _, sort := range []string{"-updated_at", "updated_at"} {
						for page := 1; page <= 5; page++ {
							f := sc.f
							f.Q, f.Sort, f.Page, f.PageSize = q, sort, page, 7
							got, gotTotal, err := svc.List(ctx, sc.a, f)
							if err != nil {
								t.Fatal(err)
							}
							want, wantTotal, err := rows.List(ctx, sc.a, f)
							if err != nil {
								t.Fatal(err)
							}
							if gotTotal != wantTotal || !reflect.DeepEqual(got, want) { // whole rows, names too
								t.Errorf("%s, %s q=%q sort %s page %d: postings %v (total %d), rows %v (total %d)",
									when, sc.name, q, sort, page, ids(got), gotTotal, ids(want), wantTotal)
							}
							matched += len(got)
						}
					}
				}
			}
			if matched < 200 { // the comparison must be about something
				t.Fatalf("%s: only %d rows compared", when, matched)
			}
		}
		check("queued")
		if _, err := st.IndexPending(ctx); err != nil {
			t.Fatal(err)
		}
		check("indexed")
		if err := st.CheckIndex(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestGramTexts: each index row holds exactly the fields that hold its
// gram, each once, so the substring test on it equals the test on the
// whole search text.
func TestGramTexts(t *testing.T) {
	const sep = "\x1f"
	text := "王芳" + sep + "杭州王芳科技" + sep + "13912345678" + sep + "王芳"
	want := map[string]string{
		"王芳":   "王芳" + sep + "杭州王芳科技", // the repeated field appears once
		"杭州":   "杭州王芳科技",
		"13":   "13912345678",
		"5678": "13912345678", // a 4-digit gram
	}
	got := map[int64]string{}
	for _, g := range customer.GramTexts(text) {
		if _, dup := got[g.Gram]; dup {
			t.Fatalf("gram %d twice", g.Gram)
		}
		got[g.Gram] = g.Text
	}
	if len(got) != len(customer.Grams(text)) {
		t.Fatalf("%d rows, Grams gives %d", len(got), len(customer.Grams(text)))
	}
	for q, fields := range want {
		gs := customer.QueryGrams(q)
		if len(gs) != 1 {
			t.Fatalf("%q: %d grams", q, len(gs))
		}
		if got[gs[0]] != fields {
			t.Errorf("%q: row holds %q, want %q", q, got[gs[0]], fields)
		}
	}
}

// TestFilterFieldsKnownToPostings: the posting search knows only owner,
// update time and whether a customer is live, so planPostings must send
// any search with another filter to the candidate path. A new Filter
// field fails here until planPostings has been taught about it.
func TestFilterFieldsKnownToPostings(t *testing.T) {
	known := map[string]bool{"Q": true, "OwnerID": true, "DepartmentID": true, "Level": true, "Status": true,
		"Source": true, "Industry": true, "Tag": true, "CreatedFrom": true, "CreatedTo": true, "NextFollowFrom": true,
		"NextFollowTo": true, "Sort": true, "Page": true, "PageSize": true, "Pool": true, "DepartmentIDs": true,
		"SegmentCond": true, "SegmentArgs": true}
	typ := reflect.TypeOf(customer.Filter{})
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; !known[name] {
			t.Errorf("Filter.%s is new: make planPostings (postings_search.go) refuse the posting path when it is set, then add it here", name)
		}
	}
}

// TestPlanPostings: which searches are answered from the postings, in
// which owner scope, and which go the candidate path ("").
func TestPlanPostings(t *testing.T) {
	admin := &auth.Actor{UserID: 1, Scope: auth.ScopeAll}
	sales := &auth.Actor{UserID: 6, Scope: auth.ScopeSelf}
	manager := &auth.Actor{UserID: 2, Scope: auth.ScopeDeptTree, ScopeDeptIDs: []int64{3, 4}}
	lonelyManager := &auth.Actor{UserID: 5, Scope: auth.ScopeDept}
	noPhones := &auth.Actor{UserID: 7, Scope: auth.ScopeSelf, Fields: auth.FieldPolicy{customer.FieldPhone: auth.FieldHidden}}
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		a       *auth.Actor
		f       customer.Filter
		deleted bool
		want    string
	}{
		{"admin, default sort", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, false, "> 0"},
		{"admin, oldest first", admin, customer.Filter{Q: "瑞丰", Sort: "updated_at"}, false, "> 0"},
		{"admin, owner filter", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at", OwnerID: 9}, false, "= 9"},
		{"salesperson", sales, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, false, "= 6"},
		{"salesperson filtering on their own id", sales, customer.Filter{Q: "瑞丰", Sort: "-updated_at", OwnerID: 6}, false, "= 6"},
		{"salesperson filtering on someone else", sales, customer.Filter{Q: "瑞丰", Sort: "-updated_at", OwnerID: 9}, false, ""},
		{"manager of departments", manager, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, false, ""},
		{"manager without departments: own customers", lonelyManager, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, false, "= 5"},
		{"pool", nil, customer.Filter{Q: "瑞丰", Sort: "-updated_at", Pool: true}, false, "= 0"},
		{"recycle bin", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, true, ""},
		{"sorted by creation", admin, customer.Filter{Q: "瑞丰", Sort: "-created_at"}, false, ""},
		{"a level filter", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at", Level: "a"}, false, ""},
		{"a tag filter", sales, customer.Filter{Q: "瑞丰", Sort: "-updated_at", Tag: "重点"}, false, ""},
		{"a department filter", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at", DepartmentIDs: []int64{3}}, false, ""},
		{"a date range", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at", CreatedFrom: &since}, false, ""},
		{"digits, phones hidden: name or company must match", noPhones, customer.Filter{Q: "1380", Sort: "-updated_at"}, false, ""},
		{"words, phones hidden", noPhones, customer.Filter{Q: "瑞丰", Sort: "-updated_at"}, false, "= 7"},
		{"a segment", admin, customer.Filter{Q: "瑞丰", Sort: "-updated_at", SegmentCond: "c.level = ?"}, false, ""},
	} {
		if got := customer.PlanPostings(c.a, c.f, c.deleted); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// postingsVersion is the migration that gives index rows their text, time
// and live flag.
const postingsVersion = 18

// TestPostingsMigrationRebuildsIndex upgrades a database whose index has
// the old shape: the migration queues every customer (live and deleted),
// search stays exact while they wait, and the indexer then writes rows
// that CheckIndex finds exact, with the deleted customer's not live.
func TestPostingsMigrationRebuildsIndex(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.MigratedTo(t, e.Name, postingsVersion-1)
			now := store.Now()
			for i, c := range []struct {
				name, company string
				deleted       bool
			}{{"王芳", "杭州瑞丰电子", false}, {"李雷", "瑞丰贸易", false}, {"韩梅梅", "瑞丰电子", true}} {
				var deleted any
				if c.deleted {
					deleted = now
				}
				text := customer.SearchText(c.name, c.company, "")
				res, err := db.ExecContext(ctx, `INSERT INTO customers (name, phone, company, note, owner_id, department_id,
					created_by, created_at, updated_at, deleted_at, search_text) VALUES (?, '', ?, '', 1, 1, 1, ?, ?, ?, ?)`,
					c.name, c.company, now.Add(time.Duration(i)*time.Second), now.Add(time.Duration(i)*time.Second), deleted, text)
				if err != nil {
					t.Fatal(err)
				}
				id, _ := res.LastInsertId()
				for _, g := range customer.Grams(text) { // the old index: key only
					if _, err := db.ExecContext(ctx, "INSERT INTO customer_grams (gram, owner_id, customer_id) VALUES (?, 1, ?)", g, id); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			st := customer.NewStore(db)
			if n, err := st.QueueLength(ctx); err != nil || n != 3 {
				t.Fatalf("queued %d %v, want all 3", n, err)
			}
			admin := &auth.Actor{UserID: 1, Scope: auth.ScopeAll}
			search := func(when string) {
				t.Helper()
				items, total, err := st.List(ctx, admin, customer.Filter{Q: "瑞丰电子", Sort: "-updated_at", Page: 1, PageSize: 20}, false)
				if err != nil || total != 1 || len(items) != 1 || items[0].Name != "王芳" {
					t.Errorf("%s: %d found (%+v), %v; want 王芳 only (韩梅梅 is in the recycle bin)", when, total, items, err)
				}
			}
			search("queued")
			if n, err := st.IndexPending(ctx); err != nil || n != 3 {
				t.Fatalf("indexed %d %v, want 3", n, err)
			}
			search("indexed")
			if err := st.CheckIndex(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
