package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store shared by all instances. Every key is prefixed, so one
// Redis can serve several deployments.
type Redis struct {
	c      *redis.Client
	prefix string
}

// NewRedis connects and pings.
func NewRedis(ctx context.Context, addr, password string, db int, prefix string) (*Redis, error) {
	c := redis.NewClient(&redis.Options{
		Addr: addr, Password: password, DB: db,
		DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	r := &Redis{c: c, prefix: prefix}
	if err := r.Ping(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("kv: redis at %s: %w", addr, err)
	}
	return r, nil
}

func (r *Redis) k(key string) string { return r.prefix + key }

func wrap(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := r.c.Get(ctx, r.k(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap(err)
	}
	return v, true, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return wrap(r.c.Set(ctx, r.k(key), value, ttl).Err())
}

// Del implements Store.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.k(k)
	}
	return wrap(r.c.Del(ctx, full...).Err())
}

// incrScript sets the window's expiry on the first increment only, in one
// round trip and atomically.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 and tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Incr implements Store.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	n, err := incrScript.Run(ctx, r.c, []string{r.k(key)}, ttl.Milliseconds()).Int64()
	return n, wrap(err)
}

// SetNX implements Store.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.k(key), value, ttl).Result()
	return ok, wrap(err)
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error { return wrap(r.c.Ping(ctx).Err()) }

// Close implements Store.
func (r *Redis) Close() error { return r.c.Close() }
