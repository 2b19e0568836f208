package dingtalk_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// recorder collects backoff delays instead of sleeping them.
type recorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	r.delays = append(r.delays, d)
	r.mu.Unlock()
	return nil
}

func TestRetries(t *testing.T) {
	getUser := func(c *dingtalk.Client) error { _, err := c.GetUser(context.Background(), "sim_s1"); return err }
	todo := func(c *dingtalk.Client) error {
		_, err := c.CreateTodo(context.Background(), dingtalk.Todo{CreatorUnionID: "union_sim_s1", Subject: "x", AppURL: "https://x"})
		return err
	}
	tests := []struct {
		name      string
		api       string
		code      int // FailNext code
		fails     int
		call      func(*dingtalk.Client) error
		wantCalls int
		wantErr   error // nil: success
		qps       bool  // delays are at least QPSWait
	}{
		{"system busy -1", dingtalk.APIUserGet, -1, 2, getUser, 3, nil, false},
		{"app QPS 90018", dingtalk.APIUserGet, 90018, 2, getUser, 3, nil, true},
		{"platform QPS 90002", dingtalk.APIUserGet, 90002, 1, getUser, 2, nil, true},
		{"HTTP 500", dingtalk.APIUserGet, 500, 2, getUser, 3, nil, false},
		{"HTTP 503", dingtalk.APIUserGet, 503, 1, getUser, 2, nil, false},
		{"HTTP 429", dingtalk.APIUserGet, 429, 1, getUser, 2, nil, false},
		{"busy for good", dingtalk.APIUserGet, -1, 10, getUser, 4, dingtalk.ErrBusy, false},
		{"monthly quota 90020: no retry", dingtalk.APIUserGet, 90020, 1, getUser, 1, dingtalk.ErrQuotaExhausted, false},
		{"new style 429 system.busy", dingtalk.APITodoCreate, -1, 2, todo, 3, nil, false},
		{"new style QPS 403", dingtalk.APITodoCreate, 90018, 1, todo, 2, nil, true},
		{"new style 500", dingtalk.APITodoCreate, 500, 1, todo, 2, nil, false},
		{"new style quota: no retry", dingtalk.APITodoCreate, 90020, 1, todo, 1, dingtalk.ErrQuotaExhausted, false},
		{"not found: no retry", dingtalk.APIUserGet, 60121, 1, getUser, 1, dingtalk.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var alerts []dingtalk.Alert
			srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
				o.Retry = dingtalk.RetryPolicy{MaxAttempts: 4, Base: 100 * time.Millisecond, Max: time.Second, QPSWait: 700 * time.Millisecond}
				o.OnAlert = func(_ context.Context, a dingtalk.Alert) { alerts = append(alerts, a) }
			})
			rec := &recorder{}
			dingtalk.SetSleep(c, rec.sleep)
			if err := tt.call(c); err != nil { // warm the token
				t.Fatal(err)
			}
			before := srv.Calls(tt.api)
			srv.FailNext(tt.api, tt.code, tt.fails)
			err := tt.call(c)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := srv.Calls(tt.api) - before; n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
			if len(rec.delays) != tt.wantCalls-1 {
				t.Fatalf("delays %v, want %d", rec.delays, tt.wantCalls-1)
			}
			for i, d := range rec.delays {
				lo := (100 * time.Millisecond << i) / 2
				if tt.qps {
					lo = 700 * time.Millisecond
				}
				if d < lo || d > 2*time.Second {
					t.Errorf("delay %d = %v, want ≥ %v", i, d, lo)
				}
			}
			quota := errors.Is(tt.wantErr, dingtalk.ErrQuotaExhausted)
			if quota != (len(alerts) == 1) || quota && (alerts[0].Kind != dingtalk.AlertQuotaExhausted || alerts[0].API != tt.api) {
				t.Errorf("alerts = %+v", alerts)
			}
		})
	}
}

func TestBackoffGrows(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
		o.Retry = dingtalk.RetryPolicy{MaxAttempts: 6, Base: 100 * time.Millisecond, Max: 800 * time.Millisecond}
	})
	rec := &recorder{}
	dingtalk.SetSleep(c, rec.sleep)
	srv.FailNext(dingtalk.APIListAdmin, -1, 5)
	if _, err := c.ListAdmins(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Jittered into [d/2, d] with d = 100, 200, 400, 800, 800 ms.
	caps := []time.Duration{100, 200, 400, 800, 800}
	for i, d := range rec.delays {
		hi := caps[i] * time.Millisecond
		if d < hi/2 || d > hi {
			t.Errorf("delay %d = %v, want in [%v, %v]", i, d, hi/2, hi)
		}
	}
	if len(rec.delays) != 5 {
		t.Errorf("delays = %v", rec.delays)
	}
}

func TestTimeoutRetried(t *testing.T) {
	srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) { o.Timeout = 150 * time.Millisecond })
	ctx := ctx(t)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	srv.DelayNext(dingtalk.APIUserGet, 400*time.Millisecond, 1)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatalf("oapi timeout then success: %v", err)
	}
	if n := srv.Calls(dingtalk.APIUserGet); n != 3 {
		t.Errorf("user/get called %d times, want 3", n)
	}
	// Through the SDK as well.
	srv.DelayNext(dingtalk.APITodoCreate, 400*time.Millisecond, 1)
	if _, err := c.CreateTodo(ctx, dingtalk.Todo{CreatorUnionID: "union_sim_s1", Subject: "x", AppURL: "https://x"}); err != nil {
		t.Fatalf("sdk timeout then success: %v", err)
	}
	if n := srv.Calls(dingtalk.APITodoCreate); n != 2 {
		t.Errorf("todo create called %d times, want 2", n)
	}
	// The caller's own deadline is not retried.
	srv.SetLatency(dingtalk.APIUserGet, time.Second)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.GetUser(short, "sim_s1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: err = %v", err)
	}
}

func TestIPBanStopsCalls(t *testing.T) {
	var alerts atomic.Int32
	srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
		o.OnAlert = func(_ context.Context, a dingtalk.Alert) {
			if a.Kind == dingtalk.AlertIPBlocked {
				alerts.Add(1)
			}
		}
	})
	ctx := ctx(t)
	srv.FailNext(dingtalk.APIUserGet, dingtalktest.IPBan, 1)
	if _, err := c.GetUser(ctx, "sim_s1"); !errors.Is(err, dingtalk.ErrIPBlocked) {
		t.Fatalf("err = %v, want ErrIPBlocked", err)
	}
	before := srv.Calls(dingtalk.APIListAdmin)
	if _, err := c.ListAdmins(ctx); !errors.Is(err, dingtalk.ErrIPBlocked) {
		t.Errorf("during the ban: err = %v", err)
	}
	if srv.Calls(dingtalk.APIListAdmin) != before || alerts.Load() != 1 {
		t.Errorf("a call reached DingTalk during the ban, or alerts = %d", alerts.Load())
	}
}

// sub_code may come as a number and may carry a platform code (errcode 88
// with sub_code 90018): both readings are accepted.
func TestSubCodeForms(t *testing.T) {
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gettoken" {
			_, _ = w.Write([]byte(`{"errcode":0,"access_token":"t","expires_in":7200}`))
			return
		}
		if n.Add(1) == 1 {
			_, _ = w.Write([]byte(`{"errcode":88,"errmsg":"鉴权异常","sub_code":90018,"sub_msg":"qps","request_id":"r1"}`))
			return
		}
		_, _ = w.Write([]byte(`{"errcode":0,"result":[{"userid":"a","sys_level":1}],"request_id":"r2"}`))
	}))
	defer ts.Close()
	c, err := dingtalk.New(dingtalk.Options{AppKey: "k", AppSecret: "s", OAPIBaseURL: ts.URL, APIBaseURL: ts.URL,
		Retry: dingtalk.RetryPolicy{Base: time.Millisecond, QPSWait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	admins, err := c.ListAdmins(context.Background())
	if err != nil || len(admins) != 1 || n.Load() != 2 {
		t.Fatalf("admins %v, err %v, calls %d", admins, err, n.Load())
	}
	e := &dingtalk.Error{ErrCode: 88, SubCode: "60011"}
	if !errors.Is(e, dingtalk.ErrNoPermission) || errors.Is(e, dingtalk.ErrRateLimited) {
		t.Errorf("88/60011 classified wrong")
	}
	for _, e := range []*dingtalk.Error{{HTTPStatus: 401}, {HTTPStatus: 400, Code: "InvalidAuthentication"}, {HTTPStatus: 400, Code: "accesstoken.expired"}, {ErrCode: 42001}, {ErrCode: 40001}} {
		if !errors.Is(e, dingtalk.ErrInvalidToken) {
			t.Errorf("%+v is not ErrInvalidToken", e)
		}
	}
}

func TestRateLimit(t *testing.T) {
	const calls = 30
	burst := func(c *dingtalk.Client) (time.Duration, int) {
		var wg sync.WaitGroup
		var failed atomic.Int32
		start := time.Now()
		for range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.GetUser(context.Background(), "sim_s1"); err != nil {
					if !errors.Is(err, dingtalk.ErrRateLimited) {
						t.Error(err)
					}
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		return time.Since(start), int(failed.Load())
	}
	t.Run("bucket 15/s under the fake's 20/s", func(t *testing.T) {
		srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
			o.QPS, o.Burst = 15, 1
			o.Retry.MaxAttempts = 1 // any QPS answer would fail the call
		})
		if _, err := c.GetAccessToken(context.Background()); err != nil {
			t.Fatal(err)
		}
		took, failed := burst(c)
		if failed != 0 || srv.Calls(dingtalk.APIUserGet) != calls {
			t.Errorf("%d calls refused by the fake, %d reached it", failed, srv.Calls(dingtalk.APIUserGet))
		}
		if min := time.Duration(calls-1) * time.Second / 15; took < min-50*time.Millisecond {
			t.Errorf("%d calls took %v, want ≥ %v at 15/s", calls, took, min)
		}
	})
	t.Run("no bucket: the fake's limit answers 90018", func(t *testing.T) {
		_, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) { o.Retry.MaxAttempts = 1 })
		if _, err := c.GetAccessToken(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, failed := burst(c); failed < calls-20 {
			t.Errorf("%d calls refused, want ≥ %d", failed, calls-20)
		}
	})
}

func TestUsageCounts(t *testing.T) {
	clk := newClock()
	clk.t = time.Date(2026, 8, 31, 15, 30, 0, 0, time.UTC) // 23:30 in Shanghai
	counter := dingtalk.NewMemoryCounter()
	srv, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
		o.Now, o.Counter, o.MonthlyQuota = clk.Now, counter, 100
	})
	ctx := ctx(t)
	for range 3 {
		if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
			t.Fatal(err)
		}
	}
	srv.FailNext(dingtalk.APIAsyncSend, -1, 1) // a retried attempt counts too
	if _, err := c.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: []string{"sim_s1"}, Msg: dingtalk.TextMessage("hi")}); err != nil {
		t.Fatal(err)
	}
	u, err := c.Usage(ctx, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []dingtalk.APIUsage{
		{API: dingtalk.APIGetToken, Calls: 1, Exempt: true},
		{API: dingtalk.APIAsyncSend, Calls: 2, Exempt: false},
		{API: dingtalk.APIUserGet, Calls: 3, Exempt: true},
	}
	if u.Month != "2026-08" || u.Total != 6 || u.QuotaCalls != 2 || u.Quota != 100 || u.Remaining != 98 || !equalUsage(u.APIs, want) {
		t.Errorf("usage = %+v", u)
	}
	// 00:30 in Shanghai is September already: a new month starts from zero.
	clk.Add(time.Hour)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	u, _ = c.Usage(ctx, clk.Now())
	if u.Month != "2026-09" || u.Total != 1 {
		t.Errorf("september usage = %+v", u)
	}
}

func equalUsage(a, b []dingtalk.APIUsage) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]dingtalk.APIUsage{}
	for _, x := range a {
		m[x.API] = x
	}
	for _, x := range b {
		if m[x.API] != x {
			return false
		}
	}
	return true
}
