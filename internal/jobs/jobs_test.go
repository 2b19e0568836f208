package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/jobs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func newRegistry(db *store.DB, k kv.Store, instance string) *jobs.Registry {
	return jobs.New(jobs.Options{DB: db, KV: k, Location: shanghai, Instance: instance})
}

func runs(t *testing.T, r *jobs.Registry, name string) []jobs.Run {
	t.Helper()
	items, _, err := r.Runs(context.Background(), auth.System(), name, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestRunRecording: every run is recorded with its outcome, summary,
// counts and error; a panic is recovered and recorded as a failure, and
// the registry keeps working after it.
func TestRunRecording(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRegistry(db, kv.NewMemory(), "test-1")
		var gotNow time.Time
		r.Add(jobs.Job{Name: "ok", Schedule: "0 9 * * *", Run: func(ctx context.Context, now time.Time) (jobs.Result, error) {
			gotNow = now
			return jobs.Result{Summary: "did 3", Counts: map[string]int64{"done": 3}}, nil
		}})
		r.Add(jobs.Job{Name: "fails", Schedule: "@daily", Run: func(context.Context, time.Time) (jobs.Result, error) {
			return jobs.Result{Summary: "half"}, errors.New("database gone")
		}})
		r.Add(jobs.Job{Name: "panics", Schedule: "@daily", Run: func(context.Context, time.Time) (jobs.Result, error) {
			var m map[string]int
			m["boom"]++ // nil map write
			return jobs.Result{}, nil
		}})
		run, err := r.RunNow(ctx, "ok", jobs.OriginCLI)
		if err != nil || run.Summary != "did 3" {
			t.Fatalf("ok: %v %+v", err, run)
		}
		if gotNow.Location() != shanghai {
			t.Errorf("job got time in %v, want the company zone", gotNow.Location())
		}
		if _, err := r.RunNow(ctx, "fails", jobs.OriginCLI); err == nil || !strings.Contains(err.Error(), "database gone") {
			t.Errorf("fails: %v", err)
		}
		if _, err := r.RunNow(ctx, "panics", jobs.OriginCLI); err == nil || !strings.Contains(err.Error(), "panic: assignment to entry in nil map") {
			t.Errorf("panics: %v", err)
		}
		if _, err := r.RunNow(ctx, "ok", jobs.OriginCLI); err != nil {
			t.Errorf("after a panic: %v", err)
		}
		if _, err := r.RunNow(ctx, "nope", jobs.OriginCLI); !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("unknown job: %v", err)
		}
		okRuns := runs(t, r, "ok")
		if len(okRuns) != 2 || okRuns[0].Outcome != jobs.OutcomeOK || okRuns[0].Counts["done"] != 3 ||
			okRuns[0].EndedAt == nil || okRuns[0].Instance != "test-1" || okRuns[0].Origin != jobs.OriginCLI {
			t.Errorf("ok runs: %+v", okRuns)
		}
		f := runs(t, r, "fails")
		if len(f) != 1 || f[0].Outcome != jobs.OutcomeFailed || f[0].Error != "database gone" || f[0].Summary != "half" {
			t.Errorf("fails runs: %+v", f)
		}
		p := runs(t, r, "panics")
		if len(p) != 1 || p[0].Outcome != jobs.OutcomeFailed || !strings.Contains(p[0].Error, "jobs_test.go") {
			t.Errorf("panic run should carry the stack: %+v", p)
		}
		list, err := r.List(ctx, auth.System())
		if err != nil || len(list) != 3 || list[1].Name != "ok" || list[1].LastRun == nil || list[1].LastRun.ID != okRuns[0].ID {
			t.Errorf("list: %v %+v", err, list)
		}
	})
}

// TestOverlapGuard: while a job runs, "run now" is refused on this and on
// another instance sharing kv, and a tick that comes is recorded as
// skipped; once it ends the job can run again.
func TestOverlapGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		shared := kv.NewMemory()
		release := make(chan struct{})
		var calls atomic.Int32
		job := jobs.Job{Name: "slow", Schedule: "* * * * *", Run: func(ctx context.Context, _ time.Time) (jobs.Result, error) {
			calls.Add(1)
			<-release
			return jobs.Result{Summary: "finally"}, nil
		}}
		a, b := newRegistry(db, shared, "a"), newRegistry(db, shared, "b")
		a.Add(job)
		b.Add(job)
		first, err := a.Trigger(ctx, auth.System(), "slow")
		if err != nil || first.Outcome != jobs.OutcomeRunning {
			t.Fatalf("trigger: %v %+v", err, first)
		}
		if _, err := a.Trigger(ctx, auth.System(), "slow"); !errors.Is(err, jobs.ErrRunning) {
			t.Errorf("second trigger here: %v", err)
		}
		if _, err := b.Trigger(ctx, auth.System(), "slow"); !errors.Is(err, jobs.ErrRunning) {
			t.Errorf("trigger on another instance: %v", err)
		}
		a.Tick("slow")
		close(release)
		stop, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		a.Stop(stop) // waits for the manual run
		rs := runs(t, b, "slow")
		if len(rs) != 2 || rs[0].Outcome != jobs.OutcomeSkipped || rs[1].Outcome != jobs.OutcomeOK || rs[1].Summary != "finally" {
			t.Fatalf("runs: %+v", rs)
		}
		if _, err := b.RunNow(ctx, "slow", jobs.OriginCLI); err != nil {
			t.Errorf("after the run ended: %v", err)
		}
		if calls.Load() != 2 {
			t.Errorf("the job ran %d times, want 2", calls.Load())
		}
	})
}

// TestUpdateSchedule: an invalid spec is refused field by field, a valid
// one is stored, audited and seen by another instance; a disabled job has
// no next run. Viewing and changing need job.view and job.manage.
func TestUpdateSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := newRegistry(db, kv.NewMemory(), "a"), newRegistry(db, kv.NewMemory(), "b")
		for _, r := range []*jobs.Registry{a, b} {
			r.Add(jobs.Job{Name: "digest", Schedule: "0 9 * * *", Run: func(context.Context, time.Time) (jobs.Result, error) {
				return jobs.Result{}, nil
			}})
		}
		admin := auth.System()
		for _, bad := range []string{"", "every day", "61 * * * *", "@every 1m", "* * * * * *"} {
			_, err := a.Update(ctx, admin, "digest", jobs.Input{Schedule: &bad})
			var e *errs.Error
			if !errors.As(err, &e) || e.Fields["schedule"].Key != "jobs.bad_schedule" {
				t.Errorf("%q: %v", bad, err)
			}
		}
		spec := " 30  8 * * 1-5 "
		v, err := a.Update(ctx, admin, "digest", jobs.Input{Schedule: &spec})
		if err != nil || v.Schedule != "30 8 * * 1-5" || v.DefaultSchedule != "0 9 * * *" || v.NextRunAt == nil {
			t.Fatalf("update: %v %+v", err, v)
		}
		if next := v.NextRunAt.In(shanghai); next.Hour() != 8 || next.Minute() != 30 || next.Weekday() == time.Sunday {
			t.Errorf("next run %v", next)
		}
		off := false
		if v, err = a.Update(ctx, admin, "digest", jobs.Input{Enabled: &off}); err != nil || v.Enabled || v.NextRunAt != nil {
			t.Errorf("disable: %v %+v", err, v)
		}
		seen, err := b.Get(ctx, admin, "digest")
		if err != nil || seen.Schedule != "30 8 * * 1-5" || seen.Enabled {
			t.Errorf("the other instance sees %+v (%v)", seen, err)
		}
		var audited int
		db.Get(&audited, "SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND entity_name = 'digest'")
		if audited != 2 {
			t.Errorf("%d audit entries, want 2", audited)
		}
		sales := &auth.Actor{UserID: 9, Perms: map[auth.Perm]bool{"job.view": true}}
		if _, err := a.List(ctx, sales); err != nil {
			t.Errorf("job.view may list: %v", err)
		}
		if _, err := a.Update(ctx, sales, "digest", jobs.Input{Enabled: &off}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("update without job.manage: %v", err)
		}
		if _, err := a.Trigger(ctx, sales, "digest"); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("run without job.manage: %v", err)
		}
		if _, err := a.List(ctx, &auth.Actor{UserID: 9, Perms: map[auth.Perm]bool{}}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("list without job.view: %v", err)
		}
	})
}

// TestStopWaitsForRunningJobs: Stop lets a running job finish and record
// its outcome before it returns.
func TestStopWaitsForRunningJobs(t *testing.T) {
	db := storetest.SQLite(t)
	r := newRegistry(db, kv.NewMemory(), "a")
	var finished atomic.Bool
	r.Add(jobs.Job{Name: "sync", Schedule: "0 2 * * *", Run: func(ctx context.Context, _ time.Time) (jobs.Result, error) {
		select {
		case <-time.After(300 * time.Millisecond):
			finished.Store(true)
			return jobs.Result{Summary: "synced"}, nil
		case <-ctx.Done():
			return jobs.Result{}, ctx.Err()
		}
	}})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Trigger(context.Background(), auth.System(), "sync"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Stop(ctx)
	if !finished.Load() {
		t.Fatal("Stop returned before the running job finished")
	}
	if rs := runs(t, r, "sync"); len(rs) != 1 || rs[0].Outcome != jobs.OutcomeOK {
		t.Errorf("runs: %+v", rs)
	}
	if _, err := r.Trigger(context.Background(), auth.System(), "sync"); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("trigger after stop: %v", err)
	}
}

// TestOncePerTick: three instances run the same every-second schedule
// against one database and one shared kv; every tick is run by exactly one
// of them. On MySQL with Redis when both are configured (the production
// shape), and on SQLite with the in-process store shared.
func TestOncePerTick(t *testing.T) {
	type setup struct {
		name string
		db   func(t *testing.T) *store.DB
		kv   func(t *testing.T) []kv.Store
	}
	memory := func(t *testing.T) []kv.Store { m := kv.NewMemory(); return []kv.Store{m, m, m} }
	cases := []setup{{"sqlite+memory", func(t *testing.T) *store.DB { return storetest.SQLite(t) }, memory}}
	if os.Getenv("CRM_TEST_MYSQL_DSN") != "" && os.Getenv("CRM_TEST_REDIS_ADDR") != "" {
		cases = append(cases, setup{"mysql+redis", func(t *testing.T) *store.DB { return storetest.MySQL(t) }, redisStores})
	} else {
		t.Log("MySQL+Redis case skipped: set CRM_TEST_MYSQL_DSN and CRM_TEST_REDIS_ADDR")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := c.db(t)
			stores := c.kv(t)
			var calls atomic.Int32
			var regs []*jobs.Registry
			for i, k := range stores {
				r := jobs.WithSeconds(newRegistry(db, k, "instance-"+string(rune('a'+i))))
				r.Add(jobs.Job{Name: "every-second", Schedule: "* * * * * *", Run: func(context.Context, time.Time) (jobs.Result, error) {
					calls.Add(1)
					time.Sleep(50 * time.Millisecond)
					return jobs.Result{Summary: "tick"}, nil
				}})
				regs = append(regs, r)
			}
			for _, r := range regs {
				if err := r.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(3500 * time.Millisecond)
			for _, r := range regs {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				r.Stop(ctx)
				cancel()
			}
			var ticks []struct {
				Tick      time.Time `db:"tick_at"`
				N         int       `db:"n"`
				Instances int       `db:"instances"`
			}
			if err := db.Select(&ticks, `SELECT tick_at, COUNT(*) AS n, COUNT(DISTINCT instance) AS instances
				FROM job_runs WHERE job = 'every-second' GROUP BY tick_at ORDER BY tick_at`); err != nil {
				t.Fatal(err)
			}
			if len(ticks) < 3 {
				t.Fatalf("%d ticks ran in 3.5 s: %+v", len(ticks), ticks)
			}
			for _, tk := range ticks {
				if tk.N != 1 {
					t.Errorf("tick %v ran %d times", tk.Tick, tk.N)
				}
			}
			if int(calls.Load()) != len(ticks) {
				t.Errorf("job called %d times for %d ticks", calls.Load(), len(ticks))
			}
		})
	}
}

// redisStores are three connections to the test Redis sharing one fresh
// prefix, as three instances would have.
func redisStores(t *testing.T) []kv.Store {
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "crm_jobs_test_" + hex.EncodeToString(b) + ":"
	var out []kv.Store
	for range 3 {
		r, err := kv.NewRedis(context.Background(), os.Getenv("CRM_TEST_REDIS_ADDR"), "", 0, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		out = append(out, r)
	}
	return out
}

// TestRunAtStart: a run-at-start job runs once when the scheduler starts,
// once in all even when three instances start together; a disabled one
// does not.
func TestRunAtStart(t *testing.T) {
	db := storetest.SQLite(t)
	shared := kv.NewMemory()
	var calls atomic.Int32
	if s := time.Now().Second(); s >= 58 { // keep the three starts in one minute
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	var regs []*jobs.Registry
	for i := range 3 {
		r := newRegistry(db, shared, fmt.Sprint("instance-", i))
		r.Add(jobs.Job{Name: "warm-up", Schedule: "0 0 1 1 *", RunAtStart: true, Run: func(context.Context, time.Time) (jobs.Result, error) {
			calls.Add(1)
			return jobs.Result{Summary: "warm"}, nil
		}})
		r.Add(jobs.Job{Name: "off", Schedule: "0 0 1 1 *", RunAtStart: true, Disabled: true, Run: func(context.Context, time.Time) (jobs.Result, error) {
			t.Error("a disabled job ran at start")
			return jobs.Result{}, nil
		}})
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		regs = append(regs, r)
	}
	for _, r := range regs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.Stop(ctx)
		cancel()
	}
	rs := runs(t, regs[0], "warm-up")
	if calls.Load() != 1 || len(rs) != 1 || rs[0].Origin != jobs.OriginStart || rs[0].Outcome != jobs.OutcomeOK {
		t.Errorf("%d calls, runs %+v", calls.Load(), rs)
	}
}

// TestRunningLease: a long run keeps renewing its running lock, so another
// instance stays refused well past the lease; the lock of a process that
// died mid-run (never renewed, never released) lapses after the lease.
func TestRunningLease(t *testing.T) {
	jobs.ShortLease(t, 300*time.Millisecond)
	db := storetest.SQLite(t)
	shared := kv.NewMemory()
	release := make(chan struct{})
	job := jobs.Job{Name: "long", Schedule: "@daily", Run: func(context.Context, time.Time) (jobs.Result, error) {
		<-release
		return jobs.Result{}, nil
	}}
	a, b := newRegistry(db, shared, "a"), newRegistry(db, shared, "b")
	a.Add(job)
	b.Add(job)
	ctx := context.Background()
	if _, err := a.Trigger(ctx, auth.System(), "long"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // more than three leases
	if _, err := b.Trigger(ctx, auth.System(), "long"); !errors.Is(err, jobs.ErrRunning) {
		t.Errorf("the lock lapsed during the run: %v", err)
	}
	close(release)
	stop, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a.Stop(stop)

	// A holder that died: its lock is there but nobody renews it.
	if ok, _ := shared.SetNX(ctx, "job:long:running", "dead", 300*time.Millisecond); !ok {
		t.Fatal("lock not taken")
	}
	if _, err := b.RunNow(ctx, "long", jobs.OriginCLI); !errors.Is(err, jobs.ErrRunning) {
		t.Errorf("while the dead holder's lease lasts: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	release = make(chan struct{})
	close(release)
	if _, err := b.RunNow(ctx, "long", jobs.OriginCLI); err != nil {
		t.Errorf("after the lease lapsed: %v", err)
	}
}

// TestTickLockLost: the tick lock lives in kv; when kv forgets it (a Redis
// restarted empty, here: each instance with a store of its own) the
// instances that fire for the same tick race to record it, all at once,
// and job_runs' unique (job, origin, tick) lets exactly one of them run it.
func TestTickLockLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		const instances, rounds = 4, 10
		for round := 0; round < rounds; round++ {
			job := jobs.Job{Name: fmt.Sprintf("once-%d", round), Schedule: "* * * * *",
				Run: func(context.Context, time.Time) (jobs.Result, error) {
					calls.Add(1)
					return jobs.Result{Summary: "ran"}, nil
				}}
			var regs []*jobs.Registry
			for i := range instances {
				r := newRegistry(db, kv.NewMemory(), fmt.Sprintf("i%d", i))
				r.Add(job)
				regs = append(regs, r)
			}
			calls.Store(0)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, r := range regs {
				wg.Add(1)
				go func() { defer wg.Done(); <-start; r.Tick(job.Name) }()
			}
			close(start)
			wg.Wait()
			var ticks int
			if err := db.Get(&ticks, "SELECT COUNT(DISTINCT tick_at) FROM job_runs WHERE job = ?", job.Name); err != nil {
				t.Fatal(err)
			}
			if ticks > 1 {
				continue // the calls straddled a minute: two ticks, not one
			}
			if n := calls.Load(); n != 1 {
				t.Fatalf("round %d: the job ran %d times for one tick whose lock was lost", round, n)
			}
			if got := runs(t, regs[0], job.Name); len(got) != 1 || got[0].Outcome != jobs.OutcomeOK {
				t.Fatalf("round %d: runs: %+v", round, got)
			}
		}
	})
}
