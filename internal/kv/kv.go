// Package kv is the small shared-state seam: a cache with expiry, counters
// for rate limits and set-if-absent for locks. Redis backs it when several
// instances run; an in-process map backs it for the embedded default.
package kv

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable means the backing store cannot be reached; callers degrade
// (e.g. fall back to the database) rather than fail.
var ErrUnavailable = errors.New("kv: unavailable")

// Store is implemented by Redis and Memory.
type Store interface {
	// Get returns the value and whether it exists.
	Get(ctx context.Context, key string) (string, bool, error)
	// Set stores value for ttl (0 = no expiry).
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// Del removes keys; missing keys are not an error.
	Del(ctx context.Context, keys ...string) error
	// Incr adds one and returns the new count; the first increment starts a
	// window of ttl after which the counter disappears.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// SetNX stores value only if key is absent and reports whether it did.
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Ping checks the connection.
	Ping(ctx context.Context) error
	// Close releases resources.
	Close() error
}
