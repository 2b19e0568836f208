package customer_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// tableExists reports whether this database has the table (the records
// modules arrive with their own migrations).
func tableExists(f *dupFixture, name string) bool {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if f.db.Dialect == store.MySQL {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	}
	var n int
	if err := f.db.Get(&n, q, name); err != nil {
		f.t.Fatal(err)
	}
	return n == 1
}

// TestMerge merges B into A: B's contacts and follow-ups (where those tables
// exist) move to A, A's empty fields are filled from B, B goes to the
// recycle bin marked merged_into, both timelines get an entry, and the
// duplicate keys and search follow.
func TestMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDupFixture(t, db)
		admin, s1, s2 := f.actor("sim_admin"), f.actor("sim_s1"), f.actor("sim_s2")
		a := f.mustCreate(s1, "合并甲", "", "")
		b := f.mustCreate(s2, "合并乙", "13955550000", "乙公司")
		addr, note, level := "乙地址", "", "b"
		tags := []string{"老客户"}
		in := customer.Input{Address: &addr, Note: &note, Level: &level, Version: &b.Version}
		in.SetTags(tags)
		b, err := f.svc.Update(f.ctx, s2, b.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		followed := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		db.Exec("UPDATE customers SET last_follow_at = ? WHERE id = ?", followed, b.ID)

		hasContacts, hasFollowups := tableExists(f, "contacts"), tableExists(f, "followups")
		now := store.Now()
		if hasContacts {
			for _, c := range []struct {
				customer int64
				name     string
				primary  bool
			}{{a.ID, "甲联系人", true}, {b.ID, "乙联系人", true}, {b.ID, "乙助理", false}} {
				if _, err := db.Exec(`INSERT INTO contacts (customer_id, name, notes, is_primary, created_by, created_at, updated_at)
					VALUES (?, ?, '', ?, 1, ?, ?)`, c.customer, c.name, c.primary, now, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		if hasFollowups {
			for i := 0; i < 2; i++ {
				if _, err := db.Exec(`INSERT INTO followups (customer_id, owner_id, department_id, followed_at, method, content,
					created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'call', '电话', ?, ?, ?)`,
					b.ID, s2.UserID, s2.PrimaryDeptID, now, s2.UserID, now, now); err != nil {
					t.Fatal(err)
				}
			}
		}

		// Bad input and missing permission write nothing.
		var audits0 int
		db.Get(&audits0, "SELECT COUNT(*) FROM audit_log")
		bad := []struct {
			who  string
			into int64
			from *int64
			kind errs.Kind
		}{
			{"sim_admin", a.ID, nil, errs.KindInvalid},
			{"sim_admin", a.ID, &a.ID, errs.KindInvalid},
			{"sim_admin", a.ID, ptr(int64(999999)), errs.KindInvalid},
			{"sim_admin", 999999, &b.ID, errs.KindNotFound},
			{"sim_mgr1", a.ID, &b.ID, errs.KindForbidden},
			{"sim_s1", a.ID, &b.ID, errs.KindForbidden},
		}
		for _, tt := range bad {
			if _, err := f.svc.Merge(f.ctx, f.actor(tt.who), tt.into, customer.MergeInput{FromID: tt.from}); errs.KindOf(err) != tt.kind {
				t.Errorf("%s merge %d←%v: %v, want kind %d", tt.who, tt.into, tt.from, err, tt.kind)
			}
		}
		var audits1 int
		db.Get(&audits1, "SELECT COUNT(*) FROM audit_log")
		if audits1 != audits0 {
			t.Fatal("a refused merge wrote to the log")
		}

		res, err := f.svc.Merge(f.ctx, admin, a.ID, customer.MergeInput{FromID: &b.ID})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Customer
		if got.Phone != "13955550000" || got.Company != "乙公司" || got.Address != "乙地址" || got.Level != "b" ||
			got.Name != "合并甲" || !slices.Equal(got.Tags, tags) || got.OwnerID != s1.UserID {
			t.Errorf("A after merge: %+v", got)
		}
		if got.LastFollowAt == nil || !got.LastFollowAt.Equal(followed) {
			t.Errorf("last follow-up not taken from B: %v", got.LastFollowAt)
		}
		for _, field := range []string{"phone", "company", "address", "level", "tags"} {
			if !slices.Contains(res.Filled, field) {
				t.Errorf("filled %v lacks %s", res.Filled, field)
			}
		}
		var mergedInto sql.NullInt64
		var bPhoneKey sql.NullString
		db.QueryRow("SELECT merged_into, phone_key FROM customers WHERE id = ? AND deleted_at IS NOT NULL", b.ID).Scan(&mergedInto, &bPhoneKey)
		if mergedInto.Int64 != a.ID || bPhoneKey.Valid {
			t.Errorf("B: merged_into %v, phone_key %v", mergedInto, bPhoneKey)
		}
		if hasContacts {
			var n, primaries int
			db.Get(&n, "SELECT COUNT(*) FROM contacts WHERE customer_id = ?", a.ID)
			db.Get(&primaries, "SELECT COUNT(*) FROM contacts WHERE customer_id = ? AND is_primary = 1", a.ID)
			if n != 3 || primaries != 1 || res.Moved["contacts"] != 2 {
				t.Errorf("contacts: %d on A, %d primary, moved %v", n, primaries, res.Moved)
			}
		}
		if hasFollowups {
			var n int
			db.Get(&n, "SELECT COUNT(*) FROM followups WHERE customer_id = ?", a.ID)
			if n != 2 || res.Moved["followups"] != 2 {
				t.Errorf("follow-ups: %d on A, moved %v", n, res.Moved)
			}
		}
		// A now holds B's phone: a new customer with it names A.
		if _, err := f.create(s1, "又一个", "139 5555 0000", ""); err == nil {
			t.Error("B's phone is free after the merge")
		} else if _, v := dupOf(t, err); v.ID != a.ID {
			t.Errorf("duplicate names %+v, want A", v)
		}
		if ids := searchIDs(t, f.ctx, f.svc, admin, "13955550000"); !slices.Equal(ids, []int64{a.ID}) {
			t.Errorf("search by B's phone: %v", ids)
		}
		// Both timelines tell the story.
		for _, c := range []struct {
			id   int64
			want string
		}{{a.ID, "merged_from"}, {b.ID, "merged_into"}} {
			var changes string
			if err := db.Get(&changes, "SELECT changes FROM audit_log WHERE customer_id = ? AND action = 'merge'", c.id); err != nil {
				t.Fatalf("no merge entry on %d: %v", c.id, err)
			}
			if !strings.Contains(changes, c.want) {
				t.Errorf("merge entry on %d: %s", c.id, changes)
			}
		}
		if err := customer.NewStore(db).CheckIndex(f.ctx); err != nil {
			t.Errorf("after the merge: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
