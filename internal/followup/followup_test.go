package followup_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestFollowupFieldsAndTimeline logs, edits and deletes a follow-up and
// checks the stored values, the owner and department, and that the
// customer's timeline shows the follow-up with its content.
func TestFollowupFieldsAndTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "时间线客户")
		when := time.Date(2026, 3, 2, 1, 30, 0, 0, time.UTC)
		oppID := f.opportunity(s1, cu.ID)
		fu, err := f.followups.Create(f.ctx, s1, followup.Input{CustomerID: &cu.ID, FollowedAt: ptr("2026-03-02T09:30:00+08:00"),
			Method: ptr("visit"), Content: ptr("  上门演示了新版本  "), Result: ptr("客户满意"), NextStep: ptr("发报价单"),
			NextFollowAt:  followup.Opt[string]{Set: true, Value: ptr("2026-03-05T10:00:00+08:00")},
			OpportunityID: followup.Opt[int64]{Set: true, Value: &oppID}})
		if err != nil {
			t.Fatal(err)
		}
		if !fu.FollowedAt.Equal(when) || fu.Content != "上门演示了新版本" || fu.OwnerID != s1.UserID || fu.OwnerName != "王芳" ||
			fu.DepartmentID != s1.PrimaryDeptID || fu.CustomerName != "时间线客户" || *fu.OpportunityID != oppID || fu.Version != 1 {
			t.Fatalf("created: %+v", fu)
		}
		edited, err := f.followups.Update(f.ctx, s1, fu.ID, followup.Input{Version: ptr(1), Result: ptr("客户要求降价"),
			OpportunityID: followup.Opt[int64]{Set: true}})
		if err != nil {
			t.Fatal(err)
		}
		if edited.Result != "客户要求降价" || edited.OpportunityID != nil || edited.Content != fu.Content || edited.Version != 2 {
			t.Fatalf("edited: %+v", edited)
		}
		if _, err := f.followups.Update(f.ctx, s1, fu.ID, followup.Input{Version: ptr(1), Result: ptr("x")}); !errors.Is(err, followup.ErrStale) {
			t.Fatalf("stale edit: %v", err)
		}
		items, _, err := f.customers.Timeline(f.ctx, s1, cu.ID, 1, 20)
		if err != nil {
			t.Fatal(err)
		}
		var logged, updated bool
		for _, it := range items {
			if it.Entity != "followup" || it.EntityID != fu.ID {
				continue
			}
			switch it.Action {
			case "create":
				logged = it.Changes["content"].New == "上门演示了新版本" && it.Changes["method"].New == "visit" &&
					it.Changes["result"].New == "客户满意" && it.Changes["next_step"].New == "发报价单"
			case "update":
				updated = it.Changes["result"].Old == "客户满意" && it.Changes["result"].New == "客户要求降价"
			}
		}
		if !logged || !updated {
			t.Fatalf("timeline lacks the follow-up's content: %+v", items)
		}
		if err := f.followups.Delete(f.ctx, s1, fu.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.followups.Get(f.ctx, s1, fu.ID); !errors.Is(err, followup.ErrNotFound) {
			t.Fatalf("deleted follow-up readable: %v", err)
		}
		if f.count("SELECT COUNT(*) FROM followups WHERE id = ? AND deleted_at IS NOT NULL", fu.ID) != 1 {
			t.Fatal("delete was not a soft delete")
		}
	})
}

// TestFollowupList checks the filters and the latest-first order.
func TestFollowupList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, mgr1 := f.actor("sim_s1"), f.actor("sim_mgr1")
		a, b := f.customer(s1, "列表甲"), f.customer(s1, "列表乙")
		base := time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)
		f.log(s1, a.ID, base, "甲一", nil)
		f.log(s1, a.ID, base.Add(48*time.Hour), "甲二", nil)
		f.log(mgr1, b.ID, base.Add(24*time.Hour), "乙一", nil)
		wechat := "wechat"
		if _, err := f.followups.Create(f.ctx, s1, followup.Input{CustomerID: &b.ID, FollowedAt: ptr(base.Add(72 * time.Hour).Format(time.RFC3339)),
			Method: &wechat, Content: ptr("乙二")}); err != nil {
			t.Fatal(err)
		}
		day := func(d int) *time.Time {
			t := base.Add(time.Duration(d) * 24 * time.Hour).Truncate(24 * time.Hour)
			return &t
		}
		tests := []struct {
			name string
			f    followup.Filter
			want []string
		}{
			{"all, latest first", followup.Filter{}, []string{"乙二", "甲二", "乙一", "甲一"}},
			{"one customer", followup.Filter{CustomerID: a.ID}, []string{"甲二", "甲一"}},
			{"by owner", followup.Filter{OwnerID: mgr1.UserID}, []string{"乙一"}},
			{"by method", followup.Filter{Method: "wechat"}, []string{"乙二"}},
			{"from", followup.Filter{From: day(2)}, []string{"乙二", "甲二"}},
			{"from and to", followup.Filter{From: day(1), To: day(3)}, []string{"甲二", "乙一"}},
			{"paged", followup.Filter{Page: 2, PageSize: 3}, []string{"甲一"}},
		}
		for _, tt := range tests {
			items, total, err := f.followups.List(f.ctx, s1, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var got []string
			for _, it := range items {
				got = append(got, it.Content)
			}
			if !slices.Equal(got, tt.want) || (tt.f.Page == 0 && total != len(tt.want)) {
				t.Errorf("%s: %v (total %d), want %v", tt.name, got, total, tt.want)
			}
		}
		bad := []struct {
			f     followup.Filter
			field string
		}{
			{followup.Filter{Method: "pigeon"}, "method"},
			{followup.Filter{From: day(3), To: day(1)}, "to"},
			{followup.Filter{PageSize: 101}, "page_size"},
		}
		for _, tt := range bad {
			_, _, err := f.followups.List(f.ctx, s1, tt.f)
			if e := new(errs.Error); !errors.As(err, &e) || e.Fields[tt.field].Key == "" {
				t.Errorf("filter %+v: want a problem with %s, got %v", tt.f, tt.field, err)
			}
		}
	})
}

// TestBadFollowupInput: every kind of bad input is a field problem and
// writes nothing (no follow-up, no audit entry, no change to the customer).
func TestBadFollowupInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s5 := f.actor("sim_s1"), f.actor("sim_s5")
		mine := f.customer(s1, "输入测试")
		gone := f.customer(s1, "已删除客户")
		if err := f.customers.Delete(f.ctx, s1, gone.ID); err != nil {
			t.Fatal(err)
		}
		theirs := f.customer(s5, "别人的客户")
		now := time.Now().UTC()
		ts := func(d time.Duration) *string { return ptr(now.Add(d).Format(time.RFC3339)) }
		next := func(s string) followup.Opt[string] { return followup.Opt[string]{Set: true, Value: &s} }
		ok := func(in followup.Input) followup.Input {
			if in.CustomerID == nil {
				in.CustomerID = &mine.ID
			}
			if in.FollowedAt == nil {
				in.FollowedAt = ts(-time.Hour)
			}
			if in.Method == nil {
				in.Method = ptr("phone")
			}
			if in.Content == nil {
				in.Content = ptr("正常内容")
			}
			return in
		}
		tests := []struct {
			name   string
			in     followup.Input
			fields []string
		}{
			{"nothing", followup.Input{}, []string{"customer_id", "followed_at", "method", "content"}},
			{"unknown customer", ok(followup.Input{CustomerID: ptr(int64(999999))}), []string{"customer_id"}},
			{"zero customer", ok(followup.Input{CustomerID: ptr(int64(0))}), []string{"customer_id"}},
			{"deleted customer", ok(followup.Input{CustomerID: &gone.ID}), []string{"customer_id"}},
			{"customer out of scope", ok(followup.Input{CustomerID: &theirs.ID}), []string{"customer_id"}},
			{"time not a time", ok(followup.Input{FollowedAt: ptr("昨天下午")}), []string{"followed_at"}},
			{"date without time", ok(followup.Input{FollowedAt: ptr("2026-03-02")}), []string{"followed_at"}},
			{"two days ahead", ok(followup.Input{FollowedAt: ts(49 * time.Hour)}), []string{"followed_at"}},
			{"last century", ok(followup.Input{FollowedAt: ptr("1999-12-31T00:00:00Z")}), []string{"followed_at"}},
			{"unknown method", ok(followup.Input{Method: ptr("pigeon")}), []string{"method"}},
			{"blank content", ok(followup.Input{Content: ptr("   ")}), []string{"content"}},
			{"content too long", ok(followup.Input{Content: ptr(strings.Repeat("长", 2001))}), []string{"content"}},
			{"result too long", ok(followup.Input{Result: ptr(strings.Repeat("果", 501))}), []string{"result"}},
			{"next step too long", ok(followup.Input{NextStep: ptr(strings.Repeat("步", 501))}), []string{"next_step"}},
			{"next before followed", ok(followup.Input{NextFollowAt: next(*ts(-2 * time.Hour))}), []string{"next_follow_at"}},
			{"next equal to followed", ok(followup.Input{FollowedAt: ts(-time.Hour), NextFollowAt: next(*ts(-time.Hour))}), []string{"next_follow_at"}},
			{"next not a time", ok(followup.Input{NextFollowAt: next("下周")}), []string{"next_follow_at"}},
			{"negative opportunity", ok(followup.Input{OpportunityID: followup.Opt[int64]{Set: true, Value: ptr(int64(-1))}}), []string{"opportunity_id"}},
		}
		count := func() [3]int {
			c := f.get(mine.ID)
			return [3]int{f.count("SELECT COUNT(*) FROM followups"), f.count("SELECT COUNT(*) FROM audit_log"), c.Version}
		}
		before := count()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.followups.Create(f.ctx, s1, tt.in)
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
					t.Fatalf("want a validation error, got %v", err)
				}
				for _, field := range tt.fields {
					if e.Fields[field].Key == "" {
						t.Errorf("no problem reported for %s: %v", field, err)
					}
				}
				if len(e.Fields) != len(tt.fields) {
					t.Errorf("problems %v, want exactly %v", err, tt.fields)
				}
			})
		}
		if after := count(); after != before {
			t.Fatalf("bad input wrote: followups, audit, customer version %v → %v", before, after)
		}
		fu := f.log(s1, mine.ID, now.Add(-time.Hour), "原内容", nil)
		edits := []struct {
			name  string
			in    followup.Input
			field string
		}{
			{"no version", followup.Input{Content: ptr("x")}, "version"},
			{"move customer", followup.Input{Version: &fu.Version, CustomerID: &theirs.ID}, "customer_id"},
			{"next before the existing time", followup.Input{Version: &fu.Version, NextFollowAt: next(*ts(-3 * time.Hour))}, "next_follow_at"},
			{"clear content", followup.Input{Version: &fu.Version, Content: ptr("")}, "content"},
		}
		for _, tt := range edits {
			_, err := f.followups.Update(f.ctx, s1, fu.ID, tt.in)
			if e := new(errs.Error); !errors.As(err, &e) || e.Fields[tt.field].Key == "" {
				t.Errorf("%s: want a problem with %s, got %v", tt.name, tt.field, err)
			}
		}
		if again, err := f.followups.Get(f.ctx, s1, fu.ID); err != nil || again.Version != 1 || again.Content != "原内容" {
			t.Fatalf("a refused edit changed the follow-up: %v %+v", err, again)
		}
	})
}

// TestFollowupScopeAndEditRights: a follow-up is visible when its customer
// is or when it is the person's own; the author may always change it,
// others only on a customer they see.
func TestFollowupScopeAndEditRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin, mgr1 := f.actor("sim_admin"), f.actor("sim_mgr1")
		s1, s3, s5, mgr2 := f.actor("sim_s1"), f.actor("sim_s3"), f.actor("sim_s5"), f.actor("sim_mgr2")
		cu := f.customer(s1, "范围客户")
		fu := f.log(s1, cu.ID, time.Now().Add(-time.Hour), "王芳的电话", nil)
		byMgr := f.log(mgr1, cu.ID, time.Now().Add(-time.Hour), "经理的拜访", nil)
		sees := func(a *auth.Actor, id int64) bool {
			_, err := f.followups.Get(f.ctx, a, id)
			if err != nil && !errors.Is(err, followup.ErrNotFound) {
				t.Fatal(err)
			}
			items, _, lerr := f.followups.List(f.ctx, a, followup.Filter{CustomerID: cu.ID})
			if lerr != nil {
				t.Fatal(lerr)
			}
			listed := slices.ContainsFunc(items, func(x followup.Followup) bool { return x.ID == id })
			if listed != (err == nil) {
				t.Fatalf("%s: read and list disagree about %d", a.Name, id)
			}
			return err == nil
		}
		visibility := []struct {
			who  *auth.Actor
			want bool
		}{{s1, true}, {mgr1, true}, {admin, true}, {s5, false}, {s3, false}, {mgr2, false}}
		for _, tt := range visibility {
			if got := sees(tt.who, fu.ID); got != tt.want {
				t.Errorf("%s sees s1's follow-up: %v, want %v", tt.who.Name, got, tt.want)
			}
		}
		// s1 may edit the manager's note on s1's own customer (followup.edit
		// on a visible customer); s5 cannot even see it.
		if _, err := f.followups.Update(f.ctx, s1, byMgr.ID, followup.Input{Version: &byMgr.Version, Result: ptr("已跟进")}); err != nil {
			t.Fatalf("s1 editing a note on their customer: %v", err)
		}
		if err := f.followups.Delete(f.ctx, s5, fu.ID); !errors.Is(err, followup.ErrNotFound) {
			t.Errorf("s5 deleted: %v", err)
		}
		// The admin hands the customer to s5 (another department).
		if _, err := f.customers.Update(f.ctx, admin, cu.ID, customer.Input{Version: &f.get(cu.ID).Version, OwnerID: &s5.UserID}); err != nil {
			t.Fatal(err)
		}
		if !sees(s1, fu.ID) || sees(s1, byMgr.ID) || !sees(s5, byMgr.ID) {
			t.Error("after the hand-over: s1 should see only their own follow-up, s5 all of the customer's")
		}
		// The manager still sees s1's follow-up (his team logged it) but the
		// customer is no longer his: he may not change it (403); s1, the
		// author, may.
		if !sees(mgr1, fu.ID) {
			t.Fatal("the manager lost sight of his team's follow-up")
		}
		cur, _ := f.followups.Get(f.ctx, s1, fu.ID)
		if _, err := f.followups.Update(f.ctx, mgr1, fu.ID, followup.Input{Version: &cur.Version, Result: ptr("x")}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("manager edited a follow-up on a customer he no longer sees: %v", err)
		}
		if _, err := f.followups.Update(f.ctx, s1, fu.ID, followup.Input{Version: &cur.Version, Result: ptr("作者补充")}); err != nil {
			t.Errorf("the author could not edit: %v", err)
		}
		if err := f.followups.Delete(f.ctx, s1, fu.ID); err != nil {
			t.Errorf("the author could not delete: %v", err)
		}
	})
}

// TestFollowupPermissions: each action needs its permission (403).
func TestFollowupPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1 := f.actor("sim_s1")
		cu := f.customer(s1, "权限测试")
		fu := f.log(s1, cu.ID, time.Now().Add(-time.Hour), "权限跟进", nil)
		for _, missing := range []auth.Perm{followup.PermView, followup.PermCreate, followup.PermEdit, followup.PermDelete} {
			a := *s1
			a.Perms = map[auth.Perm]bool{}
			for p := range s1.Perms {
				if p != missing {
					a.Perms[p] = true
				}
			}
			var err, err2 error
			switch missing {
			case followup.PermView:
				_, _, err = f.followups.List(f.ctx, &a, followup.Filter{})
				_, err2 = f.followups.Get(f.ctx, &a, fu.ID)
			case followup.PermCreate:
				err = errOf(f.followups.Create(f.ctx, &a, followup.Input{CustomerID: &cu.ID, FollowedAt: ptr(time.Now().Format(time.RFC3339)),
					Method: ptr("phone"), Content: ptr("x")}))
			case followup.PermEdit:
				err = errOf(f.followups.Update(f.ctx, &a, fu.ID, followup.Input{Version: &fu.Version, Content: ptr("x")}))
			case followup.PermDelete:
				err = f.followups.Delete(f.ctx, &a, fu.ID)
			}
			if !errors.Is(err, errs.ErrForbidden) || err2 != nil && !errors.Is(err2, errs.ErrForbidden) {
				t.Errorf("without %s: %v %v, want forbidden", missing, err, err2)
			}
		}
		if f.count("SELECT COUNT(*) FROM followups WHERE deleted_at IS NULL AND content = '权限跟进' AND version = 1") != 1 ||
			f.count("SELECT COUNT(*) FROM followups") != 1 {
			t.Error("a forbidden call wrote")
		}
	})
}

// errOf keeps the error of a call that returns a value too.
func errOf[T any](_ T, err error) error { return err }
