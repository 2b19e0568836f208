package dingtalk

import (
	"context"
	"sort"
	"sync"
	"time"
)

// CallCounter persists how many calls each API made in each calendar month
// (Asia/Shanghai), so admins see how much of the monthly quota is spent.
// The app can back it with its database; MemoryCounter is the in-process one.
type CallCounter interface {
	// AddCall records one call of api in month ("2006-01").
	AddCall(ctx context.Context, month, api string) error
	// MonthCalls returns the calls per API in month.
	MonthCalls(ctx context.Context, month string) (map[string]int64, error)
}

// chinaTime is Asia/Shanghai: UTC+8 all year (no DST since 1991), fixed so
// no tz database is needed.
var chinaTime = time.FixedZone("CST", 8*3600)

// Month returns the quota month of t: its calendar month in Asia/Shanghai.
func Month(t time.Time) string { return t.In(chinaTime).Format("2006-01") }

// MemoryCounter is a CallCounter in memory (one instance, lost on restart).
type MemoryCounter struct {
	mu     sync.Mutex
	months map[string]map[string]int64
}

// NewMemoryCounter returns an empty counter.
func NewMemoryCounter() *MemoryCounter {
	return &MemoryCounter{months: map[string]map[string]int64{}}
}

// AddCall implements CallCounter.
func (m *MemoryCounter) AddCall(_ context.Context, month, api string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	apis := m.months[month]
	if apis == nil {
		apis = map[string]int64{}
		m.months[month] = apis
	}
	apis[api]++
	return nil
}

// MonthCalls implements CallCounter.
func (m *MemoryCounter) MonthCalls(_ context.Context, month string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(m.months[month]))
	for k, v := range m.months[month] {
		out[k] = v
	}
	return out, nil
}

// count records one attempt sent to DingTalk. A failing counter is logged,
// never fails the call.
func (c *Client) count(ctx context.Context, api string) {
	if err := c.counter.AddCall(ctx, Month(c.now()), api); err != nil {
		c.log.WarnContext(ctx, "dingtalk: count call", "api", api, "err", err)
	}
}

// APIUsage is one API's calls in a month.
type APIUsage struct {
	API    string `json:"api"`
	Calls  int64  `json:"calls"`
	Exempt bool   `json:"exempt"` // free of the monthly quota
}

// Usage is a snapshot of one month's calls against the quota.
type Usage struct {
	Month      string     `json:"month"`       // "2006-01", Asia/Shanghai
	APIs       []APIUsage `json:"apis"`        // by API name
	Total      int64      `json:"total"`       // all calls
	QuotaCalls int64      `json:"quota_calls"` // calls that count toward the quota
	Quota      int64      `json:"quota"`       // Options.MonthlyQuota
	Remaining  int64      `json:"remaining"`   // Quota - QuotaCalls, not below 0
}

// Usage returns the call counts of the month containing at (every attempt
// sent counts, retries included, since the platform counts what it receives).
func (c *Client) Usage(ctx context.Context, at time.Time) (Usage, error) {
	month := Month(at)
	calls, err := c.counter.MonthCalls(ctx, month)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Month: month, Quota: c.opts.MonthlyQuota}
	for api, n := range calls {
		ex := QuotaExempt(api)
		u.APIs = append(u.APIs, APIUsage{API: api, Calls: n, Exempt: ex})
		u.Total += n
		if !ex {
			u.QuotaCalls += n
		}
	}
	sort.Slice(u.APIs, func(i, j int) bool { return u.APIs[i].API < u.APIs[j].API })
	u.Remaining = max(u.Quota-u.QuotaCalls, 0)
	return u, nil
}
