package kv

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Memory is the in-process Store for a single instance.
type Memory struct {
	mu    sync.Mutex
	items map[string]memItem
	now   func() time.Time
}

type memItem struct {
	value   string
	expires time.Time // zero: never
}

// NewMemory returns an empty in-process store.
func NewMemory() *Memory { return &Memory{items: map[string]memItem{}, now: time.Now} }

func (m *Memory) live(key string) (memItem, bool) {
	it, ok := m.items[key]
	if !ok {
		return it, false
	}
	if !it.expires.IsZero() && !m.now().Before(it.expires) {
		delete(m.items, key)
		return it, false
	}
	return it, true
}

func (m *Memory) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	return it.value, ok, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[key] = memItem{value: value, expires: m.expiry(ttl)}
	m.sweep()
	return nil
}

// Del implements Store.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

// Incr implements Store.
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	if !ok {
		it = memItem{value: "0", expires: m.expiry(ttl)}
	}
	n, _ := strconv.ParseInt(it.value, 10, 64)
	n++
	it.value = strconv.FormatInt(n, 10)
	m.items[key] = it
	return n, nil
}

// SetNX implements Store.
func (m *Memory) SetNX(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live(key); ok {
		return false, nil
	}
	m.items[key] = memItem{value: value, expires: m.expiry(ttl)}
	return true, nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error { return nil }

// Close implements Store.
func (m *Memory) Close() error { return nil }

// sweep drops expired items once the map grows, so a long-running single
// instance does not accumulate dead sessions and counters.
func (m *Memory) sweep() {
	if len(m.items) < 10000 {
		return
	}
	for k := range m.items {
		m.live(k)
	}
}
