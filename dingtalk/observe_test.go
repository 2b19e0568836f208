package dingtalk_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// TestObserveSeesEveryAttempt: the Observe hook (the app's metrics) is told
// about each attempt with its API and result code: "0" for success, the
// errcode of a refusal.
func TestObserveSeesEveryAttempt(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	_, c := env(t, dingtalktest.Options{}, func(o *dingtalk.Options) {
		o.Observe = func(api, code string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if d < 0 {
				t.Errorf("negative duration for %s", api)
			}
			seen[api+" "+code]++
		}
	})
	ctx := ctx(t)
	if _, err := c.GetUser(ctx, "sim_s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, "nobody"); err == nil {
		t.Fatal("unknown user found")
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[dingtalk.APIUserGet+" 0"] != 1 || seen[dingtalk.APIUserGet+" 60121"] != 1 {
		t.Fatalf("observed %v", seen)
	}
}
