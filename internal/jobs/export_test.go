package jobs

import (
	"time"

	"github.com/robfig/cron/v3"
)

var secondParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// WithSeconds makes r take 6-field specs and tick by the second, so a test
// sees several ticks in a few seconds.
func WithSeconds(r *Registry) *Registry {
	r.parse = func(spec string) (cron.Schedule, error) { return secondParser.Parse(spec) }
	r.unit = time.Second
	return r
}

// Tick runs what cron runs for a job's tick.
func (r *Registry) Tick(name string) {
	e, _ := r.get(name)
	r.tick(e, OriginSchedule)
}

// ShortLease makes the running lock's lease d for the test.
func ShortLease(t interface{ Cleanup(func()) }, d time.Duration) {
	old := runningLease
	runningLease = d
	t.Cleanup(func() { runningLease = old })
}
