package kv

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// gate is a TCP proxy to Redis that can refuse connections and cut the
// open ones, to take Redis away from one client without touching the
// shared server.
type gate struct {
	addr, upstream string
	mu             sync.Mutex
	ln             net.Listener
	conns          []net.Conn
}

func newGate(t *testing.T, upstream string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{addr: ln.Addr().String(), upstream: upstream}
	g.serve(ln)
	t.Cleanup(g.close)
	return g
}

func (g *gate) serve(ln net.Listener) {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", g.upstream)
			if err != nil {
				c.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, c, up)
			g.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ln != nil {
		g.ln.Close()
		g.ln = nil
	}
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

func (g *gate) open(t *testing.T) {
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	g.serve(ln)
}

// TestRedisDownAnswersFast: with Redis gone, every operation answers
// ErrUnavailable within a few milliseconds (not after go-redis's retries
// and dial backoff, which made each request of the fault run wait
// seconds), and once Redis is back the store uses it again by itself.
func TestRedisDownAnswersFast(t *testing.T) {
	addr := os.Getenv("CRM_TEST_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CRM_TEST_REDIS_ADDR is not set")
		}
		t.Skip("needs CRM_TEST_REDIS_ADDR")
	}
	ctx := context.Background()
	g := newGate(t, addr)
	r, err := NewRedis(ctx, g.addr, "", 0, "crmtest:down:"+time.Now().Format("150405.000000")+":")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Set(ctx, "k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	g.close()
	start := time.Now()
	for i := range 50 {
		if _, _, err := r.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("get %d with Redis down: %v", i, err)
		}
		if _, err := r.SetNX(ctx, "lock", "me", time.Minute); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("setnx %d with Redis down: %v", i, err)
		}
		if _, err := r.Incr(ctx, "n", time.Minute); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("incr %d with Redis down: %v", i, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("150 operations with Redis down took %s; each should fail at once", d)
	}
	g.open(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, ok, err := r.Get(ctx, "k")
		if err == nil {
			if !ok || v != "v" {
				t.Fatalf("after Redis came back: %q %v", v, ok)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis back but the store still fails: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Del(ctx, "k", "lock", "n")
}
