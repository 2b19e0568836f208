package dingtalk

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ReplayOptions configure a ReplayGuard.
type ReplayOptions struct {
	Window   time.Duration    // accepted distance of a timestamp from now; default 15 min
	EventTTL time.Duration    // how long an event id is remembered; default 24 h
	Prefix   string           // KV key prefix; default "dingtalk:cb:"
	Now      func() time.Time // default time.Now
}

// ReplayGuard refuses replayed callback requests (a timestamp outside the
// window, or a nonce already seen within it) and recognizes events
// delivered twice (the platform retries a push it thinks failed), through
// the shared KV so every instance agrees.
type ReplayGuard struct {
	kv   KV
	opts ReplayOptions
}

// NewReplayGuard builds a guard on kv (nil: in-process only).
func NewReplayGuard(kv KV, opts ReplayOptions) *ReplayGuard {
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.EventTTL <= 0 {
		opts.EventTTL = 24 * time.Hour
	}
	if opts.Prefix == "" {
		opts.Prefix = "dingtalk:cb:"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if kv == nil {
		kv = newMemKV(opts.Now)
	}
	return &ReplayGuard{kv: kv, opts: opts}
}

// CheckRequest accepts a request's timestamp (ms, or seconds) and nonce
// once: ErrStaleTimestamp outside the window, ErrReplayed on a second sight.
func (g *ReplayGuard) CheckRequest(ctx context.Context, timestamp, nonce string) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrStaleTimestamp, timestamp)
	}
	at := time.UnixMilli(ts)
	if ts < 1e12 {
		at = time.Unix(ts, 0)
	}
	if d := g.opts.Now().Sub(at); d > g.opts.Window || d < -g.opts.Window {
		return ErrStaleTimestamp
	}
	fresh, err := g.kv.SetNX(ctx, g.opts.Prefix+"nonce:"+timestamp+":"+nonce, "1", 2*g.opts.Window)
	if err != nil {
		return fmt.Errorf("dingtalk: replay guard: %w", err)
	}
	if !fresh {
		return ErrReplayed
	}
	return nil
}

// FirstDelivery marks eventID as being handled and reports whether this is
// its first delivery. Call Forget when handling fails, so the platform's
// retry is handled again.
func (g *ReplayGuard) FirstDelivery(ctx context.Context, eventID string) (bool, error) {
	if eventID == "" {
		return true, nil
	}
	ok, err := g.kv.SetNX(ctx, g.opts.Prefix+"event:"+eventID, "1", g.opts.EventTTL)
	if err != nil {
		return false, fmt.Errorf("dingtalk: replay guard: %w", err)
	}
	return ok, nil
}

// Forget drops eventID's mark.
func (g *ReplayGuard) Forget(ctx context.Context, eventID string) error {
	if eventID == "" {
		return nil
	}
	return g.kv.Del(ctx, g.opts.Prefix+"event:"+eventID)
}
