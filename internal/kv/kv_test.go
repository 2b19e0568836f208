package kv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"
)

// stores returns the in-process store and, when CRM_TEST_REDIS_ADDR is set,
// a Redis store with a fresh prefix. In CI Redis is required.
func stores(t *testing.T) map[string]Store {
	out := map[string]Store{"memory": NewMemory()}
	addr := os.Getenv("CRM_TEST_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CRM_TEST_REDIS_ADDR is not set")
		}
		t.Log("Redis not configured (CRM_TEST_REDIS_ADDR): testing the in-process store only")
		return out
	}
	b := make([]byte, 4)
	rand.Read(b)
	r, err := NewRedis(context.Background(), addr, "", 0, "crmtest:"+hex.EncodeToString(b)+":")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	out["redis"] = r
	return out
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, ok, _ := s.Get(ctx, "missing"); ok {
				t.Fatal("missing key found")
			}
			s.Set(ctx, "a", "1", 0)
			if v, ok, err := s.Get(ctx, "a"); !ok || v != "1" || err != nil {
				t.Fatalf("get a: %q %v %v", v, ok, err)
			}
			s.Del(ctx, "a", "never-set")
			if _, ok, _ := s.Get(ctx, "a"); ok {
				t.Fatal("deleted key found")
			}
			s.Set(ctx, "short", "x", 50*time.Millisecond)
			time.Sleep(120 * time.Millisecond)
			if _, ok, _ := s.Get(ctx, "short"); ok {
				t.Fatal("expired key found")
			}
			for i := int64(1); i <= 3; i++ {
				if n, err := s.Incr(ctx, "ctr", time.Minute); n != i || err != nil {
					t.Fatalf("incr %d: %d %v", i, n, err)
				}
			}
			if ok, _ := s.SetNX(ctx, "lock", "me", time.Minute); !ok {
				t.Fatal("first SetNX failed")
			}
			if ok, _ := s.SetNX(ctx, "lock", "you", time.Minute); ok {
				t.Fatal("second SetNX took a held lock")
			}
		})
	}
}

// TestIncrIsAtomic checks that concurrent increments are all counted, which
// is what makes the rate limit hold across goroutines and instances.
func TestIncrIsAtomic(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); s.Incr(ctx, "race", time.Minute) }()
			}
			wg.Wait()
			if n, _ := s.Incr(ctx, "race", time.Minute); n != 51 {
				t.Fatalf("want 51, got %d", n)
			}
		})
	}
}
