package jobs

import (
	"context"
	"errors"
	"fmt"
	"github.com/dingcrm/crm/internal/metrics"
	"runtime/debug"
	"time"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Where a run came from.
const (
	OriginSchedule = "schedule"
	OriginStart    = "start"
	OriginManual   = "manual" // POST /jobs/{name}/run
	OriginCLI      = "cli"    // crm jobs run NAME
)

// Outcomes of a run.
const (
	OutcomeRunning = "running"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped" // the tick came while the job was still running
)

// Errors of starting a run.
var (
	ErrNotFound = errs.NotFound("jobs.not_found")
	ErrRunning  = errs.Conflict("jobs.running")
	// errTickTaken: a record of this tick exists already, so another
	// instance runs it (or ran it, or skipped it).
	errTickTaken = errors.New("jobs: tick already recorded")
)

// tickLockTTL is how long a tick's lock is kept: far longer than any clock
// difference between instances, so a late instance never runs a tick again.
const tickLockTTL = 24 * time.Hour

// runningLease is the lifetime of the cross-instance running lock; the run
// renews it every runningLease/3, so a process killed mid-run blocks the
// job for at most this long.
var runningLease = 90 * time.Second

// tickKey is the kv key deciding which instance runs a job's tick.
func tickKey(name string, tick time.Time) string {
	return "job:" + name + ":" + tick.UTC().Format(time.RFC3339)
}

func runningKey(name string) string { return "job:" + name + ":running" }

// tick is what cron calls (and run-at-start): the instance that sets the
// tick's kv key first runs the job. A tick is the minute cron fired for:
// cron fires every instance at its own clock's minute boundary, so the
// truncated time is the same on all of them.
func (r *Registry) tick(e *entry, origin string) {
	tick := time.Now().In(r.loc).Truncate(r.unit)
	key := tickKey(e.job.Name, tick)
	if origin == OriginStart {
		key = "job:" + e.job.Name + ":start:" + tick.UTC().Format(time.RFC3339)
	}
	won, err := r.kv.SetNX(r.base, key, r.instance, tickLockTTL)
	if err != nil {
		// Without the lock several instances could run it; skipping one tick
		// is the lesser harm (every job catches up on its next run).
		r.log.Error("job tick skipped: the tick lock is unavailable", "job", e.job.Name, "tick", tick, "err", err)
		return
	}
	if !won {
		return
	}
	// The lock lives in kv only: a Redis that restarted empty (or lost the
	// key otherwise) lets other instances win the same tick too. The run's
	// record is then the guard: job_runs is unique per (job, origin,
	// tick), so only one instance's insert in begin succeeds.
	run, release, err := r.begin(r.base, e, origin, &tick, 0)
	if err != nil {
		switch {
		case errors.Is(err, errTickTaken):
			r.log.Warn("job tick skipped: another instance took it (the tick lock was lost)", "job", e.job.Name, "tick", tick)
		case errors.Is(err, ErrRunning):
			r.log.Warn("job tick skipped: still running", "job", e.job.Name, "tick", tick)
			r.recordSkipped(e, origin, tick)
		default:
			r.log.Error("job not started", "job", e.job.Name, "err", err)
		}
		return
	}
	r.finish(r.base, e, run, release, tick)
}

// begin takes the overlap guards (this process's, then every instance's
// through kv) and records the run as started.
func (r *Registry) begin(ctx context.Context, e *entry, origin string, tick *time.Time, by int64) (*Run, func(), error) {
	if !e.running.CompareAndSwap(false, true) {
		return nil, nil, ErrRunning
	}
	key := runningKey(e.job.Name)
	got, err := r.kv.SetNX(ctx, key, r.instance, runningLease)
	if err != nil || !got {
		e.running.Store(false)
		if err != nil {
			return nil, nil, fmt.Errorf("jobs: running lock: %w", err)
		}
		return nil, nil, ErrRunning
	}
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() { // keep the lease while the run lasts
		defer close(renewed)
		t := time.NewTicker(runningLease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := r.kv.Set(ctx, key, r.instance, runningLease); err != nil {
					r.log.Warn("job running lock not renewed", "job", e.job.Name, "err", err)
				}
				cancel()
			}
		}
	}()
	release := func() {
		close(stop)
		<-renewed
		// A fresh context: the run's own may be cancelled by now.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.kv.Del(ctx, key); err != nil {
			r.log.Warn("job running lock not released; it expires by itself", "job", e.job.Name, "err", err)
		}
		e.running.Store(false)
	}
	run := &Run{Job: e.job.Name, Origin: origin, TickAt: utcPtr(tick), StartedAt: store.Now(), Outcome: OutcomeRunning,
		Instance: r.instance, StartedBy: by}
	if err := insertRun(ctx, r.db, run); err != nil {
		release()
		if tick != nil && store.IsUniqueViolation(err) {
			return nil, nil, errTickTaken
		}
		return nil, nil, err
	}
	return run, release, nil
}

// finish runs the job (panics recovered, bounded by its timeout) and
// records how it ended.
func (r *Registry) finish(ctx context.Context, e *entry, run *Run, release func(), now time.Time) {
	defer release()
	rctx, cancel := context.WithTimeout(ctx, e.job.Timeout)
	defer cancel()
	start := time.Now()
	res, err := call(rctx, e.job.Run, now.In(r.loc))
	ended := store.Now()
	run.EndedAt, run.Summary, run.Counts = &ended, res.Summary, res.Counts
	run.Outcome = OutcomeOK
	if err != nil {
		run.Outcome, run.Error = OutcomeFailed, err.Error()
		r.log.Error("job failed", "job", e.job.Name, "run", run.ID, "origin", run.Origin, "err", err)
	} else {
		r.log.Info("job done", "job", e.job.Name, "run", run.ID, "origin", run.Origin, "took", time.Since(start),
			"summary", res.Summary)
	}
	metrics.JobRun(e.job.Name, err == nil, time.Since(start))
	// The record is written even when the run's context was cancelled.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := finishRun(wctx, r.db, run); err != nil {
		r.log.Error("job run not recorded", "job", e.job.Name, "run", run.ID, "err", err)
	}
}

// call runs fn, turning a panic into an error with its stack.
func call(ctx context.Context, fn Func, now time.Time) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx, now)
}

func (r *Registry) recordSkipped(e *entry, origin string, tick time.Time) {
	now := store.Now()
	run := &Run{Job: e.job.Name, Origin: origin, TickAt: utcPtr(&tick), StartedAt: now, EndedAt: &now,
		Outcome: OutcomeSkipped, Summary: "previous run still going", Instance: r.instance}
	if err := insertRun(r.base, r.db, run); err != nil && !store.IsUniqueViolation(err) {
		r.log.Error("job skip not recorded", "job", e.job.Name, "err", err)
	}
}

// RunNow runs a job once, synchronously, outside its schedule (the CLI's
// `crm jobs run NAME`); the run is recorded like any other.
func (r *Registry) RunNow(ctx context.Context, name, origin string) (*Run, error) {
	e, ok := r.get(name)
	if !ok {
		return nil, ErrNotFound
	}
	run, release, err := r.begin(ctx, e, origin, nil, 0)
	if err != nil {
		return nil, err
	}
	r.finish(ctx, e, run, release, time.Now())
	if run.Outcome != OutcomeOK {
		return run, errors.New(run.Error)
	}
	return run, nil
}

// start begins a run in the background (POST /jobs/{name}/run) and
// returns its record at once; a job already running anywhere is
// ErrRunning.
func (r *Registry) start(ctx context.Context, name string, by int64) (*Run, error) {
	e, ok := r.get(name)
	if !ok {
		return nil, ErrNotFound
	}
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil, errs.New(errs.KindUnavailable, "jobs.stopping")
	}
	r.wg.Add(1)
	r.mu.Unlock()
	run, release, err := r.begin(ctx, e, OriginManual, nil, by)
	if err != nil {
		r.wg.Done()
		return nil, err
	}
	started := *run
	go func() {
		defer r.wg.Done()
		r.finish(r.base, e, run, release, time.Now())
	}()
	return &started, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
