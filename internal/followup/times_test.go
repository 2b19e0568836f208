package followup_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestCustomerFollowTimes walks creates, edits and deletes of follow-ups
// and checks after each that the customer's last_follow_at and
// next_follow_at follow the documented rule, that its version moved (so a
// stale customer edit gets a 409) and that the write is on its timeline.
func TestCustomerFollowTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "跟进时间测试")
		now := time.Now().UTC().Truncate(time.Second)
		day := 24 * time.Hour
		at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
		manual := at(10 * day)
		if _, err := f.customers.Update(f.ctx, s1, cu.ID, customer.Input{Version: &cu.Version, NextFollowAt: customer.OptTime{Set: true, Value: manual}}); err != nil {
			t.Fatal(err)
		}
		fus := map[string]*followup.Followup{}
		edit := func(name string, in followup.Input) error {
			in.Version = &fus[name].Version
			fu, err := f.followups.Update(f.ctx, s1, fus[name].ID, in)
			if err == nil {
				fus[name] = fu
			}
			return err
		}
		steps := []struct {
			name       string
			do         func() error
			last, next *time.Time
		}{
			{"a follow-up without a next time keeps the manual one", func() error {
				fus["f1"] = f.log(s1, cu.ID, *at(-3 * day), "第一次电话", nil)
				return nil
			}, at(-3 * day), manual},
			{"one with a next time sets it", func() error {
				fus["f2"] = f.log(s1, cu.ID, *at(-2 * day), "第二次拜访", at(5*day))
				return nil
			}, at(-2 * day), at(5 * day)},
			{"a backdated one does not win", func() error {
				fus["f3"] = f.log(s1, cu.ID, *at(-4 * day), "补记的微信", at(1*day))
				return nil
			}, at(-2 * day), at(5 * day)},
			{"editing the latest's next time moves it", func() error {
				return edit("f2", followup.Input{NextFollowAt: followup.Opt[string]{Set: true, Value: ptr(at(6 * day).Format(time.RFC3339))}})
			}, at(-2 * day), at(6 * day)},
			{"editing content changes no time", func() error {
				return edit("f1", followup.Input{Content: ptr("第一次电话（补充）")})
			}, at(-2 * day), at(6 * day)},
			{"moving a follow-up later makes it the last", func() error {
				return edit("f3", followup.Input{FollowedAt: ptr(at(-1 * day).Format(time.RFC3339))})
			}, at(-1 * day), at(1 * day)},
			{"deleting the latest falls back to the previous", func() error {
				return f.followups.Delete(f.ctx, s1, fus["f3"].ID)
			}, at(-2 * day), at(6 * day)},
			{"clearing the only next time clears the customer's", func() error {
				return edit("f2", followup.Input{NextFollowAt: followup.Opt[string]{Set: true}})
			}, at(-2 * day), nil},
			{"deleting everything leaves no last time", func() error {
				if err := f.followups.Delete(f.ctx, s1, fus["f2"].ID); err != nil {
					return err
				}
				return f.followups.Delete(f.ctx, s1, fus["f1"].ID)
			}, nil, nil},
		}
		version := f.get(cu.ID).Version
		for _, st := range steps {
			audits := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'followup' AND customer_id = ?", cu.ID)
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			c := f.get(cu.ID)
			if !sameTime(c.LastFollowAt, st.last) || !sameTime(c.NextFollowAt, st.next) {
				t.Fatalf("%s: last %s next %s, want %s and %s", st.name, show(c.LastFollowAt), show(c.NextFollowAt), show(st.last), show(st.next))
			}
			if c.Version <= version {
				t.Errorf("%s: the customer's version did not move (%d)", st.name, c.Version)
			}
			version = c.Version
			if f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'followup' AND customer_id = ?", cu.ID) <= audits {
				t.Errorf("%s: no audit entry on the customer's timeline", st.name)
			}
		}
	})
}

// TestManualNextSurvivesUnrelatedDelete: a next time set by hand on the
// customer is not cleared by deleting a follow-up that did not set it.
func TestManualNextSurvivesUnrelatedDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "手动下次跟进")
		now := time.Now().UTC().Truncate(time.Second)
		fu := f.log(s1, cu.ID, now.Add(-time.Hour), "电话", ptr(now.Add(48*time.Hour)))
		c := f.get(cu.ID)
		manual := now.Add(72 * time.Hour)
		if _, err := f.customers.Update(f.ctx, s1, cu.ID, customer.Input{Version: &c.Version, NextFollowAt: customer.OptTime{Set: true, Value: &manual}}); err != nil {
			t.Fatal(err)
		}
		if err := f.followups.Delete(f.ctx, s1, fu.ID); err != nil {
			t.Fatal(err)
		}
		if c := f.get(cu.ID); !sameTime(c.NextFollowAt, &manual) || c.LastFollowAt != nil {
			t.Fatalf("after deleting: next %s last %s, want the manual %s and none", show(c.NextFollowAt), show(c.LastFollowAt), manual)
		}
	})
}

// TestStaleCustomerEditAfterFollowup: a customer edit based on the version
// before a follow-up was logged is refused, so it cannot write back the old
// follow-up times.
func TestStaleCustomerEditAfterFollowup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "并发编辑")
		f.log(s1, cu.ID, time.Now().Add(-time.Minute), "电话", ptr(time.Now().Add(time.Hour)))
		if _, err := f.customers.Update(f.ctx, s1, cu.ID, customer.Input{Version: &cu.Version, Name: ptr("改名")}); !errors.Is(err, customer.ErrStale) {
			t.Fatalf("edit on the old version: %v, want stale", err)
		}
	})
}

// get reads a customer as the admin sees it.
func (f *fixture) get(id int64) *customer.Customer {
	f.t.Helper()
	c, err := f.customers.Get(f.ctx, f.actor("sim_admin"), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func show(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprint(t.UTC().Format(time.RFC3339))
}

// TestConcurrentFollowups: follow-ups logged at the same moment on one
// customer leave its last follow-up time at the latest of them (each write
// recomputed it from a list that included the others).
func TestConcurrentFollowups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "并发跟进")
		base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
		const n = 6
		errc := make(chan error, n)
		for i := range n {
			go func() {
				at := base.Add(time.Duration(i) * time.Minute)
				_, err := f.followups.Create(f.ctx, s1, followup.Input{CustomerID: &cu.ID, FollowedAt: ptr(at.Format(time.RFC3339)),
					Method: ptr("phone"), Content: ptr(fmt.Sprint("并发 ", i))})
				errc <- err
			}()
		}
		for range n {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		want := base.Add((n - 1) * time.Minute)
		if c := f.get(cu.ID); !sameTime(c.LastFollowAt, &want) {
			t.Fatalf("last follow-up %s, want %s", show(c.LastFollowAt), want.Format(time.RFC3339))
		}
	})
}
