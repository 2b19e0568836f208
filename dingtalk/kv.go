package dingtalk

import (
	"context"
	"sync"
	"time"
)

// KV is the slice of the app's shared key-value store the client needs: the
// app token cache, the cross-instance refresh lock and the callback replay
// guard. internal/kv's Redis and in-memory stores satisfy it.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	Del(ctx context.Context, keys ...string) error
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
}

// memKV is the in-process KV used when the caller gives none (one instance).
type memKV struct {
	mu    sync.Mutex
	items map[string]memItem
	now   func() time.Time
}

type memItem struct {
	value   string
	expires time.Time
}

func newMemKV(now func() time.Time) *memKV {
	return &memKV{items: map[string]memItem{}, now: now}
}

func (m *memKV) live(key string) (memItem, bool) {
	it, ok := m.items[key]
	if ok && !it.expires.IsZero() && !m.now().Before(it.expires) {
		delete(m.items, key)
		return it, false
	}
	return it, ok
}

func (m *memKV) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	return it.value, ok, nil
}

func (m *memKV) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[key] = memItem{value: value, expires: m.expiry(ttl)}
	return nil
}

func (m *memKV) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

func (m *memKV) SetNX(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live(key); ok {
		return false, nil
	}
	m.items[key] = memItem{value: value, expires: m.expiry(ttl)}
	return true, nil
}

func (m *memKV) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}
