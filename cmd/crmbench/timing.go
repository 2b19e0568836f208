package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// samples are the durations of repeated runs of one operation.
type samples []time.Duration

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 1).
func (s samples) percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func (s samples) p50() time.Duration { return s.percentile(0.50) }
func (s samples) p95() time.Duration { return s.percentile(0.95) }

// timed runs fn once and returns how long it took.
func timed(ctx context.Context, fn func(context.Context) error) (time.Duration, error) {
	start := time.Now()
	err := fn(ctx)
	return time.Since(start), err
}

// ms formats a duration in milliseconds with precision that suits its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// times formats a ratio, with a decimal below 10 so 0.7× (slower) does
// not read as 1×.
func times(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.0f×", r)
}

// loadAvg is the machine's 1, 5 and 15 minute load averages, printed with
// the figures because other work on the machine skews them.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
