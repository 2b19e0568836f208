package pool_test

import (
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestReleaseAndClaim: a release needs a reason and the customer in scope;
// a released customer leaves its owner's list and shows in the pool with
// why; its former owner waits out the cooldown while others claim at once;
// each move is audited on the customer.
func TestReleaseAndClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s2, admin := f.actor("sim_s1"), f.actor("sim_s2"), f.actor("sim_admin")
		c := f.customer(s1)

		before := f.snapshot()
		for _, tt := range []struct {
			who    *auth.Actor
			reason *string
			kind   errs.Kind
			field  string
		}{
			{s1, nil, errs.KindInvalid, "reason"},
			{s1, ptr("   "), errs.KindInvalid, "reason"},
			{s1, ptr(string(make([]rune, 201))), errs.KindInvalid, "reason"},
			{s2, ptr("不是我的"), errs.KindNotFound, ""},
		} {
			wantKind(t, tt.who.Name+" release", f.pool.Release(f.ctx, tt.who, c.ID, pool.ReleaseInput{Reason: tt.reason}), tt.kind, tt.field)
		}
		if f.snapshot() != before {
			t.Fatal("a refused release wrote something")
		}

		if err := f.pool.Release(f.ctx, s1, c.ID, pool.ReleaseInput{Reason: ptr("客户暂无需求")}); err != nil {
			t.Fatal(err)
		}
		if f.owner(c.ID) != 0 || f.audits(pool.ActRelease, c.ID) != 1 {
			t.Fatalf("release: owner %d, audits %d", f.owner(c.ID), f.audits(pool.ActRelease, c.ID))
		}
		// Out of the customer lists (even the admin's), into the pool.
		if _, err := f.customers.Get(f.ctx, admin, c.ID); err != customer.ErrNotFound {
			t.Errorf("pool customer readable as an owned customer: %v", err)
		}
		if l, n, _ := f.customers.List(f.ctx, admin, customer.Filter{Q: c.Name}); n != 0 || len(l) != 0 {
			t.Errorf("pool customer in the customer list: %d", n)
		}
		items, n, err := f.pool.List(f.ctx, s2, customer.Filter{Q: c.Name})
		if err != nil || n != 1 || items[0].PoolCause != pool.CauseRelease || items[0].PoolReason != "客户暂无需求" ||
			items[0].FormerOwnerName != "王芳" || items[0].PoolEnteredAt == nil || items[0].ClaimableFrom != nil {
			t.Fatalf("pool list for another: %v %d %+v", err, n, items)
		}
		mine, err := f.pool.Get(f.ctx, s1, c.ID)
		if err != nil || mine.ClaimableFrom == nil || mine.ClaimableFrom.Sub(*mine.PoolEnteredAt) != 7*24*time.Hour {
			t.Fatalf("former owner's view lacks the cooldown: %v %+v", err, mine)
		}

		// The former owner waits; someone else may claim.
		_, err = f.pool.Claim(f.ctx, s1, c.ID)
		wantKind(t, "claim in cooldown", err, errs.KindConflict, "")
		if err.(*errs.Error).Key != "pool.cooldown" {
			t.Fatalf("cooldown: %v", err)
		}
		got, err := f.pool.Claim(f.ctx, s2, c.ID)
		if err != nil || got.OwnerID != s2.UserID || got.DepartmentID != s2.PrimaryDeptID {
			t.Fatalf("claim: %v %+v", err, got)
		}
		if f.audits(pool.ActClaim, c.ID) != 1 {
			t.Fatal("claim not audited on the customer")
		}
		_, err = f.pool.Claim(f.ctx, s1, c.ID)
		wantKind(t, "claim of an owned customer", err, errs.KindNotFound, "")

		// After the cooldown the former owner may claim again.
		if err := f.pool.Release(f.ctx, s2, c.ID, pool.ReleaseInput{Reason: ptr("转给别人")}); err != nil {
			t.Fatal(err)
		}
		db.Exec("UPDATE customers SET former_owner_id = ?, pool_entered_at = ? WHERE id = ?", s1.UserID, store.Now().Add(-8*24*time.Hour), c.ID)
		if _, err := f.pool.Claim(f.ctx, s1, c.ID); err != nil {
			t.Fatalf("claim after the cooldown: %v", err)
		}

		// Without the permission: 403.
		noPool := *s2
		noPool.Perms = map[auth.Perm]bool{auth.CustomerView: true}
		_, _, err = f.pool.List(f.ctx, &noPool, customer.Filter{})
		wantKind(t, "list without pool.view", err, errs.KindForbidden, "")
		_, err = f.pool.Claim(f.ctx, &noPool, c.ID)
		wantKind(t, "claim without pool.create", err, errs.KindForbidden, "")
		// Every claim and release rewrote the search index's owner.
		if err := customer.NewStore(db).CheckIndex(f.ctx); err != nil {
			t.Error(err)
		}
		if l, n, err := f.customers.List(f.ctx, s1, customer.Filter{Q: c.Name}); err != nil || n != 1 || l[0].ID != c.ID {
			t.Errorf("the new owner's search: %d %v", n, err)
		}
	})
}

// TestCapOnClaimAndAssign: nobody is given customers beyond the cap, by a
// claim (409) or an assignment (400 on user_id); managers assign only to
// active people within their departments.
func TestCapOnClaimAndAssign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s3, mgr1 := f.actor("sim_s1"), f.actor("sim_s3"), f.actor("sim_mgr1")
		f.setRules(func(in *pool.RulesInput) { in.MaxOwned = ptr(2) })
		var pooled []int64
		for i := 0; i < 4; i++ {
			c := f.customer(s1)
			if err := f.pool.Release(f.ctx, s1, c.ID, pool.ReleaseInput{Reason: ptr("测试")}); err != nil {
				t.Fatal(err)
			}
			pooled = append(pooled, c.ID)
		}
		f.customer(s3) // s3 owns one
		if _, err := f.pool.Claim(f.ctx, s3, pooled[0]); err != nil {
			t.Fatal(err)
		}
		before := f.snapshot()
		_, err := f.pool.Claim(f.ctx, s3, pooled[1])
		wantKind(t, "claim over the cap", err, errs.KindConflict, "")
		if err.(*errs.Error).Key != "pool.cap_reached" {
			t.Fatalf("cap: %v", err)
		}
		_, err = f.pool.Assign(f.ctx, mgr1, pooled[1], pool.AssignInput{UserID: &s3.UserID})
		wantKind(t, "assign over the cap", err, errs.KindInvalid, "user_id")

		s4, s5 := f.userID("sim_s4"), f.userID("sim_s5")
		db.Exec("UPDATE users SET active = 0 WHERE id = ?", s4)
		for _, tt := range []struct {
			who    *auth.Actor
			userID *int64
			kind   errs.Kind
		}{
			{mgr1, nil, errs.KindInvalid},
			{mgr1, ptr(int64(999999)), errs.KindInvalid},
			{mgr1, &s4, errs.KindInvalid}, // deactivated
			{mgr1, &s5, errs.KindInvalid}, // another department
			{s1, &s1.UserID, errs.KindForbidden},
		} {
			_, err := f.pool.Assign(f.ctx, tt.who, pooled[1], pool.AssignInput{UserID: tt.userID})
			wantKind(t, "assign", err, tt.kind, "")
		}
		if f.snapshot() != before {
			t.Fatal("a refused claim or assignment wrote something")
		}
		s2 := f.actor("sim_s2")
		got, err := f.pool.Assign(f.ctx, mgr1, pooled[1], pool.AssignInput{UserID: &s2.UserID})
		if err != nil || got.OwnerID != s2.UserID || f.audits(pool.ActAssign, pooled[1]) != 1 {
			t.Fatalf("assign: %v %+v", err, got)
		}
		_, err = f.pool.Assign(f.ctx, mgr1, pooled[1], pool.AssignInput{UserID: &s2.UserID})
		wantKind(t, "assign of an owned customer", err, errs.KindNotFound, "")
	})
}

// TestTransfer: a manager moves customers of their departments to active
// people of their departments, all or nothing, within the cap, each move
// audited with the old and new owner.
func TestTransfer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s1, s2, s3, s5, mgr1 := f.actor("sim_s1"), f.actor("sim_s2"), f.actor("sim_s3"), f.actor("sim_s5"), f.actor("sim_mgr1")
		a, b, c := f.customer(s1), f.customer(s1), f.customer(s1)
		other := f.customer(s5) // 销售二部: outside sim_mgr1's scope

		res, err := f.pool.Transfer(f.ctx, mgr1, pool.TransferInput{CustomerIDs: []int64{a.ID, b.ID, a.ID}, ToUserID: &s3.UserID})
		if err != nil || res.Transferred != 2 || f.owner(a.ID) != s3.UserID || f.owner(b.ID) != s3.UserID {
			t.Fatalf("transfer: %v %+v", err, res)
		}
		var changes string
		db.Get(&changes, "SELECT changes FROM audit_log WHERE action = 'transfer' AND customer_id = ?", a.ID)
		if want := `"owner_id":{"old":` + itoa(s1.UserID) + `,"new":` + itoa(s3.UserID) + `}`; !contains(changes, want) {
			t.Errorf("transfer audit %s lacks %s", changes, want)
		}

		ids501 := make([]int64, 501)
		for i := range ids501 {
			ids501[i] = int64(i + 1)
		}
		s4 := f.userID("sim_s4")
		db.Exec("UPDATE users SET active = 0 WHERE id = ?", s4)
		f.setRules(func(in *pool.RulesInput) { in.MaxOwned = ptr(3) })
		d := f.customer(s2)
		before := f.snapshot()
		for _, tt := range []struct {
			name  string
			who   *auth.Actor
			in    pool.TransferInput
			kind  errs.Kind
			field string
		}{
			{"one out of scope", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID, other.ID}, ToUserID: &s2.UserID}, errs.KindInvalid, "customer_ids." + itoa(other.ID)},
			{"unknown id", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID, 999999}, ToUserID: &s2.UserID}, errs.KindInvalid, "customer_ids.999999"},
			{"to another department", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID}, ToUserID: &s5.UserID}, errs.KindInvalid, "to_user_id"},
			{"to a deactivated person", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID}, ToUserID: &s4}, errs.KindInvalid, "to_user_id"},
			{"to nobody", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID}, ToUserID: ptr(int64(999999))}, errs.KindInvalid, "to_user_id"},
			{"no recipient", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID}}, errs.KindInvalid, "to_user_id"},
			{"no ids", mgr1, pool.TransferInput{ToUserID: &s2.UserID}, errs.KindInvalid, "customer_ids"},
			{"501 ids", mgr1, pool.TransferInput{CustomerIDs: ids501, ToUserID: &s2.UserID}, errs.KindInvalid, "customer_ids"},
			{"bad id", mgr1, pool.TransferInput{CustomerIDs: []int64{-1}, ToUserID: &s2.UserID}, errs.KindInvalid, "customer_ids"},
			{"over the cap", mgr1, pool.TransferInput{CustomerIDs: []int64{c.ID, d.ID}, ToUserID: &s3.UserID}, errs.KindInvalid, "to_user_id"},
			{"salesperson", s1, pool.TransferInput{CustomerIDs: []int64{c.ID}, ToUserID: &s2.UserID}, errs.KindForbidden, ""},
		} {
			_, err := f.pool.Transfer(f.ctx, tt.who, tt.in)
			wantKind(t, tt.name, err, tt.kind, tt.field)
			if f.snapshot() != before {
				t.Fatalf("%s: a refused transfer wrote something", tt.name)
			}
		}
		if f.owner(c.ID) != s1.UserID || f.owner(other.ID) != s5.UserID {
			t.Fatal("all or nothing broken")
		}
		// Already the recipient's: nothing to move.
		res, err = f.pool.Transfer(f.ctx, mgr1, pool.TransferInput{CustomerIDs: []int64{a.ID}, ToUserID: &s3.UserID})
		if err != nil || res.Transferred != 0 || res.Unchanged != 1 {
			t.Fatalf("no-op transfer: %v %+v", err, res)
		}
		// The single transfer: out of scope is not found.
		_, err = f.pool.TransferOne(f.ctx, mgr1, other.ID, &s2.UserID)
		wantKind(t, "single out of scope", err, errs.KindNotFound, "")
		if res, err := f.pool.TransferOne(f.ctx, mgr1, c.ID, &s2.UserID); err != nil || res.Transferred != 1 {
			t.Fatalf("single transfer: %v %+v", err, res)
		}
		if err := customer.NewStore(db).CheckIndex(f.ctx); err != nil {
			t.Errorf("transfers left the search index behind: %v", err)
		}
		for who, want := range map[*auth.Actor]int{s1: 0, s2: 1, s3: 0} {
			if _, n, err := f.customers.List(f.ctx, who, customer.Filter{Q: c.Name}); err != nil || n != want {
				t.Errorf("%s's search for the transferred customer: %d %v, want %d", who.Name, n, err, want)
			}
		}
	})
}

// TestRulesValidation: only pool.manage edits the rules; bad values are
// refused per field; a stale version is a conflict.
func TestRulesValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.actor("sim_admin")
		r, err := f.pool.Rules(f.ctx, admin)
		if err != nil || r.MaxOwned != 200 || r.ClaimCooldownDays != 7 || r.NoFollowDays["a"] != 30 || !r.ReclaimEnabled {
			t.Fatalf("seeded rules: %v %+v", err, r)
		}
		_, err = f.pool.Rules(f.ctx, f.actor("sim_mgr1"))
		wantKind(t, "manager reads rules", err, errs.KindForbidden, "")
		_, err = f.pool.SetRules(f.ctx, admin, pool.RulesInput{MaxOwned: ptr(-1), ClaimCooldownDays: ptr(7), WarnDays: ptr(20),
			NoFollowDays: map[string]int{"vip": 3}, NoFollowDaysDefault: ptr(15), NoDealDays: ptr(5000), ReclaimEnabled: ptr(true), Version: &r.Version})
		wantKind(t, "bad rules", err, errs.KindInvalid, "max_owned")
		for _, field := range []string{"warn_days", "no_follow_days", "no_deal_days"} {
			if _, ok := err.(*errs.Error).Fields[field]; !ok {
				t.Errorf("no problem reported for %s: %v", field, err)
			}
		}
		f.setRules(func(in *pool.RulesInput) { in.MaxOwned = ptr(50) })
		_, err = f.pool.SetRules(f.ctx, admin, pool.RulesInput{MaxOwned: ptr(1), ClaimCooldownDays: ptr(7), WarnDays: ptr(3),
			NoFollowDaysDefault: ptr(15), NoDealDays: ptr(90), ReclaimEnabled: ptr(true), Version: &r.Version})
		wantKind(t, "stale rules", err, errs.KindConflict, "")
		if r, _ := f.pool.Rules(f.ctx, admin); r.MaxOwned != 50 || r.Version != 2 {
			t.Fatalf("rules after edits: %+v", r)
		}
	})
}
