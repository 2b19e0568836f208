package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestBacklog: due messages count and age; future ones and sent ones don't.
func TestBacklog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids := addUsers(t, db, "sim_s1")
		now := store.Now()
		if n, age, err := outbox.Backlog(ctx, db, now); err != nil || n != 0 || age != 0 {
			t.Fatalf("empty: %d %v %v", n, age, err)
		}
		enqueue(t, db,
			outbox.Message{UserID: ids["sim_s1"], Title: "a", Body: "a", DedupKey: "b1", DueAt: now.Add(-5 * time.Minute)},
			outbox.Message{UserID: ids["sim_s1"], Title: "b", Body: "b", DedupKey: "b2", DueAt: now.Add(-time.Minute)},
			outbox.Message{UserID: ids["sim_s1"], Title: "c", Body: "c", DedupKey: "b3", DueAt: now.Add(time.Hour)})
		n, age, err := outbox.Backlog(ctx, db, now)
		if err != nil || n != 2 || age < 5*time.Minute-time.Second || age > 5*time.Minute+time.Second {
			t.Fatalf("backlog = %d, %v, %v; want 2 due, oldest 5m", n, age, err)
		}
		d := outbox.NewDispatcher(outbox.Options{DB: db, Quiet: outbox.Never, Log: quiet})
		if _, err := d.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _, err := outbox.Backlog(ctx, db, time.Now()); err != nil || n != 0 {
			t.Fatalf("after dispatch: %d %v", n, err)
		}
	})
}
