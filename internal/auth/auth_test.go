package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func userID(t *testing.T, db *store.DB, dt string) int64 {
	var id int64
	if err := db.Get(&id, "SELECT id FROM users WHERE userid = ?", dt); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLoaderScopes checks the effective permissions and the departments a
// scope reaches for each built-in role, on every engine.
func TestLoaderScopes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed.EnsureRoles(ctx, db)
		if _, err := seed.SimulatedOrg(ctx, db); err != nil {
			t.Fatal(err)
		}
		l := auth.NewLoader(db)
		deptID := func(name string) int64 {
			var id int64
			db.Get(&id, "SELECT id FROM departments WHERE name = ?", name)
			return id
		}
		tests := []struct {
			who       string
			scope     auth.Scope
			can, not  auth.Perm
			scopeDept []string
		}{
			{"sim_admin", auth.ScopeAll, auth.UserManage, "", nil},
			{"sim_mgr1", auth.ScopeDeptTree, auth.CustomerAssign, auth.UserManage, []string{"销售一部", "华东组"}},
			{"sim_mgr2", auth.ScopeDeptTree, auth.UserView, auth.AuditView, []string{"销售二部"}},
			{"sim_s1", auth.ScopeSelf, auth.CustomerCreate, auth.CustomerAssign, nil},
		}
		for _, tt := range tests {
			a, err := l.Load(ctx, userID(t, db, tt.who))
			if err != nil {
				t.Fatal(err)
			}
			if a.Scope != tt.scope || !a.Can(tt.can) || (tt.not != "" && a.Can(tt.not)) {
				t.Errorf("%s: scope %s perms %v", tt.who, a.Scope, a.PermList())
			}
			var want []int64
			for _, n := range tt.scopeDept {
				want = append(want, deptID(n))
			}
			got := slices.Clone(a.ScopeDeptIDs)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: scope departments %v, want %v", tt.who, got, want)
			}
		}
		db.Exec("UPDATE users SET active = 0 WHERE userid = 'sim_s2'")
		if _, err := l.Load(ctx, userID(t, db, "sim_s2")); !errors.Is(err, auth.ErrInactive) {
			t.Fatalf("inactive person loaded: %v", err)
		}
	})
}

func TestScopeFilterAndSees(t *testing.T) {
	a := &auth.Actor{UserID: 7, Scope: auth.ScopeDeptTree, ScopeDeptIDs: []int64{2, 4}}
	cond, args := a.ScopeFilter("c.owner_id", "c.department_id")
	if cond != "(c.owner_id = ? OR c.department_id IN (?, ?))" || len(args) != 3 {
		t.Fatalf("%s %v", cond, args)
	}
	if !a.Sees(7, 99) || !a.Sees(1, 4) || a.Sees(1, 3) {
		t.Fatal("Sees disagrees with the scope")
	}
	self := &auth.Actor{UserID: 7, Scope: auth.ScopeSelf}
	if self.Sees(8, 2) || !self.Sees(7, 0) {
		t.Fatal("self scope")
	}
	if auth.Wider(auth.ScopeSelf, auth.ScopeAll) != auth.ScopeAll || auth.Wider(auth.ScopeDept, auth.ScopeSelf) != auth.ScopeDept {
		t.Fatal("Wider")
	}
	if !auth.ValidPerm("customer.view") || auth.ValidPerm("customer.fly") || auth.ValidPerm("x") {
		t.Fatal("ValidPerm")
	}
	if got := auth.ParsePerms("customer.view bogus.perm user.manage"); len(got) != 2 {
		t.Fatalf("ParsePerms kept an unknown code: %v", got)
	}
}

// TestSessions: tokens are stored hashed, expire, and revocation reaches
// the cache at once.
func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed.EnsureRoles(ctx, db)
		seed.SimulatedOrg(ctx, db)
		s := auth.NewSessions(db, kv.NewMemory(), time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
		uid := userID(t, db, "sim_s1")
		tok, _, err := s.Create(ctx, db, uid, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		db.Get(&stored, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", tok)
		if stored != 0 || len(tok) < 43 {
			t.Fatal("raw token stored, or token too short")
		}
		if got, err := s.UserFor(ctx, tok); err != nil || got != uid {
			t.Fatalf("UserFor: %d %v", got, err)
		}
		if _, err := s.UserFor(ctx, tok+"x"); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatal("a wrong token was accepted")
		}
		after, err := s.RevokeUser(ctx, db, uid)
		if err != nil {
			t.Fatal(err)
		}
		after()
		if _, err := s.UserFor(ctx, tok); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatal("revoked session still valid (cache not cleared)")
		}
		tok2, _, _ := s.Create(ctx, db, uid, "", "")
		db.Exec("UPDATE sessions SET expires_at = ?", store.Now().Add(-time.Minute))
		if _, err := s.UserFor(ctx, tok2); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatal("expired session accepted")
		}
		if n, _ := s.PurgeExpired(ctx); n != 1 {
			t.Fatalf("purged %d", n)
		}
	})
}
