package dingtalk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// clock is a settable time source shared by a test's client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env starts a fake with the simulated organization and a client on it
// with fast retries and no client-side rate limit worth noticing.
func env(t *testing.T, fo dingtalktest.Options, mod func(*dingtalk.Options)) (*dingtalktest.Server, *dingtalk.Client) {
	t.Helper()
	if fo.Org == nil {
		fo.Org = dingtalktest.SimulatedOrg()
	}
	srv := dingtalktest.New(fo)
	t.Cleanup(srv.Close)
	o := srv.ClientOptions()
	o.QPS = 1000
	o.Burst = 100
	o.Timeout = 2 * time.Second
	o.Retry = dingtalk.RetryPolicy{MaxAttempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond, QPSWait: 2 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	c, err := dingtalk.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return c
}
