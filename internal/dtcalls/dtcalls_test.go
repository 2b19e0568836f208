package dtcalls_test

import (
	"context"
	"sync"
	"testing"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/dtcalls"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var _ dingtalk.CallCounter = (*dtcalls.Counter)(nil)

// TestCountsAreSharedAndExact: concurrent calls from several "instances"
// (counters on one database) all count, per month and API.
func TestCountsAreSharedAndExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := dtcalls.New(db), dtcalls.New(db)
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c := a
				if i%2 == 1 {
					c = b
				}
				if err := c.AddCall(ctx, "2026-11", "user/list"); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		a.AddCall(ctx, "2026-11", "gettoken")
		a.AddCall(ctx, "2026-10", "user/list")
		got, err := b.MonthCalls(ctx, "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		if got["user/list"] != 20 || got["gettoken"] != 1 || len(got) != 2 {
			t.Fatalf("counts: %v", got)
		}
	})
}
