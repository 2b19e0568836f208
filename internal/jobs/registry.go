// Package jobs is the scheduler: a registry of named jobs on
// robfig/cron/v3, each with a schedule an admin may change (stored in the
// database), enabled, run-at-start, an overlap guard, panic recovery and a
// record of every run in job_runs. With several instances every instance
// runs the same schedule and a set-if-absent lock in kv per (job, tick)
// decides which one runs it, so each job fires once per tick.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
)

// Result is what a job reports: a one-line summary and named counts.
type Result struct {
	Summary string
	Counts  map[string]int64
}

// Func runs a job once. now is the tick (or the start of a manual run) in
// the company's time zone.
type Func func(ctx context.Context, now time.Time) (Result, error)

// Job is a named piece of background work.
type Job struct {
	Name string
	// Schedule is the default cron spec (minute hour day-of-month month
	// day-of-week, or @daily, @hourly …) in the company's time zone; an
	// admin may replace it.
	Schedule string
	// Disabled jobs are registered but not scheduled until an admin
	// enables them.
	Disabled bool
	// RunAtStart runs the job once when the scheduler starts.
	RunAtStart bool
	// Timeout bounds one run; default one hour.
	Timeout time.Duration
	Run     Func
}

// Options configure a Registry.
type Options struct {
	DB       *store.DB
	KV       kv.Store
	Location *time.Location
	Log      *slog.Logger
	// Instance names this process in job_runs; default host:pid.
	Instance string
	// Reload is how often the admins' schedule changes made on other
	// instances are picked up; default 30 s.
	Reload time.Duration
}

// Registry holds the jobs and, once started, schedules them.
type Registry struct {
	db       *store.DB
	kv       kv.Store
	loc      *time.Location
	log      *slog.Logger
	instance string
	reload   time.Duration

	mu      sync.Mutex
	jobs    map[string]*entry
	cron    *cron.Cron
	started bool
	stopped bool
	// base is the context of every run; Stop cancels it only when the
	// running jobs do not finish in time.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // runs started outside cron (manual, start) and the reload loop
	quit   chan struct{}  // closed by Stop: ends the reload loop
	// parse and unit are the spec parser and the tick granularity: 5-field
	// specs and minutes; tests use seconds.
	parse func(string) (cron.Schedule, error)
	unit  time.Duration
}

type entry struct {
	job      Job
	schedule string // effective
	enabled  bool   // effective
	id       cron.EntryID
	running  atomic.Bool // the local overlap guard
}

// parser reads the 5-field standard specs and descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ErrBadSchedule means a spec cannot be parsed or is not minute-aligned.
var ErrBadSchedule = errors.New("jobs: bad schedule")

// ParseSchedule checks a spec. "@every" is refused: its ticks depend on
// when each instance started, so instances would not agree on a tick.
func ParseSchedule(spec string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || len(spec) > 100 || strings.HasPrefix(spec, "@every") {
		return nil, fmt.Errorf("%w: %q", ErrBadSchedule, spec)
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSchedule, err)
	}
	return s, nil
}

// New returns an empty registry.
func New(o Options) *Registry {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.Reload <= 0 {
		o.Reload = 30 * time.Second
	}
	base, cancel := context.WithCancel(context.Background())
	return &Registry{db: o.DB, kv: o.KV, loc: o.Location, log: o.Log, instance: o.Instance, reload: o.Reload,
		jobs: map[string]*entry{}, base: base, cancel: cancel, quit: make(chan struct{}),
		parse: ParseSchedule, unit: time.Minute}
}

// Add registers a job; a bad default schedule or a duplicate name is a
// programming error and panics.
func (r *Registry) Add(j Job) {
	if _, err := r.parse(j.Schedule); err != nil {
		panic(fmt.Sprintf("jobs: %s: %v", j.Name, err))
	}
	if j.Timeout <= 0 {
		j.Timeout = time.Hour
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[j.Name]; dup {
		panic("jobs: duplicate job " + j.Name)
	}
	r.jobs[j.Name] = &entry{job: j, schedule: j.Schedule, enabled: !j.Disabled}
}

// Names lists the jobs in name order.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.jobs))
	for n := range r.jobs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (r *Registry) get(name string) (*entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.jobs[name]
	return e, ok
}

// Start applies the stored settings, schedules the enabled jobs and runs
// the run-at-start ones. Runs go on until Stop.
func (r *Registry) Start(ctx context.Context) error {
	if err := r.applySettings(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	if r.started || r.stopped {
		r.mu.Unlock()
		return errors.New("jobs: scheduler already started or stopped")
	}
	r.started = true
	r.cron = cron.New(cron.WithLocation(r.loc))
	var atStart []*entry
	for _, e := range r.jobs {
		r.scheduleLocked(e)
		if e.enabled && e.job.RunAtStart {
			atStart = append(atStart, e)
		}
	}
	r.cron.Start()
	r.wg.Add(1 + len(atStart))
	n := len(r.jobs)
	r.mu.Unlock()
	r.log.Info("scheduler started", "jobs", n, "instance", r.instance, "zone", r.loc.String())
	go r.reloadLoop()
	for _, e := range atStart {
		go func() {
			defer r.wg.Done()
			r.tick(e, "start")
		}()
	}
	return nil
}

// scheduleLocked (re)places e's cron entry after a change.
func (r *Registry) scheduleLocked(e *entry) {
	if r.cron == nil {
		return
	}
	if e.id != 0 {
		r.cron.Remove(e.id)
		e.id = 0
	}
	if !e.enabled {
		return
	}
	s, err := r.parse(e.schedule)
	if err != nil { // stored before a parser change; keep the default
		r.log.Error("job schedule unusable; using the default", "job", e.job.Name, "schedule", e.schedule, "err", err)
		e.schedule = e.job.Schedule
		if s, err = r.parse(e.schedule); err != nil {
			return
		}
	}
	e.id = r.cron.Schedule(s, cron.FuncJob(func() { r.tick(e, OriginSchedule) }))
}

// applySettings reads job_settings and applies what differs.
func (r *Registry) applySettings(ctx context.Context) error {
	rows, err := loadSettings(ctx, r.db)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.jobs {
		schedule, enabled := e.job.Schedule, !e.job.Disabled
		if s, ok := rows[e.job.Name]; ok {
			schedule, enabled = s.Schedule, s.Enabled
		}
		if schedule != e.schedule || enabled != e.enabled {
			e.schedule, e.enabled = schedule, enabled
			r.scheduleLocked(e)
		}
	}
	return nil
}

func (r *Registry) reloadLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.reload)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
			if err := r.applySettings(r.base); err != nil && r.base.Err() == nil {
				r.log.Warn("job settings not reloaded", "err", err)
			}
		}
	}
}

// Stop stops scheduling and waits for running jobs to finish; when ctx
// ends first their context is cancelled and Stop waits for them to return.
// The registry cannot be started again.
func (r *Registry) Stop(ctx context.Context) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	c := r.cron
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		if c != nil {
			<-c.Stop().Done() // waits for running cron jobs
		}
		close(r.quit) // ends the reload loop
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn("jobs still running at shutdown; cancelling them")
		r.cancel()
		<-done
	}
	r.cancel()
}
