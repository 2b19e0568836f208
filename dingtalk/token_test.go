package dingtalk_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/kv"
)

// kv.Memory (and so kv.Redis, same interface) is what the app passes in.
var _ dingtalk.KV = kv.NewMemory()

// unlimited lifts the fake's 20/s limit where a test is not about it.
var unlimited = dingtalktest.Options{QPS: -1}

func TestTokenFetchedOnceForManyCalls(t *testing.T) {
	srv, c := env(t, unlimited, nil)
	ctx := ctx(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for range 10 {
		if _, err := c.ListAdmins(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Calls(dingtalk.APIGetToken); n != 1 {
		t.Errorf("gettoken called %d times for 60 calls, want 1", n)
	}
	// The api host has its own token (whether one token serves both hosts
	// is unconfirmed), fetched once as well.
	for range 3 {
		if _, err := c.SendRobotMessage(ctx, dingtalk.RobotMessage{UserIDs: []string{"sim_s1"}, MsgKey: "sampleText", MsgParam: `{"content":"x"}`}); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Calls(dingtalk.APIAccessToken); n != 1 {
		t.Errorf("v1.0/oauth2/accessToken called %d times, want 1", n)
	}
}

func TestTokensWorkWhenHostsRefuseEachOthersTokens(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{SeparateHostTokens: true}, nil)
	ctx := ctx(t)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTodo(ctx, dingtalk.Todo{CreatorUnionID: "union_sim_s1", Subject: "x", AppURL: "https://x"}); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per host)", n)
	}
}

func TestTokenRefreshedOnceBeforeExpiry(t *testing.T) {
	clk := newClock()
	srv, c := env(t, unlimited, func(o *dingtalk.Options) { o.Now = clk.Now })
	ctx := ctx(t)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	// 2 minutes before expiry: inside the 5-minute refresh window.
	clk.Add(2*time.Hour - 2*time.Minute)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetUser(ctx, "sim_s2"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := srv.Calls(dingtalk.APIGetToken); n != 2 {
		t.Errorf("gettoken called %d times, want 2 (first fetch + one early refresh for 50 callers)", n)
	}
	// The refreshed token is good for another 2 hours: no more fetches.
	clk.Add(time.Hour)
	if _, err := c.GetUser(ctx, "sim_s2"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(dingtalk.APIGetToken); n != 2 {
		t.Errorf("gettoken called %d times after refresh, want 2", n)
	}
	// Past expiry with 50 callers at once: one fetch (singleflight).
	clk.Add(2 * time.Hour)
	wg = sync.WaitGroup{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetUser(ctx, "sim_s2"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := srv.Calls(dingtalk.APIGetToken); n != 3 {
		t.Errorf("gettoken called %d times after expiry, want 3", n)
	}
}

func TestTokenSharedAcrossInstances(t *testing.T) {
	store := kv.NewMemory()
	srv, a := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) { o.KV = store })
	o := srv.ClientOptions()
	o.KV = store
	b, err := dingtalk.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx(t)
	if _, err := a.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("two instances on one kv made %d token requests, want 1", n)
	}
	if a.TokenFetches() != 1 || b.TokenFetches() != 0 {
		t.Errorf("fetches a=%d b=%d", a.TokenFetches(), b.TokenFetches())
	}
}

func TestInvalidTokenDroppedAndRetriedOnce(t *testing.T) {
	tests := []struct {
		name  string
		api   string
		token string // the token endpoint of that host
		call  func(c *dingtalk.Client) error
	}{
		{"oapi (errcode 40014)", dingtalk.APIUserGet, dingtalk.APIGetToken, func(c *dingtalk.Client) error {
			_, err := c.GetUser(ctx(t), "sim_s1")
			return err
		}},
		{"api host (HTTP 400 InvalidAuthentication)", dingtalk.APIRobotBatchSend, dingtalk.APIAccessToken, func(c *dingtalk.Client) error {
			_, err := c.SendRobotMessage(ctx(t), dingtalk.RobotMessage{UserIDs: []string{"sim_s1"}, MsgKey: "sampleText", MsgParam: `{"content":"x"}`})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := env(t, dingtalktest.Options{}, nil)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			srv.InvalidateTokens() // e.g. the secret was reset
			if err := tt.call(c); err != nil {
				t.Fatalf("after invalidation: %v", err)
			}
			if n := srv.Calls(tt.api); n != 3 {
				t.Errorf("%s called %d times, want 3 (ok, refused, retried)", tt.api, n)
			}
			if n := srv.Calls(tt.token); n != 2 {
				t.Errorf("token fetched %d times, want 2", n)
			}
			// A token refused twice in a row is not retried a third time.
			srv.FailNext(tt.api, 40014, 2)
			err := tt.call(c)
			if !errorsIs(err, dingtalk.ErrInvalidToken) {
				t.Errorf("refused twice: err = %v, want ErrInvalidToken", err)
			}
			if n := srv.Calls(tt.api); n != 5 {
				t.Errorf("%s called %d times, want 5", tt.api, n)
			}
		})
	}
}

func TestEarlyRefreshOnceAcrossInstances(t *testing.T) {
	store := kv.NewMemory()
	clk := newClock()
	srv, a := env(t, unlimited, func(o *dingtalk.Options) { o.KV, o.Now = store, clk.Now })
	o := srv.ClientOptions()
	o.KV, o.Now, o.QPS = store, clk.Now, 1000
	b, err := dingtalk.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetUser(ctx(t), "sim_s1"); err != nil {
		t.Fatal(err)
	}
	clk.Add(2*time.Hour - 3*time.Minute)
	var wg sync.WaitGroup
	for i := range 50 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetUser(ctx(t), "sim_s2"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := srv.Calls(dingtalk.APIGetToken); n != 2 {
		t.Errorf("gettoken called %d times by two instances, want 2 (one early refresh in all)", n)
	}
}
