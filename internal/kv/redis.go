package kv

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store shared by all instances. Every key is prefixed, so one
// Redis can serve several deployments.
//
// Every caller degrades without it (sessions from the database, rate
// limits open, ticks skipped), so when Redis is down an answer must come
// fast rather than after retries: one retry (a pooled connection may have
// died with a restarted Redis), one dial attempt, and after a failure the
// store answers ErrUnavailable at once for downFor before trying again.
// Without that, go-redis's default retries (3 commands × 5 dials with
// backoff) made every request wait seconds while Redis was down.
type Redis struct {
	c         *redis.Client
	prefix    string
	downUntil atomic.Int64 // unix nanoseconds; 0 = up
}

// downFor is how long a failed Redis is not asked again.
const downFor = time.Second

// NewRedis connects and pings.
func NewRedis(ctx context.Context, addr, password string, db int, prefix string) (*Redis, error) {
	c := redis.NewClient(&redis.Options{
		Addr: addr, Password: password, DB: db,
		DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MaxRetries: 1, DialerRetries: 1,
	})
	r := &Redis{c: c, prefix: prefix}
	if err := r.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("kv: redis at %s: %w", addr, err)
	}
	return r, nil
}

func (r *Redis) k(key string) string { return r.prefix + key }

// errDown is returned without asking Redis while it is marked down.
var errDown = fmt.Errorf("%w: redis failed less than %s ago", ErrUnavailable, downFor)

// down says Redis failed recently.
func (r *Redis) down() bool {
	u := r.downUntil.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// wrap turns a Redis error into ErrUnavailable and marks Redis down, unless
// it was only the caller's context ending.
func (r *Redis) wrap(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	if ctx.Err() == nil {
		r.downUntil.Store(time.Now().Add(downFor).UnixNano())
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	if r.down() {
		return "", false, errDown
	}
	v, err := r.c.Get(ctx, r.k(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, r.wrap(ctx, err)
	}
	return v, true, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if r.down() {
		return errDown
	}
	return r.wrap(ctx, r.c.Set(ctx, r.k(key), value, ttl).Err())
}

// Del implements Store.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if r.down() {
		return errDown
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.k(k)
	}
	return r.wrap(ctx, r.c.Del(ctx, full...).Err())
}

// incrScript sets the window's expiry on the first increment only, in one
// round trip and atomically.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Incr implements Store.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if r.down() {
		return 0, errDown
	}
	n, err := incrScript.Run(ctx, r.c, []string{r.k(key)}, ttl.Milliseconds()).Int64()
	return n, r.wrap(ctx, err)
}

// SetNX implements Store.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if r.down() {
		return false, errDown
	}
	ok, err := r.c.SetNX(ctx, r.k(key), value, ttl).Result()
	return ok, r.wrap(ctx, err)
}

// Ping implements Store. It always asks Redis (readiness probes and the
// first call after an outage must see it come back).
func (r *Redis) Ping(ctx context.Context) error {
	err := r.c.Ping(ctx).Err()
	if err == nil {
		r.downUntil.Store(0)
	}
	return r.wrap(ctx, err)
}

// Close implements Store.
func (r *Redis) Close() error { return r.c.Close() }
