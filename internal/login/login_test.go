package login_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/login"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// env is a login service on a seeded database, talking to a fake DingTalk
// that holds the same simulated organization.
type env struct {
	db   *store.DB
	fake *dingtalktest.Server
	kv   *recordingKV
	svc  *login.Service
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	t.Cleanup(fake.Close)
	opts := fake.ClientOptions()
	opts.Retry = dingtalk.RetryPolicy{MaxAttempts: 1}
	client, err := dingtalk.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	store := &recordingKV{Store: kv.NewMemory()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sessions := auth.NewSessions(db, kv.NewMemory(), time.Hour, log)
	return &env{db: db, fake: fake, kv: store,
		svc: login.NewService(db, sessions, auth.NewLoader(db), client, store)}
}

// recordingKV remembers the TTL of the last Set, to check the state's life.
type recordingKV struct {
	kv.Store
	mu     sync.Mutex
	setTTL time.Duration
}

func (r *recordingKV) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	r.mu.Lock()
	r.setTTL = ttl
	r.mu.Unlock()
	return r.Store.Set(ctx, key, value, ttl)
}

// addOutsider puts a person into DingTalk's organization who was never
// synced to the CRM. LoadOrg pushes no events, so no sync can add them.
func addOutsider(t *testing.T, fake *dingtalktest.Server, userID string) {
	t.Helper()
	org := fake.Org()
	org.Users = append(org.Users, dingtalktest.User{UserID: userID, Name: "外部访客", DeptIDs: []int64{1}})
	if err := fake.LoadOrg(org); err != nil {
		t.Fatal(err)
	}
}

func (e *env) deactivate(t *testing.T, userID string) {
	t.Helper()
	if _, err := e.db.Exec("UPDATE users SET active = ? WHERE userid = ?", false, userID); err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLoginWithCode: a login-free code signs its owner in once; a used
// code, someone DingTalk knows but the CRM does not, a deactivated person
// and a failing DingTalk are each refused with their own error and no
// session.
func TestLoginWithCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		addOutsider(t, e.fake, "dt_outsider")
		e.deactivate(t, "sim_s2")
		used := e.fake.IssueLoginCode("sim_s1")
		if _, err := e.svc.LoginWithCode(ctx, used, "", ""); err != nil {
			t.Fatalf("first use: %v", err)
		}
		expired := e.fake.IssueLoginCode("sim_s3")
		e.fake.Advance(dingtalktest.LoginCodeTTL + time.Second)

		tests := []struct {
			name string
			code func() string
			want error
		}{
			{"reused code", func() string { return used }, login.ErrCodeUsed},
			{"expired code", func() string { return expired }, login.ErrCodeUsed},
			{"unknown code", func() string { return "no-such-code" }, login.ErrCodeUsed},
			{"not in the CRM", func() string { return e.fake.IssueLoginCode("dt_outsider") }, login.ErrNotInOrg},
			{"deactivated", func() string { return e.fake.IssueLoginCode("sim_s2") }, login.ErrInactive},
			{"dingtalk refuses the app", func() string {
				e.fake.FailNext(dingtalk.APIGetUserInfo, 88, 1)
				return e.fake.IssueLoginCode("sim_s1")
			}, login.ErrDingTalkUnavailable},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.count(t, "SELECT COUNT(*) FROM sessions")
				res, err := e.svc.LoginWithCode(ctx, tt.code(), "", "")
				if !errors.Is(err, tt.want) || res != nil {
					t.Fatalf("got %v, %v; want %v", res, err, tt.want)
				}
				if after := e.count(t, "SELECT COUNT(*) FROM sessions"); after != before {
					t.Fatalf("sessions %d → %d after a refusal", before, after)
				}
			})
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND changes LIKE ?", "%dingtalk_code%"); n != 1 {
			t.Errorf("audited code logins: %d, want 1", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed' AND actor_id = 0 AND changes LIKE ?", "%dt_outsider%"); n != 1 {
			t.Errorf("audited outsider attempts: %d, want 1", n)
		}
	})
}

// TestOAuth: the state is one-time, bound to the browser that started the
// login and kept 10 minutes; the code is exchanged once; refusals start no
// session.
func TestOAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		addOutsider(t, e.fake, "dt_outsider")
		e.deactivate(t, "sim_s2")
		const redirect = "https://crm.example.com/auth/dingtalk/callback"
		start := func(t *testing.T) (*login.OAuthStart, string) {
			t.Helper()
			st, err := e.svc.StartOAuth(ctx, redirect, "/#/customers/7")
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(st.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if q.Get("redirect_uri") != redirect || q.Get("client_id") != e.fake.AppKey() || q.Get("prompt") != "consent" || q.Get("state") == "" {
				t.Fatalf("authorize URL %s", st.URL)
			}
			return st, q.Get("state")
		}

		st, state := start(t)
		if e.kv.setTTL != login.StateTTL || login.StateTTL != 10*time.Minute {
			t.Fatalf("state kept %s, want 10m", e.kv.setTTL)
		}
		code := e.fake.IssueOAuthCode("sim_s1")
		res, next, err := e.svc.FinishOAuth(ctx, code, state, st.Binding, "", "")
		if err != nil || res.Actor.DingUserID != "sim_s1" || next != "/#/customers/7" {
			t.Fatalf("login: %+v %q %v", res, next, err)
		}
		usedState, usedBinding, usedCode := state, st.Binding, code

		tests := []struct {
			name string
			call func(t *testing.T) error
			want error
		}{
			{"missing state", func(t *testing.T) error {
				st, _ := start(t)
				return finish(e, e.fake.IssueOAuthCode("sim_s1"), "", st.Binding)
			}, login.ErrBadState},
			{"wrong state", func(t *testing.T) error {
				st, _ := start(t)
				return finish(e, e.fake.IssueOAuthCode("sim_s1"), "forged-state", st.Binding)
			}, login.ErrBadState},
			{"reused state", func(t *testing.T) error {
				return finish(e, e.fake.IssueOAuthCode("sim_s1"), usedState, usedBinding)
			}, login.ErrBadState},
			{"state of another browser", func(t *testing.T) error {
				_, state := start(t)
				other, _ := start(t)
				return finish(e, e.fake.IssueOAuthCode("sim_s1"), state, other.Binding)
			}, login.ErrBadState},
			{"no binding cookie", func(t *testing.T) error {
				_, state := start(t)
				return finish(e, e.fake.IssueOAuthCode("sim_s1"), state, "")
			}, login.ErrBadState},
			{"reused code", func(t *testing.T) error {
				st, state := start(t)
				return finish(e, usedCode, state, st.Binding)
			}, login.ErrCodeUsed},
			{"no code", func(t *testing.T) error {
				st, state := start(t)
				return finish(e, "", state, st.Binding)
			}, login.ErrCodeMissing},
			{"not in the CRM", func(t *testing.T) error {
				st, state := start(t)
				return finish(e, e.fake.IssueOAuthCode("dt_outsider"), state, st.Binding)
			}, login.ErrNotInOrg},
			{"deactivated", func(t *testing.T) error {
				st, state := start(t)
				return finish(e, e.fake.IssueOAuthCode("sim_s2"), state, st.Binding)
			}, login.ErrInactive},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.count(t, "SELECT COUNT(*) FROM sessions")
				if err := tt.call(t); !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				if after := e.count(t, "SELECT COUNT(*) FROM sessions"); after != before {
					t.Fatalf("sessions %d → %d after a refusal", before, after)
				}
			})
		}
	})
}

func finish(e *env, code, state, binding string) error {
	_, _, err := e.svc.FinishOAuth(context.Background(), code, state, binding, "", "")
	return err
}

// TestOAuthStateRace: callbacks racing with one state (a double click, a
// replay from another tab) sign in exactly once.
func TestOAuthStateRace(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	st, err := e.svc.StartOAuth(ctx, "http://localhost/auth/dingtalk/callback", "/")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(st.URL)
	state := u.Query().Get("state")
	const n = 16
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- finish(e, e.fake.IssueOAuthCode("sim_s1"), state, st.Binding)
		}()
	}
	wg.Wait()
	close(errs)
	ok, bad := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, login.ErrBadState):
			bad++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if ok != 1 || bad != n-1 {
		t.Fatalf("%d logins and %d refusals, want 1 and %d", ok, bad, n-1)
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/#/customers/12", "/#/customers/12"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/ok\r\nSet-Cookie: x=1", "/"},
	}
	for _, tt := range tests {
		if got := login.SafeNext(tt.in); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
