package contact_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestContactFieldsAndAudit creates, edits and deletes a contact and checks
// the stored values, the version and the audit entries on the customer's
// timeline.
func TestContactFieldsAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "字段测试客户")
		c := f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr(" 欧阳娜娜 "), Title: ptr("采购经理"),
			Phones: &[]string{"139 1234 5678", "021-6888 8888", "+86 13912345678", ""}, Email: ptr("nana@example.com"),
			WeChat: ptr("nana_2026"), Birthday: contact.Opt[string]{Set: true, Value: ptr("1990-05-17")}, Notes: ptr("喜欢喝茶")})
		if c.Name != "欧阳娜娜" || !slices.Equal(c.Phones, []string{"13912345678", "021-68888888"}) || c.Birthday == nil ||
			*c.Birthday != "1990-05-17" || c.CustomerName != "字段测试客户" || c.Version != 1 || !c.IsPrimary || c.CreatedByName != "王芳" {
			t.Fatalf("created: %+v", c)
		}
		edited, err := f.contacts.Update(f.ctx, s1, c.ID, contact.Input{Version: ptr(1), Title: ptr("总经理"),
			Birthday: contact.Opt[string]{Set: true}, Phones: &[]string{"13800001111"}})
		if err != nil {
			t.Fatal(err)
		}
		if edited.Title != "总经理" || edited.Birthday != nil || !slices.Equal(edited.Phones, []string{"13800001111"}) ||
			edited.Email != c.Email || edited.Version != 2 {
			t.Fatalf("edited: %+v", edited)
		}
		if _, err := f.contacts.Update(f.ctx, s1, c.ID, contact.Input{Version: ptr(1), Title: ptr("x")}); !errors.Is(err, contact.ErrStale) {
			t.Fatalf("stale edit: %v", err)
		}
		if err := f.contacts.Delete(f.ctx, s1, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.contacts.Get(f.ctx, s1, c.ID); !errors.Is(err, contact.ErrNotFound) {
			t.Fatalf("deleted contact readable: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM contacts WHERE id = ? AND deleted_at IS NOT NULL", c.ID); n != 1 {
			t.Fatal("delete was not a soft delete")
		}
		items, total, err := f.customers.Timeline(f.ctx, s1, cu.ID, 1, 20)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, it := range items {
			if it.Entity == "contact" && it.EntityID == c.ID {
				actions = append(actions, it.Action)
			}
		}
		if !slices.Equal(actions, []string{"delete", "update", "create"}) || total != 4 {
			t.Fatalf("timeline: %v (total %d)", actions, total)
		}
		upd := items[1].Changes
		if upd["title"].Old != "采购经理" || upd["title"].New != "总经理" || upd["birthday"].Old != "1990-05-17" {
			t.Errorf("update audit: %+v", upd)
		}
	})
}

// TestPrimaryContact walks the primary-contact rules: the first contact is
// primary, asking for another demotes the old one, the primary cannot just
// stop being primary, and deleting it promotes the oldest remaining one.
// After every step exactly one live contact is primary.
func TestPrimaryContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "主联系人测试")
		ids := map[string]int64{}
		version := func(name string) *int {
			c, err := f.contacts.Get(f.ctx, s1, ids[name])
			if err != nil {
				t.Fatal(err)
			}
			return &c.Version
		}
		steps := []struct {
			name    string
			do      func() error
			primary string
			field   string // a 400 on this field is expected
		}{
			{"first is primary", func() error { return f.add(s1, cu.ID, "甲", nil, ids) }, "甲", ""},
			{"second is not", func() error { return f.add(s1, cu.ID, "乙", nil, ids) }, "甲", ""},
			{"explicit false on a later one", func() error { return f.add(s1, cu.ID, "丙", ptr(false), ids) }, "甲", ""},
			{"new primary demotes", func() error { return f.add(s1, cu.ID, "丁", ptr(true), ids) }, "丁", ""},
			{"edit makes primary", func() error {
				_, err := f.contacts.Update(f.ctx, s1, ids["乙"], contact.Input{Version: version("乙"), IsPrimary: ptr(true)})
				return err
			}, "乙", ""},
			{"primary cannot unset itself", func() error {
				_, err := f.contacts.Update(f.ctx, s1, ids["乙"], contact.Input{Version: version("乙"), IsPrimary: ptr(false)})
				return err
			}, "乙", "is_primary"},
			{"deleting the primary promotes the oldest", func() error { return f.contacts.Delete(f.ctx, s1, ids["乙"]) }, "甲", ""},
			{"deleting another keeps it", func() error { return f.contacts.Delete(f.ctx, s1, ids["丙"]) }, "甲", ""},
			{"delete primary again", func() error { return f.contacts.Delete(f.ctx, s1, ids["甲"]) }, "丁", ""},
			{"last one deleted", func() error { return f.contacts.Delete(f.ctx, s1, ids["丁"]) }, "", ""},
			{"first again after none", func() error { return f.add(s1, cu.ID, "戊", ptr(false), ids) }, "戊", ""},
		}
		for _, st := range steps {
			err := st.do()
			if st.field != "" {
				if e := new(errs.Error); !errors.As(err, &e) || e.Fields[st.field].Key == "" {
					t.Fatalf("%s: want a problem with %s, got %v", st.name, st.field, err)
				}
			} else if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			var primaries []string
			if err := db.Select(&primaries, "SELECT name FROM contacts WHERE customer_id = ? AND deleted_at IS NULL AND is_primary = 1", cu.ID); err != nil {
				t.Fatal(err)
			}
			want := []string{st.primary}
			if st.primary == "" {
				want = nil
			}
			if !slices.Equal(primaries, want) {
				t.Fatalf("%s: primary contacts %v, want %v", st.name, primaries, want)
			}
		}
		items, _, err := f.contacts.List(f.ctx, s1, contact.Filter{CustomerID: cu.ID})
		if err != nil || len(items) != 1 || items[0].Name != "戊" {
			t.Fatalf("list after the steps: %v %+v", err, items)
		}
		// Every change of a primary flag is on the timeline, demotions too.
		n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'contact' AND customer_id = ? AND changes LIKE '%is_primary%'", cu.ID)
		if n < 9 {
			t.Errorf("only %d audit entries mention is_primary", n)
		}
	})
}

func (f *fixture) add(a *auth.Actor, customerID int64, name string, primary *bool, ids map[string]int64) error {
	c, err := f.contacts.Create(f.ctx, a, contact.Input{CustomerID: &customerID, Name: &name, IsPrimary: primary})
	if err == nil {
		ids[name] = c.ID
	}
	return err
}

// TestListPrimaryFirst checks a customer's list puts the primary first and
// that q matches name, phone and e-mail.
func TestListPrimaryFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "列表测试")
		f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("张一"), Phones: &[]string{"13700000001"}})
		f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("李二"), Email: ptr("li@corp.example")})
		f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("王三"), IsPrimary: ptr(true)})
		f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("赵四"), Title: ptr(`打折100%_!\`)})
		tests := []struct {
			q    string
			want []string
		}{
			{"", []string{"王三", "张一", "李二", "赵四"}},
			{"李", []string{"李二"}},
			{"0000001", []string{"张一"}},
			{"corp.example", []string{"李二"}},
			{"100%", []string{"赵四"}},
			{"%_!", []string{"赵四"}},
			{`!\`, []string{"赵四"}},
			{"_", []string{"赵四"}},
			{"1%", nil},
		}
		for _, tt := range tests {
			items, total, err := f.contacts.List(f.ctx, s1, contact.Filter{CustomerID: cu.ID, Q: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, it := range items {
				names = append(names, it.Name)
			}
			if !slices.Equal(names, tt.want) || total != len(tt.want) {
				t.Errorf("q=%q: %v (total %d), want %v", tt.q, names, total, tt.want)
			}
		}
	})
}

// TestContactScope: a contact is visible exactly when its customer is, and
// follows the customer when it is handed to someone else.
func TestContactScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s3, s5, mgr1 := f.actor("sim_s1"), f.actor("sim_s3"), f.actor("sim_s5"), f.actor("sim_mgr1")
		cu := f.customer(s1, "范围客户")
		c := f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("范围联系人")})
		sees := func(a *auth.Actor) bool {
			_, err := f.contacts.Get(f.ctx, a, c.ID)
			if err != nil && !errors.Is(err, contact.ErrNotFound) {
				t.Fatal(err)
			}
			items, total, lerr := f.contacts.List(f.ctx, a, contact.Filter{Q: "范围联系人"})
			if lerr != nil {
				t.Fatal(lerr)
			}
			if (err == nil) != (total == 1 && len(items) == 1) {
				t.Fatalf("%s: read and list disagree", a.Name)
			}
			return err == nil
		}
		for _, tt := range []struct {
			a    *auth.Actor
			want bool
		}{{s1, true}, {s5, false}, {s3, false}, {mgr1, true}} {
			if got := sees(tt.a); got != tt.want {
				t.Errorf("%s sees the contact: %v, want %v", tt.a.Name, got, tt.want)
			}
		}
		// Out of scope is not found for edits and deletes too.
		if _, err := f.contacts.Update(f.ctx, s5, c.ID, contact.Input{Version: ptr(1), Name: ptr("x")}); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("s5 edited: %v", err)
		}
		if err := f.contacts.Delete(f.ctx, s5, c.ID); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("s5 deleted: %v", err)
		}
		// The manager hands the customer to sim_s3: the contact goes along.
		if _, err := f.customers.Update(f.ctx, mgr1, cu.ID, customer.Input{Version: &cu.Version, OwnerID: &s3.UserID}); err != nil {
			t.Fatal(err)
		}
		if sees(s1) || !sees(s3) {
			t.Error("the contact did not follow its customer to the new owner")
		}
		// A customer in the recycle bin hides its contacts.
		if err := f.customers.Delete(f.ctx, mgr1, cu.ID); err != nil {
			t.Fatal(err)
		}
		if sees(mgr1) || sees(s3) {
			t.Error("a deleted customer's contact is still visible")
		}
	})
}

// TestCustomerFoundByContact: the customer search finds a customer by its
// contacts' names and phone digits, keeps doing so when the customer itself
// is edited, follows contact edits, and stops after the contact is deleted.
func TestCustomerFoundByContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "搜索客户")
		other := f.customer(s1, "别的客户")
		c := f.contact(s1, contact.Input{CustomerID: &cu.ID, Name: ptr("Ouyang 欧阳娜娜"), Phones: &[]string{"137-1234-5678", "0571-87654321"}})
		f.contact(s1, contact.Input{CustomerID: &other.ID, Name: ptr("无关的人")})
		found := func(q string) bool {
			items, _, err := f.customers.List(f.ctx, s1, customer.Filter{Q: q, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, it := range items {
				ids = append(ids, it.ID)
			}
			if slices.Contains(ids, other.ID) && q != "无关" {
				t.Errorf("q=%q found the other customer too", q)
			}
			return slices.Contains(ids, cu.ID)
		}
		check := func(step string, want map[string]bool) {
			t.Helper()
			for q, w := range want {
				if got := found(q); got != w {
					t.Errorf("%s: q=%q found=%v, want %v", step, q, got, w)
				}
			}
		}
		check("created", map[string]bool{"欧阳娜": true, "OUYANG": true, "1234 5678": true, "13712345678": true,
			"87654321": true, "0571-8765": true, "搜索": true, "张三": false})
		// Editing the customer's own fields keeps its contacts searchable.
		if _, err := f.customers.Update(f.ctx, s1, cu.ID, customer.Input{Version: &cu.Version, Name: ptr("改名客户"), Phone: ptr("13600000000")}); err != nil {
			t.Fatal(err)
		}
		check("customer edited", map[string]bool{"改名": true, "13600000000": true, "欧阳娜": true, "13712345678": true})
		// A contact's new name and phone replace its old ones.
		if _, err := f.contacts.Update(f.ctx, s1, c.ID, contact.Input{Version: &c.Version, Name: ptr("司马光"), Phones: &[]string{"13955556666"}}); err != nil {
			t.Fatal(err)
		}
		check("contact edited", map[string]bool{"司马": true, "5555 6666": true, "欧阳娜": false, "13712345678": false})
		if err := f.contacts.Delete(f.ctx, s1, c.ID); err != nil {
			t.Fatal(err)
		}
		check("contact deleted", map[string]bool{"司马": false, "13955556666": false, "改名": true})
	})
}

// TestConcurrentFirstContacts: contacts added at the same moment to a
// customer without any still end with exactly one primary, and the
// customer is found by every one of them (each write saw the others).
func TestConcurrentFirstContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "并发客户")
		names := []string{"并发甲", "并发乙", "并发丙", "并发丁", "并发戊", "并发己"}
		errc := make(chan error, len(names))
		for _, n := range names {
			go func() {
				_, err := f.contacts.Create(f.ctx, s1, contact.Input{CustomerID: &cu.ID, Name: &n})
				errc <- err
			}()
		}
		for range names {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM contacts WHERE customer_id = ? AND is_primary = 1 AND deleted_at IS NULL", cu.ID); n != 1 {
			t.Fatalf("%d primary contacts", n)
		}
		for _, n := range names {
			items, _, err := f.customers.List(f.ctx, s1, customer.Filter{Q: n})
			if err != nil || len(items) != 1 {
				t.Errorf("customer not found by %s: %v %d", n, err, len(items))
			}
		}
	})
}
