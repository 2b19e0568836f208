package orgsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
	"github.com/dingcrm/crm/internal/user"
)

// TestSyncGuards: a sync that would deactivate most people stops and
// writes nothing unless forced; a second sync while one holds the lock is
// refused; a sync that would leave no admin is rolled back.
func TestSyncGuards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		org := dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 30, Departments: 3, Seed: 7})
		f := newFixture(t, db, org)
		f.sync()
		// Keep 8 people, and the admins and managers the organization names.
		keep := map[string]bool{}
		for _, a := range org.Admins {
			keep[a.UserID] = true
		}
		for _, d := range org.Departments {
			for _, m := range d.Managers {
				keep[m] = true
			}
		}
		kept := *org
		kept.Users = nil
		for i, u := range org.Users {
			if i < 8 || keep[u.UserID] {
				kept.Users = append(kept.Users, u)
			}
		}
		gone := len(org.Users) - len(kept.Users)
		if err := f.fake.LoadOrg(&kept); err != nil {
			t.Fatal(err)
		}
		before := f.writes()
		sy, err := f.svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
		if !errors.Is(err, orgsync.ErrTooManyLeavers) || sy.Status != orgsync.StatusFailed || sy.Error == "" {
			t.Fatalf("a sync deactivating %d of 30: %v %+v", gone, err, sy)
		}
		if f.writes() != before {
			t.Fatal("the refused sync wrote")
		}
		sy, err = f.svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI, Force: true})
		if err != nil || sy.Summary.PeopleDeactivated != gone {
			t.Fatalf("forced: %v %+v", err, sy)
		}

		if err := f.kv.Set(context.Background(), "orgsync:lock", "another", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI}); !errors.Is(err, orgsync.ErrSyncRunning) {
			t.Fatalf("a sync while another holds the lock: %v", err)
		}
		f.kv.Del(context.Background(), "orgsync:lock")

		for _, a := range kept.Admins {
			if err := f.fake.SetAdmin(a.UserID, 0); err != nil {
				t.Fatal(err)
			}
		}
		before = f.writes()
		if _, err := f.svc.Run(f.ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI}); !errors.Is(err, orgsync.ErrNoAdminLeft) {
			t.Fatalf("a sync removing every admin: %v", err)
		}
		if f.writes() != before {
			t.Fatal("the rolled-back sync wrote")
		}
	})
}

// TestSyncAdoptsAndSwaps: a person an admin added by hand becomes the
// DingTalk person with the same mobile (same record, roles kept as
// manual); mobiles swapped between two people in DingTalk swap in the CRM
// (no duplicate-key failure).
func TestSyncAdoptsAndSwaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		f.sync()
		users := user.NewService(db, user.NewStore(db), f.sessions)
		var sales int64
		db.Get(&sales, "SELECT id FROM roles WHERE code = 'sales'")
		name, mobile := "先来的人", "13911110000"
		hand, err := users.Create(f.ctx, f.actor("sim_admin"), user.Input{Name: &name, Mobile: &mobile,
			DepartmentIDs: []int64{2}, RoleIDs: []int64{sales}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.fake.AddUser(dingtalktest.User{UserID: "late1", Name: "后到的钉钉人", Mobile: mobile, DeptIDs: []int64{3}}); err != nil {
			t.Fatal(err)
		}
		s1, _ := f.fake.User("sim_s1")
		s2, _ := f.fake.User("sim_s2")
		s1.Mobile, s2.Mobile = s2.Mobile, s1.Mobile
		if err := f.fake.UpdateUser(s1); err != nil {
			t.Fatal(err)
		}
		if err := f.fake.UpdateUser(s2); err != nil {
			t.Fatal(err)
		}
		sum := f.sync()
		if sum.PeopleAdded != 0 || sum.PeopleChanged != 3 {
			t.Errorf("summary: %+v", sum)
		}
		if id := f.userID("late1"); id != hand.ID {
			t.Fatalf("late1 is record %d, want the hand-added %d", id, hand.ID)
		}
		if n := f.count("SELECT COUNT(*) FROM users WHERE id = ? AND source = 'dingtalk' AND roles_manual = 1", hand.ID); n != 1 {
			t.Error("the adopted person is not a DingTalk person with manual roles")
		}
		got := inDB(t, db).People
		if got["late1"].Depts != "3" || got["late1"].Role != "sales" {
			t.Errorf("late1: %+v", got["late1"])
		}
		if got["sim_s1"].Mobile != s1.Mobile || got["sim_s2"].Mobile != s2.Mobile {
			t.Errorf("mobiles not swapped: %s %s", got["sim_s1"].Mobile, got["sim_s2"].Mobile)
		}
		if again := f.sync(); again.Changed() {
			t.Errorf("second sync: %+v", again)
		}
	})
}
