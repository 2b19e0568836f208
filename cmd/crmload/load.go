package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The simulated organization's people (internal/seed): salespeople do the
// browsing and writing, managers read reports.
var (
	salespeople = []string{"sim_s1", "sim_s2", "sim_s3", "sim_s4", "sim_s5", "sim_s6", "sim_s7", "sim_s8"}
	managers    = []string{"sim_mgr1", "sim_mgr2"}
	reportTypes = []string{"sales", "customers", "performance", "funnel"}
	// searchTerms are common fragments of the demo customers' names and
	// companies, plus a phone tail.
	searchTerms = []string{"科技", "贸易", "王", "张", "有限", "上海", "北京", "1380", "李", "网络"}
)

type load struct {
	o      options
	http   *http.Client
	stats  *stats
	sent   atomic.Int64
	next   atomic.Uint64 // round robin over the targets
	tokens map[string]string
	// has says which optional modules the instances serve (from their
	// OpenAPI document), so the mix only uses routes that exist.
	has     map[string]bool
	mu      sync.Mutex
	written []written
	samples []sample
	// down marks instances out of rotation (the fault run's killed one, as
	// a load balancer's health check would); nil in the plain run.
	down []atomic.Bool
	// trace, when set, records every request (the fault run classifies
	// failures by the fault windows they fell in).
	trace *trace
	// remindWithin is how far ahead the reminders the mix creates fall due.
	remindWithin time.Duration
}

// trace is every request of the run, in the order they ended.
type trace struct {
	mu   sync.Mutex
	reqs []traced
}

type traced struct {
	start  time.Time
	dur    time.Duration
	target int
	status int
	err    bool
	route  string
}

func (t *trace) add(r traced) {
	t.mu.Lock()
	t.reqs = append(t.reqs, r)
	t.mu.Unlock()
}

// written is an acknowledged write to read back afterwards.
type written struct{ who, path string }

func newLoad(o options) *load {
	tr := &http.Transport{MaxIdleConnsPerHost: o.workers + 4, IdleConnTimeout: 30 * time.Second}
	return &load{o: o, http: &http.Client{Timeout: 15 * time.Second, Transport: tr}, stats: newStats(), tokens: map[string]string{},
		has: map[string]bool{}, down: make([]atomic.Bool, len(o.targets)), remindWithin: 150 * time.Second}
}

// target picks the next instance in rotation (round robin over those not
// marked down).
func (l *load) target() (int, string) {
	n := len(l.o.targets)
	i := int(l.next.Add(1) % uint64(n))
	for range n {
		if !l.down[i].Load() {
			break
		}
		i = (i + 1) % n
	}
	return i, l.o.targets[i]
}

// prepare signs everyone in (sessions are shared by the instances, so one
// login serves them all) and reads which routes exist.
func (l *load) prepare(ctx context.Context) error {
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if st, err := l.call(ctx, "", "GET", l.o.targets[0]+"/api/v1/openapi.json", nil, &doc); err != nil || st != 200 {
		return fmt.Errorf("cannot read %s/api/v1/openapi.json (status %d): %v", l.o.targets[0], st, err)
	}
	for p := range doc.Paths {
		for _, f := range []string{"/reminders", "/reports/{type}", "/inbox"} {
			if strings.HasSuffix(p, f) {
				l.has[f] = true
			}
		}
	}
	for _, u := range append(append([]string{"sim_admin"}, salespeople...), managers...) {
		var body struct {
			Token string `json:"token"`
		}
		st, err := l.call(ctx, "", "POST", l.o.targets[0]+"/api/v1/auth/dev-login", map[string]any{"userid": u}, &body)
		if err != nil || st != 200 || body.Token == "" {
			return fmt.Errorf("dev login as %s: status %d, %v (is the CRM in simulated mode?)", u, st, err)
		}
		l.tokens[u] = body.Token
	}
	return nil
}

func (l *load) features() []string {
	out := []string{"customers", "search", "timeline", "follow-ups", "sales", "pipeline"}
	if l.has["/reminders"] {
		out = append(out, "reminders")
	}
	if l.has["/reports/{type}"] {
		out = append(out, "reports")
	}
	if l.has["/inbox"] {
		out = append(out, "inbox")
	}
	return out
}

// call sends one request with the person's token and decodes the answer.
func (l *load) call(ctx context.Context, token, method, u string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// do is one timed request of the mix, counted under route.
func (l *load) do(ctx context.Context, who, route, method, path string, body, out any) (int, bool) {
	if l.sent.Add(1) > l.o.requests {
		return 0, false
	}
	start := time.Now()
	i, base := l.target()
	st, err := l.call(ctx, l.tokens[who], method, base+path, body, out)
	if ctx.Err() != nil {
		return st, false // the run ended mid-request: not counted
	}
	d := time.Since(start)
	l.stats.add(route, d, st, err)
	if l.trace != nil {
		l.trace.add(traced{start: start, dur: d, target: i, status: st, err: err != nil || st >= 400, route: route})
	}
	return st, true
}

// drive runs the workers and the metrics sampler until the time or the
// request budget is spent.
func (l *load) drive(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, l.o.duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.sampleLoop(ctx) }()
	var workers sync.WaitGroup
	for i := range l.o.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if i%5 == 4 {
				l.manager(ctx, managers[i/5%len(managers)])
			} else {
				l.salesperson(ctx, salespeople[i%len(salespeople)], i)
			}
		}()
	}
	workers.Wait()
	cancel()
	wg.Wait()
}

func (l *load) pause(ctx context.Context) bool {
	if l.o.think > 0 {
		select {
		case <-time.After(l.o.think):
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil && l.sent.Load() < l.o.requests
}

// salesperson browses their customers and adds follow-ups, sales and
// reminders, in about the proportions of a working day.
func (l *load) salesperson(ctx context.Context, who string, n int) {
	rnd := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	var ids []int64
	refresh := func() bool {
		var list struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		_, ok := l.do(ctx, who, "GET /customers", "GET", "/api/v1/customers?page_size=50", nil, &list)
		if len(list.Items) > 0 {
			ids = ids[:0]
			for _, c := range list.Items {
				ids = append(ids, c.ID)
			}
		}
		return ok
	}
	if !refresh() {
		return
	}
	seq := 0
	for l.pause(ctx) {
		if len(ids) == 0 { // a person with no customers yet makes one
			var c struct {
				ID int64 `json:"id"`
			}
			seq++
			if st, ok := l.do(ctx, who, "POST /customers", "POST", "/api/v1/customers",
				map[string]any{"name": fmt.Sprintf("压测客户%s-%d-%d", who, n, seq)}, &c); !ok {
				return
			} else if st == 201 {
				l.remember(who, fmt.Sprintf("/api/v1/customers/%d", c.ID))
				ids = append(ids, c.ID)
			}
			continue
		}
		id := ids[rnd.IntN(len(ids))]
		var ok bool
		switch r := rnd.IntN(100); {
		case r < 22:
			ok = refresh()
		case r < 37:
			term := url.QueryEscape(searchTerms[rnd.IntN(len(searchTerms))])
			_, ok = l.do(ctx, who, "GET /customers?q", "GET", "/api/v1/customers?page_size=20&q="+term, nil, nil)
		case r < 52:
			_, ok = l.do(ctx, who, "GET /customers/:id", "GET", fmt.Sprintf("/api/v1/customers/%d", id), nil, nil)
		case r < 62:
			_, ok = l.do(ctx, who, "GET /customers/:id/timeline", "GET", fmt.Sprintf("/api/v1/customers/%d/timeline", id), nil, nil)
		case r < 68:
			_, ok = l.do(ctx, who, "GET /followups", "GET", "/api/v1/followups?page_size=20", nil, nil)
		case r < 78:
			ok = l.write(ctx, who, "POST /followups", "/api/v1/followups", "/api/v1/followups/%d", map[string]any{
				"customer_id": id, "followed_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
				"method": "phone", "content": fmt.Sprintf("压测跟进 %s #%d", who, rnd.Int())})
		case r < 83:
			ok = l.write(ctx, who, "POST /sales", "/api/v1/sales", "/api/v1/sales/%d", map[string]any{
				"customer_id": id, "amount_fen": 1000 + rnd.Int64N(1_000_000), "sale_date": time.Now().Format("2006-01-02")})
		case r < 90:
			_, ok = l.do(ctx, who, "GET /pipeline", "GET", "/api/v1/pipeline", nil, nil)
		case r < 95 && l.has["/reminders"]:
			// Due within the run, so the scheduler dispatches under load.
			w := l.remindWithin
			at := time.Now().Add(w/5 + time.Duration(rnd.Int64N(int64(w*4/5)))).UTC().Format(time.RFC3339)
			ok = l.write(ctx, who, "POST /reminders", "/api/v1/reminders", "/api/v1/reminders/%d",
				map[string]any{"customer_id": id, "remind_at": at, "content": "压测提醒"})
		case l.has["/inbox"]:
			_, ok = l.do(ctx, who, "GET /inbox/unread", "GET", "/api/v1/inbox/unread", nil, nil)
		default:
			_, ok = l.do(ctx, who, "GET /me", "GET", "/api/v1/me", nil, nil)
		}
		if !ok {
			return
		}
	}
}

// write posts a record and remembers where to read it back.
func (l *load) write(ctx context.Context, who, route, path, readBack string, body map[string]any) bool {
	var x struct {
		ID int64 `json:"id"`
	}
	st, ok := l.do(ctx, who, route, "POST", path, body, &x)
	if ok && st >= 200 && st < 300 && x.ID > 0 {
		l.remember(who, fmt.Sprintf(readBack, x.ID))
	}
	return ok
}

func (l *load) remember(who, path string) {
	l.mu.Lock()
	l.written = append(l.written, written{who: who, path: path})
	l.mu.Unlock()
}

// manager reads reports, the team's sales and the pipeline.
func (l *load) manager(ctx context.Context, who string) {
	rnd := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	for l.pause(ctx) {
		var ok bool
		switch r := rnd.IntN(100); {
		case r < 50 && l.has["/reports/{type}"]:
			t := reportTypes[rnd.IntN(len(reportTypes))]
			_, ok = l.do(ctx, who, "GET /reports/"+t, "GET", "/api/v1/reports/"+t, nil, nil)
		case r < 65:
			_, ok = l.do(ctx, who, "GET /sales", "GET", "/api/v1/sales?page_size=20", nil, nil)
		case r < 80:
			_, ok = l.do(ctx, who, "GET /pipeline", "GET", "/api/v1/pipeline", nil, nil)
		default:
			_, ok = l.do(ctx, who, "GET /customers", "GET", "/api/v1/customers?page_size=50", nil, nil)
		}
		if !ok {
			return
		}
	}
}

// verification is the read-back of acknowledged writes.
type verification struct {
	checked, missing int
	examples         []string
}

func (v *verification) missingOrZero() int {
	if v == nil {
		return 0
	}
	return v.missing
}

// verifyWrites reads every acknowledged write back as its writer.
func (l *load) verifyWrites(ctx context.Context) *verification {
	v := &verification{}
	l.mu.Lock()
	ws := append([]written(nil), l.written...)
	l.mu.Unlock()
	for _, w := range ws {
		st, err := l.call(ctx, l.tokens[w.who], "GET", l.o.targets[0]+w.path, nil, nil)
		v.checked++
		if err != nil || st != 200 {
			v.missing++
			if len(v.examples) < 5 {
				v.examples = append(v.examples, fmt.Sprintf("%s: %d %v", w.path, st, err))
			}
		}
	}
	return v
}
