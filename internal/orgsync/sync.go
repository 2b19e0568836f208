package orgsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// RunOptions say who runs a full sync and how.
type RunOptions struct {
	Origin string      // OriginWeb, OriginCLI, OriginStartup
	Actor  *auth.Actor // who started it; nil for the system
	// Force applies a sync that would deactivate most people.
	Force bool
	// Progress, when set, is told the position every half second and at
	// the end (the CLI's progress bar).
	Progress func(Progress)
}

// lockKey is the kv key that lets one instance sync at a time.
const lockKey = "orgsync:lock"

// Lock timing: the holder refreshes the lock well within its life, so a
// crashed holder frees it within lockTTL.
const (
	lockTTL      = 2 * time.Minute
	lockRefresh  = 30 * time.Second
	reportEvery  = 500 * time.Millisecond
	staleSyncAge = 3 * time.Minute
)

// Run performs a full sync now and returns its history row (with the
// summary). ErrSyncRunning when another sync holds the lock.
func (s *Service) Run(ctx context.Context, o RunOptions) (*Sync, error) {
	r, err := s.begin(ctx, o)
	if err != nil {
		return nil, err
	}
	defer r.release(context.WithoutCancel(ctx))
	runErr := s.execute(ctx, r)
	sy, err := s.get(context.WithoutCancel(ctx), r.id)
	if err != nil {
		return nil, err
	}
	return sy, runErr
}

// Start begins a full sync in the background (the "sync now" button): it
// needs user.manage, answers ErrSyncRunning while one runs, and returns
// the new history row at once; poll Get for progress and the summary.
func (s *Service) Start(ctx context.Context, a *auth.Actor, force bool) (*Sync, error) {
	if err := a.Require(auth.UserManage); err != nil {
		return nil, err
	}
	r, err := s.begin(ctx, RunOptions{Origin: OriginWeb, Actor: a, Force: force})
	if err != nil {
		return nil, err
	}
	// The sync outlives the request; it keeps the request's metadata
	// (IP, request id) for the audit log.
	meta := context.WithoutCancel(ctx)
	started := s.goBackground(func(bg context.Context) {
		ctx, cancel := context.WithCancel(meta)
		defer cancel()
		stop := context.AfterFunc(bg, cancel)
		defer stop()
		defer r.release(context.WithoutCancel(ctx))
		_ = s.execute(ctx, r) // recorded in the history
	})
	if !started {
		r.release(meta)
		return nil, errors.New("orgsync: shutting down")
	}
	return s.get(ctx, r.id)
}

// run is one sync in progress.
type run struct {
	id    int64
	opts  RunOptions
	cnt   fetchCounters
	phase atomic.Value // string
	token string
	s     *Service
}

// begin takes the lock and records the sync as running.
func (s *Service) begin(ctx context.Context, o RunOptions) (*run, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	r := &run{opts: o, token: hex.EncodeToString(b), s: s}
	r.phase.Store(PhaseStart)
	ok, err := s.kv.SetNX(ctx, lockKey, r.token, lockTTL)
	if err != nil {
		return nil, errs.New(errs.KindUnavailable, "orgsync.lock_unavailable")
	}
	if !ok {
		return nil, s.runningErr(ctx)
	}
	if r.id, err = s.insertSync(ctx, o); err != nil {
		_ = s.kv.Del(ctx, lockKey)
		return nil, err
	}
	return r, nil
}

// runningErr is ErrSyncRunning naming the running sync when known.
func (s *Service) runningErr(ctx context.Context) error {
	var ids []int64
	_ = s.db.SelectContext(ctx, &ids, "SELECT id FROM org_syncs WHERE status = ? ORDER BY id DESC LIMIT 1", StatusRunning)
	e := *ErrSyncRunning
	if len(ids) > 0 {
		e.Detail = map[string]any{"sync_id": ids[0]}
	}
	return &e
}

// release frees the lock if this run still holds it.
func (r *run) release(ctx context.Context) {
	if v, ok, err := r.s.kv.Get(ctx, lockKey); err == nil && ok && v == r.token {
		_ = r.s.kv.Del(ctx, lockKey)
	}
}

// execute reads, applies and hands over, recording progress and the result.
func (s *Service) execute(ctx context.Context, r *run) error {
	stop := s.report(ctx, r)
	sum, err := s.fullSync(ctx, r)
	stop()
	s.finishSync(context.WithoutCancel(ctx), r, sum, err)
	if r.opts.Progress != nil {
		r.opts.Progress(r.progress())
	}
	if err != nil {
		s.log.ErrorContext(ctx, "orgsync: full sync failed", "sync", r.id, "err", err)
	} else {
		s.log.InfoContext(ctx, "orgsync: full sync done", "sync", r.id, "people", sum.People, "departments", sum.Departments,
			"added", sum.PeopleAdded, "changed", sum.PeopleChanged, "moved", sum.PeopleMoved,
			"deactivated", sum.PeopleDeactivated, "calls", sum.Calls)
	}
	return err
}

func (s *Service) fullSync(ctx context.Context, r *run) (*Summary, error) {
	r.phase.Store(PhaseDepartments)
	start := time.Now()
	snap, err := s.fetchFull(ctx, &r.cnt)
	if err != nil {
		return nil, err
	}
	read := time.Since(start)
	r.phase.Store(PhaseApply)
	sum, err := s.applySnapshot(ctx, snap, whoOf(r.opts.Actor), r.opts.Force)
	if err != nil {
		return nil, err
	}
	r.phase.Store(PhaseHandoff)
	if err := s.handoffPending(ctx, sum); err != nil {
		return sum, err
	}
	sum.Calls = int(r.cnt.calls.Load())
	sum.ReadMS, sum.WriteMS = read.Milliseconds(), (time.Since(start) - read).Milliseconds()
	r.phase.Store(PhaseDone)
	return sum, nil
}

// progress is where the run stands.
func (r *run) progress() Progress {
	p := Progress{Phase: r.phase.Load().(string), People: int(r.cnt.people.Load())}
	switch p.Phase {
	case PhaseDepartments:
		p.Done, p.Total = int(r.cnt.listed.Load()), int(r.cnt.found.Load())
	case PhaseStart:
	default:
		p.Done, p.Total = int(r.cnt.found.Load()), int(r.cnt.found.Load())
	}
	return p
}

// report writes the progress to the history row and the callback every
// half second, and refreshes the lock, until stopped.
func (s *Service) report(ctx context.Context, r *run) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(reportEvery)
		defer tick.Stop()
		lastLock := time.Now()
		var last Progress
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p := r.progress()
			if r.opts.Progress != nil {
				r.opts.Progress(p)
			}
			if p != last {
				s.progressSync(ctx, r, p)
				last = p
			}
			if time.Since(lastLock) >= lockRefresh {
				lastLock = time.Now()
				if err := s.kv.Set(ctx, lockKey, r.token, lockTTL); err != nil {
					s.log.WarnContext(ctx, "orgsync: refresh lock", "err", err)
				}
				s.progressSync(ctx, r, p) // also the heartbeat of updated_at
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// withArgs copies a domain error with message arguments.
func withArgs(e *errs.Error, args map[string]any) error {
	c := *e
	c.Args = args
	return &c
}

// errText is the error kept in the history: a domain error's key, or the
// error text, cut to the column.
func errText(err error) string {
	var de *errs.Error
	if errors.As(err, &de) {
		s := de.Key
		for _, k := range []string{"count", "total"} {
			if v, ok := de.Args[k]; ok {
				s += " " + k + "=" + fmt.Sprint(v)
			}
		}
		return s
	}
	return clip(err.Error(), 500)
}

// SyncIfEmpty runs a full sync when nobody is in the database yet (the
// first start of the simulated mode, which then has DingTalk's people
// rather than a copy) and reports whether it ran.
func (s *Service) SyncIfEmpty(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM users"); err != nil {
		return false, fmt.Errorf("orgsync: count people: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := s.Run(ctx, RunOptions{Origin: OriginStartup}); err != nil {
		return false, err
	}
	return true, nil
}
