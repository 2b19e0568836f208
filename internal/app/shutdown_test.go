package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
)

// TestServeWaitsForShutdownHooks: when the serving context ends, Serve
// returns only after the registered background work (a job still running)
// has finished, and gives it the shutdown deadline.
func TestServeWaitsForShutdownHooks(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	a, err := app.New(context.Background(), cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var finished atomic.Bool
	var hadDeadline atomic.Bool
	a.OnShutdown(func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		hadDeadline.Store(ok)
		time.Sleep(300 * time.Millisecond) // a job finishing its batch
		finished.Store(true)
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, nil) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if !finished.Load() || !hadDeadline.Load() {
		t.Fatalf("Serve returned before the hook finished (%v) or gave it no deadline (%v)", finished.Load(), hadDeadline.Load())
	}
}
