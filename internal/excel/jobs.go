package excel

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Job statuses.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// ErrJobNotFound answers a job that does not exist or is not the caller's to see.
var ErrJobNotFound = errs.NotFound("excel.import_not_found")

// ErrNoErrorFile answers a request for the rejected rows of an import that rejected none.
var ErrNoErrorFile = errs.NotFound("excel.no_error_file")

// A running job is touched every heartbeat (and by each batch); one not
// touched for staleAfter lost its process.
const (
	heartbeat  = 20 * time.Second
	staleAfter = 2 * time.Minute
)

// maxStoredProblems bounds the problems kept on the job for display; the
// file of rejected rows has them all.
const maxStoredProblems = 100

// Job is one import as the API shows it.
type Job struct {
	ID        int64  `json:"id" db:"id"`
	Kind      string `json:"kind" db:"kind"`
	DryRun    bool   `json:"dry_run" db:"dry_run"`
	Status    string `json:"status" db:"status"`
	FileName  string `json:"file_name" db:"file_name"`
	Lang      string `json:"-" db:"lang"`
	Total     int    `json:"total" db:"total"`
	Processed int    `json:"processed" db:"processed"`
	Inserted  int    `json:"inserted" db:"inserted"`
	Rejected  int    `json:"rejected" db:"rejected"`
	// Problems are the first rejected rows' messages ("第 17 行：…").
	Problems    []string `json:"problems" db:"-"`
	RawProblems string   `json:"-" db:"problems"`
	// Error says why a failed or interrupted job stopped.
	Error    string `json:"error,omitempty" db:"-"`
	ErrorKey string `json:"-" db:"error_key"`
	// HasErrorFile: the rejected rows can be downloaded.
	HasErrorFile bool       `json:"-" db:"has_error_file"`
	OwnerID      int64      `json:"owner_id" db:"owner_id"`
	CreatedAt    time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at" db:"updated_at"`
	FinishedAt   *time.Time `json:"finished_at" db:"finished_at"`
}

// show prepares a stored job for display in l's language.
func (j *Job) show(l Locale, now time.Time) {
	j.Problems = []string{}
	if j.RawProblems != "" {
		json.Unmarshal([]byte(j.RawProblems), &j.Problems)
	}
	if j.Status == StatusRunning && now.Sub(j.UpdatedAt) > staleAfter {
		j.Status, j.ErrorKey = StatusInterrupted, "excel.interrupted"
	}
	if j.ErrorKey != "" {
		j.Error = l.T(j.ErrorKey)
	}
}

const jobCols = `SELECT id, kind, dry_run, status, file_name, lang, total, processed, inserted, rejected,
	problems, error_key, error_file IS NOT NULL AS has_error_file, owner_id, created_at, updated_at, finished_at
	FROM import_jobs j`

// insertJob records a new job as running.
func insertJob(ctx context.Context, x sqlx.ExecerContext, a *auth.Actor, j *Job) error {
	now := store.Now()
	j.Status, j.OwnerID, j.CreatedAt, j.UpdatedAt = StatusRunning, a.UserID, now, now
	res, err := x.ExecContext(ctx, `INSERT INTO import_jobs (kind, dry_run, status, file_name, lang, total,
		processed, inserted, rejected, problems, error_key, owner_id, department_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, '[]', '', ?, ?, ?, ?)`,
		j.Kind, j.DryRun, j.Status, j.FileName, j.Lang, j.Total, a.UserID, a.PrimaryDeptID, now, now)
	if err != nil {
		return fmt.Errorf("excel: insert job: %w", err)
	}
	if j.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("excel: job id: %w", err)
	}
	return nil
}

// progressJob records how far a job is; called inside each batch's
// transaction, so the counts always match what was committed.
func progressJob(ctx context.Context, x sqlx.ExecerContext, j *Job) error {
	j.UpdatedAt = store.Now()
	_, err := x.ExecContext(ctx, `UPDATE import_jobs SET processed = ?, inserted = ?, rejected = ?, updated_at = ?
		WHERE id = ?`, j.Processed, j.Inserted, j.Rejected, j.UpdatedAt, j.ID)
	if err != nil {
		return fmt.Errorf("excel: job %d progress: %w", j.ID, err)
	}
	return nil
}

// addProgress adds to a job's counts (concurrent batches each add theirs).
func addProgress(ctx context.Context, x sqlx.ExecerContext, id int64, inserted, rejected int) error {
	_, err := x.ExecContext(ctx, `UPDATE import_jobs SET processed = processed + ?, inserted = inserted + ?,
		rejected = rejected + ?, updated_at = ? WHERE id = ?`, inserted+rejected, inserted, rejected, store.Now(), id)
	if err != nil {
		return fmt.Errorf("excel: job %d progress: %w", id, err)
	}
	return nil
}

// keepAlive touches a running job every heartbeat until stop is called,
// so a job waiting for a slot or checking a large file is not mistaken for
// one whose process ended.
func (s *Service) keepAlive(ctx context.Context, j *Job) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, err := s.db.ExecContext(ctx, "UPDATE import_jobs SET updated_at = ? WHERE id = ? AND status = ?",
					store.Now(), j.ID, StatusRunning)
				if err != nil {
					s.log.Warn("excel: job heartbeat", "job", j.ID, "err", err)
				}
			}
		}
	}()
	return func() { close(done) }
}

// finishJob records the end of a job: its status, counts, problems and the
// file of rejected rows (nil when none).
func finishJob(ctx context.Context, x sqlx.ExecerContext, j *Job, errorFile []byte) error {
	problems, _ := json.Marshal(j.Problems)
	now := store.Now()
	j.UpdatedAt, j.FinishedAt = now, &now
	var file any
	if errorFile != nil {
		file = errorFile
	}
	_, err := x.ExecContext(ctx, `UPDATE import_jobs SET status = ?, processed = ?, inserted = ?, rejected = ?,
		problems = ?, error_key = ?, error_file = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
		j.Status, j.Processed, j.Inserted, j.Rejected, string(problems), j.ErrorKey, file, now, now, j.ID)
	if err != nil {
		return fmt.Errorf("excel: finish job %d: %w", j.ID, err)
	}
	j.HasErrorFile = errorFile != nil
	return nil
}

// Job returns an import in the Actor's scope (their own, or their team's
// for a manager). Seeing imports needs customer.import.
func (s *Service) Job(ctx context.Context, a *auth.Actor, id int64) (*Job, error) {
	if err := a.Require(auth.Perm("customer.import")); err != nil {
		return nil, err
	}
	cond, args := a.ScopeFilter("j.owner_id", "j.department_id")
	var j Job
	err := s.db.GetContext(ctx, &j, jobCols+" WHERE j.id = ? AND "+cond, append([]any{id}, args...)...)
	if store.IsNoRows(err) {
		return nil, ErrJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("excel: get job %d: %w", id, err)
	}
	j.show(s.Locale(j.Lang), store.Now())
	return &j, nil
}

// ErrorFile returns the rejected rows of an import as .xlsx, with a file
// name in the job's language.
func (s *Service) ErrorFile(ctx context.Context, a *auth.Actor, id int64) ([]byte, string, error) {
	j, err := s.Job(ctx, a, id)
	if err != nil {
		return nil, "", err
	}
	if !j.HasErrorFile {
		return nil, "", ErrNoErrorFile
	}
	var b []byte
	if err := s.db.GetContext(ctx, &b, "SELECT error_file FROM import_jobs WHERE id = ?", id); err != nil {
		return nil, "", fmt.Errorf("excel: error file %d: %w", id, err)
	}
	return b, fmt.Sprintf("%s-%d.xlsx", s.Locale(j.Lang).T("excel.file.rejected"), id), nil
}
