package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// stats are the timings and outcomes per route of the mix.
type stats struct {
	mu     sync.Mutex
	routes map[string]*routeStats
}

type routeStats struct {
	durs   []time.Duration
	codes  map[int]int
	failed int // transport errors and 5xx/4xx answers
	sample string
}

func newStats() *stats { return &stats{routes: map[string]*routeStats{}} }

func (s *stats) add(route string, d time.Duration, status int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.routes[route]
	if r == nil {
		r = &routeStats{codes: map[int]int{}}
		s.routes[route] = r
	}
	r.durs = append(r.durs, d)
	r.codes[status]++
	if err != nil || status >= 400 {
		r.failed++
		if r.sample == "" {
			r.sample = fmt.Sprintf("status %d %v", status, err)
		}
	}
}

func (s *stats) errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.routes {
		n += r.failed
	}
	return n
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// sample is one reading of one instance's /metrics.
type sample struct {
	at         time.Time
	target     string
	goroutines float64
	rssMB      float64
	heapMB     float64
	err        string
}

func (l *load) sampleLoop(ctx context.Context) {
	t := time.NewTicker(l.o.sample)
	defer t.Stop()
	l.sampleAll(ctx)
	for {
		select {
		case <-ctx.Done():
			l.sampleAll(context.Background())
			return
		case <-t.C:
			l.sampleAll(ctx)
		}
	}
}

func (l *load) sampleAll(ctx context.Context) {
	for _, tg := range l.o.targets {
		s := readMetrics(ctx, l.http, tg)
		if ctx.Err() != nil {
			return // the run ended mid-reading; the final reading follows
		}
		l.mu.Lock()
		l.samples = append(l.samples, s)
		l.mu.Unlock()
	}
}

// readMetrics reads the Go runtime figures from an instance's Prometheus
// endpoint (allowed from loopback).
func readMetrics(ctx context.Context, c *http.Client, target string) (s sample) {
	s = sample{at: time.Now(), target: target}
	req, _ := http.NewRequestWithContext(ctx, "GET", target+"/metrics", nil)
	resp, err := c.Do(req)
	if err != nil {
		s.err = err.Error()
		return s
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		s.err = fmt.Sprintf("/metrics: status %d", resp.StatusCode)
		return s
	}
	found := false
	defer func() {
		if !found && s.err == "" {
			s.err = "no Go runtime metrics at /metrics"
		}
	}()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			found = true
			s.goroutines = f
		case "process_resident_memory_bytes":
			s.rssMB = f / (1 << 20)
		case "go_memstats_heap_inuse_bytes":
			s.heapMB = f / (1 << 20)
		}
	}
	return s
}

// report prints the run's figures.
func (l *load) report(out io.Writer, elapsed time.Duration, v *verification) {
	l.stats.mu.Lock()
	names := make([]string, 0, len(l.stats.routes))
	total, failed := 0, 0
	for n, r := range l.stats.routes {
		names = append(names, n)
		total += len(r.durs)
		failed += r.failed
	}
	sort.Strings(names)
	fmt.Fprintf(out, "\n%d requests in %s: %.1f req/s over %d instance(s), %d failed\n\n",
		total, elapsed.Round(time.Second), float64(total)/elapsed.Seconds(), len(l.o.targets), failed)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "route\tcount\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tfailed\t")
	for _, n := range names {
		r := l.stats.routes[n]
		d := slices.Clone(r.durs)
		slices.Sort(d)
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", n, len(d), float64(len(d))/elapsed.Seconds(),
			ms(pct(d, .5)), ms(pct(d, .95)), ms(pct(d, .99)), ms(pct(d, 1)), r.failed)
	}
	w.Flush()
	for _, n := range names {
		if r := l.stats.routes[n]; r.failed > 0 {
			fmt.Fprintf(out, "  %s: first failure %s; statuses %v\n", n, r.sample, r.codes)
		}
	}
	l.stats.mu.Unlock()

	fmt.Fprintln(out, "\nInstances over time (from /metrics):")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "elapsed\tinstance\tgoroutines\tRSS MB\theap MB\t")
	l.mu.Lock()
	var t0 time.Time
	if len(l.samples) > 0 {
		t0 = l.samples[0].at
	}
	for _, s := range l.samples {
		if s.err != "" {
			fmt.Fprintf(w, "%s\t%s\t%s\t\t\t\n", s.at.Sub(t0).Round(time.Second), s.target, s.err)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.1f\t%.1f\t\n", s.at.Sub(t0).Round(time.Second), s.target, s.goroutines, s.rssMB, s.heapMB)
	}
	l.mu.Unlock()
	w.Flush()
	if v != nil {
		fmt.Fprintf(out, "\nAcknowledged writes read back: %d of %d\n", v.checked-v.missing, v.checked)
		for _, e := range v.examples {
			fmt.Fprintln(out, "  missing:", e)
		}
	}
}
