package customer_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// dupFixture is a migrated database with the simulated organization.
type dupFixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	svc *customer.Service
	ld  *auth.Loader
}

func newDupFixture(t *testing.T, db *store.DB) *dupFixture {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	ld := auth.NewLoader(db)
	return &dupFixture{t: t, ctx: ctx, db: db, ld: ld,
		svc: customer.NewService(db, customer.NewStore(db), ld, audit.NewService(db))}
}

func (f *dupFixture) actor(userid string) *auth.Actor {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		f.t.Fatalf("%s: %v", userid, err)
	}
	a, err := f.ld.Load(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *dupFixture) create(a *auth.Actor, name, phone, company string) (*customer.Customer, error) {
	return f.svc.Create(f.ctx, a, customer.Input{Name: &name, Phone: &phone, Company: &company})
}

func (f *dupFixture) mustCreate(a *auth.Actor, name, phone, company string) *customer.Customer {
	f.t.Helper()
	c, err := f.create(a, name, phone, company)
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return c
}

func (f *dupFixture) count() int {
	var n int
	f.db.Get(&n, "SELECT COUNT(*) FROM customers")
	return n
}

// dupOf unpacks a duplicate 409.
func dupOf(t *testing.T, err error) (string, customer.DuplicateView) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindConflict {
		t.Fatalf("want a conflict, got %v", err)
	}
	v, _ := e.Detail["duplicate"].(customer.DuplicateView)
	return e.Key, v
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name, company, phone string
		nameKey, phoneKey    string
	}{
		{"张三", "星辰科技", "13912345678", "张三\x1f星辰科技", "13912345678"},
		{" 张 三 ", "星辰　科技", "021-6888-8888", "张三\x1f星辰科技", "02168888888"},
		{"ＡＢＣ　Ｔｒａｄｉｎｇ", "ＸＹＺ（上海）", "", "abctrading\x1fxyz(上海)", ""},
		{"Bob\tSmith", "Acme Ltd", "400-800-1234", "bobsmith\x1facmeltd", "4008001234"},
		{"张三", "", "13912345678", "", "13912345678"}, // no company: phone only
		{"", "星辰科技", "", "", ""},
	}
	for _, tt := range tests {
		if got := customer.NameKey(tt.name, tt.company); got != tt.nameKey {
			t.Errorf("NameKey(%q, %q) = %q, want %q", tt.name, tt.company, got, tt.nameKey)
		}
		if got := customer.PhoneKey(tt.phone); got != tt.phoneKey {
			t.Errorf("PhoneKey(%q) = %q, want %q", tt.phone, got, tt.phoneKey)
		}
	}
}

// TestDuplicatesRefused checks create and edit against an existing customer
// by phone (typed with other separators) and by name and company (other
// spacing and width), what the 409 reveals in and out of scope, and that the
// recycle bin neither blocks nor escapes the rule.
func TestDuplicatesRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDupFixture(t, db)
		s1, s2, mgr1 := f.actor("sim_s1"), f.actor("sim_s5"), f.actor("sim_mgr1")
		orig := f.mustCreate(s1, "欧阳 明", "139-1234-5678", "ＡＢＣ 科技")
		tests := []struct {
			who                  *auth.Actor
			name, phone, company string
			key                  string
			visible              bool
		}{
			{s1, "别人", "+86 139 1234 5678", "", "duplicate.phone", true},
			{s1, "别人", "13912345678", "另一家", "duplicate.phone", true},
			{mgr1, "别人", "139 1234 5678", "", "duplicate.phone", true},
			{s2, "别人", "(139)12345678", "", "duplicate.phone_hidden", false},
			{s1, "欧阳明", "", "abc科技", "duplicate.name", true},
			{s2, "欧阳　明", "", "Abc 科 技", "duplicate.name_hidden", false},
		}
		n0 := f.count()
		for _, tt := range tests {
			_, err := f.create(tt.who, tt.name, tt.phone, tt.company)
			key, v := dupOf(t, err)
			if key != tt.key || v.Visible != tt.visible || v.OwnerName != "王芳" || v.InPool {
				t.Errorf("%s %q/%q/%q: %s %+v", tt.who.Name, tt.name, tt.phone, tt.company, key, v)
			}
			if tt.visible && (v.ID != orig.ID || v.Name != orig.Name) || !tt.visible && (v.ID != 0 || v.Name != "") {
				t.Errorf("%s sees %+v", tt.who.Name, v)
			}
		}
		if f.count() != n0 {
			t.Fatal("a refused create wrote a row")
		}
		// Same name without a company, or same company with another name: fine.
		f.mustCreate(s1, "欧阳明", "", "")
		other := f.mustCreate(s1, "另一个人", "13900000001", "ABC科技")

		// Edits: taking the phone or the name+company is refused; other edits pass.
		phone := "139 1234 5678"
		_, err := f.svc.Update(f.ctx, s1, other.ID, customer.Input{Phone: &phone, Version: &other.Version})
		if key, v := dupOf(t, err); key != "duplicate.phone" || v.ID != orig.ID {
			t.Fatalf("edit to a taken phone: %s %+v", key, v)
		}
		name := "欧阳明"
		_, err = f.svc.Update(f.ctx, s1, other.ID, customer.Input{Name: &name, Version: &other.Version})
		if key, _ := dupOf(t, err); key != "duplicate.name" {
			t.Fatalf("edit to a taken name+company: %s", key)
		}
		note := "改备注"
		if _, err := f.svc.Update(f.ctx, s1, orig.ID, customer.Input{Note: &note, Version: &orig.Version}); err != nil {
			t.Fatalf("editing the original itself: %v", err)
		}

		// In the recycle bin a customer blocks nobody, and comes back only
		// while nobody took its phone.
		if err := f.svc.Delete(f.ctx, s1, orig.ID); err != nil {
			t.Fatal(err)
		}
		twin := f.mustCreate(s1, "新人", "13912345678", "")
		admin := f.actor("sim_admin")
		if _, err := f.svc.Restore(f.ctx, admin, orig.ID); err == nil {
			t.Fatal("restored a customer whose phone is taken")
		} else if key, v := dupOf(t, err); key != "duplicate.phone" || v.ID != twin.ID {
			t.Fatalf("restore: %s %+v", key, v)
		}
		var deleted int
		db.Get(&deleted, "SELECT COUNT(*) FROM customers WHERE id = ? AND deleted_at IS NOT NULL", orig.ID)
		if deleted != 1 {
			t.Fatal("a refused restore restored")
		}

		// The 查重 lookup follows the same visibility rule.
		views, err := f.svc.Duplicates(f.ctx, s2, "139-1234-5678", "", "")
		if err != nil || len(views) != 1 || views[0].ID != 0 || views[0].OwnerName != "王芳" || views[0].Match != "phone" {
			t.Fatalf("lookup out of scope: %v %+v", err, views)
		}
		views, err = f.svc.Duplicates(f.ctx, s1, "", "另一个人", "ａｂｃ科技")
		if err != nil || len(views) != 1 || views[0].ID != other.ID || views[0].Match != "name" {
			t.Fatalf("lookup in scope: %v %+v", err, views)
		}
		if _, err := f.svc.Duplicates(f.ctx, s1, "", "只有名字", ""); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("lookup with nothing to compare: %v", err)
		}
		if _, err := f.svc.Duplicates(f.ctx, s1, "12345", "", ""); errs.KindOf(err) != errs.KindInvalid {
			t.Fatalf("lookup with a bad phone: %v", err)
		}
	})
}

// TestConcurrentCreatesOfOnePhone races two creates of the same phone:
// exactly one wins and the other gets the duplicate 409, on every engine.
func TestConcurrentCreatesOfOnePhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDupFixture(t, db)
		people := []*auth.Actor{f.actor("sim_s1"), f.actor("sim_s5")}
		for round := 0; round < 5; round++ {
			phone := "1391234000" + string(rune('0'+round))
			var wg sync.WaitGroup
			results := make([]error, 2)
			start := make(chan struct{})
			for i := range results {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					_, results[i] = f.create(people[i], "抢注"+string(rune('A'+i)), phone, "")
				}(i)
			}
			close(start)
			wg.Wait()
			wins, dups := 0, 0
			for _, err := range results {
				switch {
				case err == nil:
					wins++
				case errs.KindOf(err) == errs.KindConflict:
					dups++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			var n int
			db.Get(&n, "SELECT COUNT(*) FROM customers WHERE phone = ?", phone)
			if wins != 1 || dups != 1 || n != 1 {
				t.Fatalf("round %d: %d won, %d refused, %d rows", round, wins, dups, n)
			}
		}
	})
}
