package jobs

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
)

// The permissions of the jobs page.
const (
	PermView   auth.Perm = "job.view"
	PermManage auth.Perm = "job.manage"
)

// View is a job as admins see it.
type View struct {
	Name            string     `json:"name"`
	Schedule        string     `json:"schedule"`
	DefaultSchedule string     `json:"default_schedule"`
	Enabled         bool       `json:"enabled"`
	RunAtStart      bool       `json:"run_at_start"`
	Running         bool       `json:"running"`
	NextRunAt       *time.Time `json:"next_run_at"`
	LastRun         *Run       `json:"last_run"`
}

// List shows every job with its effective schedule, next tick and last run.
func (r *Registry) List(ctx context.Context, a *auth.Actor) ([]View, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	if err := r.applySettings(ctx); err != nil {
		return nil, err
	}
	last, err := lastRuns(ctx, r.db)
	if err != nil {
		return nil, err
	}
	now := time.Now().In(r.loc)
	out := []View{}
	for _, name := range r.Names() {
		e, _ := r.get(name)
		r.mu.Lock()
		v := View{Name: name, Schedule: e.schedule, DefaultSchedule: e.job.Schedule, Enabled: e.enabled,
			RunAtStart: e.job.RunAtStart}
		r.mu.Unlock()
		if s, err := r.parse(v.Schedule); err == nil && v.Enabled {
			next := s.Next(now).UTC()
			v.NextRunAt = &next
		}
		if lr, ok := last[name]; ok {
			v.LastRun = &lr
			// A run marked running past its timeout lost its process.
			v.Running = lr.Outcome == OutcomeRunning && time.Since(lr.StartedAt) < e.job.Timeout
		}
		out = append(out, v)
	}
	return out, nil
}

// Get shows one job.
func (r *Registry) Get(ctx context.Context, a *auth.Actor, name string) (*View, error) {
	all, err := r.List(ctx, a)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, ErrNotFound
}

// Runs lists a job's runs, newest first.
func (r *Registry) Runs(ctx context.Context, a *auth.Actor, name string, page, size int) ([]Run, int, error) {
	if err := a.Require(PermView); err != nil {
		return nil, 0, err
	}
	if _, ok := r.get(name); !ok {
		return nil, 0, ErrNotFound
	}
	var v errs.Invalid
	paging.Check(&v, &page, &size)
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	return listRuns(ctx, r.db, name, page, size)
}

// Input is an admin's change to a job; absent fields stay.
type Input struct {
	Schedule *string `json:"schedule"`
	Enabled  *bool   `json:"enabled"`
}

// Update changes a job's schedule or enabled state (stored, audited, applied
// here at once and on other instances within the reload interval).
func (r *Registry) Update(ctx context.Context, a *auth.Actor, name string, in Input) (*View, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	e, ok := r.get(name)
	if !ok {
		return nil, ErrNotFound
	}
	r.mu.Lock()
	old := setting{Name: name, Schedule: e.schedule, Enabled: e.enabled}
	r.mu.Unlock()
	next := old
	var v errs.Invalid
	if in.Schedule != nil {
		next.Schedule = strings.Join(strings.Fields(*in.Schedule), " ")
		if _, err := ParseSchedule(next.Schedule); err != nil {
			v.Add("schedule", "jobs.bad_schedule")
		}
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	changes := map[string]audit.Change{}
	if next.Schedule != old.Schedule {
		changes["schedule"] = audit.Change{Old: old.Schedule, New: next.Schedule}
	}
	if next.Enabled != old.Enabled {
		changes["enabled"] = audit.Change{Old: old.Enabled, New: next.Enabled}
	}
	err := r.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := saveSetting(ctx, tx, r.db.Dialect, next, a.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: "update", Entity: "job", EntityName: name,
			Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	e.schedule, e.enabled = next.Schedule, next.Enabled
	r.scheduleLocked(e)
	r.mu.Unlock()
	return r.Get(ctx, a, name)
}

// Trigger starts a job now in the background ("run now"); the answer is
// the run as started. A job already running (on any instance) is
// ErrRunning.
func (r *Registry) Trigger(ctx context.Context, a *auth.Actor, name string) (*Run, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, err
	}
	run, err := r.start(ctx, name, a.UserID)
	if err != nil {
		return nil, err
	}
	err = r.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		return audit.Record(ctx, tx, audit.By(a), audit.Entry{Action: "run", Entity: "job", EntityID: run.ID, EntityName: name})
	})
	if err != nil {
		return nil, err
	}
	run.StartedByName = a.Name
	return run, nil
}
