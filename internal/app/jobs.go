package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/grouprobot"
	"github.com/dingcrm/crm/internal/jobs"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/summary"
)

// Retention of the cleanup job.
const (
	keepJobRuns    = 90 * 24 * time.Hour
	keepRobotSends = 60 * 24 * time.Hour
)

// buildJobs registers every scheduled job. The scheduler itself starts in
// Serve (so `crm jobs run` and tests build the same registry without
// running a schedule) and stops in Close, letting running jobs finish.
func (a *App) buildJobs(sum *summary.Service, pl *pool.Service, sessions *auth.Sessions) *jobs.Registry {
	r := jobs.New(jobs.Options{DB: a.DB, KV: a.KV, Location: a.zone, Log: a.log})
	// The notifications (internal/outbox, internal/reminder): send what is
	// due every minute (the dispatcher claims rows safely, so a slow run
	// and the next tick elsewhere never send twice; the overlap guard skips
	// the tick anyway), ask DingTalk what became of sent batches, and the
	// morning digest.
	r.Add(jobs.Job{Name: "dispatch-reminders", Schedule: "* * * * *", Timeout: 10 * time.Minute,
		Run: summaryOnly(func(ctx context.Context, _ time.Time) (string, error) { return a.Outbox.Dispatch(ctx) })})
	r.Add(jobs.Job{Name: "check-send-results", Schedule: "*/10 * * * *", Timeout: 10 * time.Minute,
		Run: summaryOnly(func(ctx context.Context, _ time.Time) (string, error) { return a.Outbox.CheckSendResults(ctx) })})
	r.Add(jobs.Job{Name: "morning-digest", Schedule: "0 9 * * *", Run: summaryOnly(a.Reminders.MorningDigest)})
	r.Add(jobs.Job{Name: "team-summary", Schedule: "0 18 * * *", Run: sum.TeamSummary})
	r.Add(jobs.Job{Name: "weekly-summary", Schedule: "0 9 * * 1", Run: sum.WeeklySummary})
	r.Add(jobs.Job{Name: "pool-reclaim", Schedule: "30 1 * * *", Run: func(ctx context.Context, now time.Time) (jobs.Result, error) {
		s, err := pl.Reclaim(ctx, now)
		if err != nil {
			return jobs.Result{}, err
		}
		return jobs.Result{Summary: fmt.Sprintf("checked %d, warned %d, reclaimed %d", s.Checked, len(s.Warned), len(s.Reclaimed)),
			Counts: map[string]int64{"checked": int64(s.Checked), "warned": int64(len(s.Warned)), "reclaimed": int64(len(s.Reclaimed))}}, nil
	}})
	// org-sync is the full sync as a safety net for missed events; it also
	// applies events left pending by a stopped process.
	r.Add(jobs.Job{Name: "org-sync", Schedule: "0 2 * * *", Timeout: 2 * time.Hour,
		Run: func(ctx context.Context, _ time.Time) (jobs.Result, error) {
			sy, err := a.OrgSync.Run(ctx, orgsync.RunOptions{Origin: orgsync.OriginCLI})
			if err != nil {
				return jobs.Result{}, err
			}
			a.OrgSync.ApplyPending(ctx)
			s := sy.Summary
			return jobs.Result{Summary: fmt.Sprintf("sync %d: %d people, %d added, %d changed, %d moved, %d deactivated, %d calls",
				sy.ID, s.People, s.PeopleAdded, s.PeopleChanged, s.PeopleMoved, s.PeopleDeactivated, s.Calls),
				Counts: map[string]int64{"people": int64(s.People), "added": int64(s.PeopleAdded), "changed": int64(s.PeopleChanged),
					"deactivated": int64(s.PeopleDeactivated), "calls": int64(s.Calls)}}, nil
		}})
	r.Add(jobs.Job{Name: "cleanup", Schedule: "15 3 * * *", Run: func(ctx context.Context, now time.Time) (jobs.Result, error) {
		sessionsGone, err := sessions.PurgeExpired(ctx)
		if err != nil {
			return jobs.Result{}, err
		}
		runs, err := jobs.PruneRuns(ctx, a.DB, now.Add(-keepJobRuns))
		if err != nil {
			return jobs.Result{}, err
		}
		sends, err := grouprobot.PruneSends(ctx, a.DB, now.Add(-keepRobotSends))
		if err != nil {
			return jobs.Result{}, err
		}
		return jobs.Result{Summary: fmt.Sprintf("%d expired sessions, %d old job runs, %d old robot send marks removed", sessionsGone, runs, sends),
			Counts: map[string]int64{"sessions": sessionsGone, "job_runs": runs, "robot_sends": sends}}, nil
	}})
	// 系统维护: the nightly backup (data_dir/backups, keeping the newest N)
	// and the operation/login-log retention, in batches.
	r.Add(jobs.Job{Name: "backup", Schedule: "0 4 * * *", Timeout: 4 * time.Hour,
		Run: summaryOnly(func(ctx context.Context, _ time.Time) (string, error) { return a.System.RunBackup(ctx) })})
	r.Add(jobs.Job{Name: "log-retention", Schedule: "45 3 * * *", Timeout: time.Hour,
		Run: func(ctx context.Context, now time.Time) (jobs.Result, error) {
			c, err := a.System.CleanupLogs(ctx, now)
			if err != nil {
				return jobs.Result{}, err
			}
			return jobs.Result{Summary: fmt.Sprintf("deleted %d operation-log and %d login-log entries", c.OperationDeleted, c.LoginDeleted),
				Counts: map[string]int64{"operation_log": c.OperationDeleted, "login_log": c.LoginDeleted}}, nil
		}})
	return r
}

// summaryOnly adapts a job that reports a one-line summary.
func summaryOnly(fn func(ctx context.Context, now time.Time) (string, error)) jobs.Func {
	return func(ctx context.Context, now time.Time) (jobs.Result, error) {
		s, err := fn(ctx, now)
		return jobs.Result{Summary: s}, err
	}
}
