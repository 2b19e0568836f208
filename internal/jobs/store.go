package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// Run is one run of a job.
type Run struct {
	ID        int64            `json:"id" db:"id"`
	Job       string           `json:"job" db:"job"`
	Origin    string           `json:"origin" db:"origin"`
	TickAt    *time.Time       `json:"tick_at" db:"tick_at"`
	StartedAt time.Time        `json:"started_at" db:"started_at"`
	EndedAt   *time.Time       `json:"ended_at" db:"ended_at"`
	Outcome   string           `json:"outcome" db:"outcome"`
	Summary   string           `json:"summary" db:"summary"`
	Counts    map[string]int64 `json:"counts" db:"-"`
	CountsRaw string           `json:"-" db:"counts"`
	Error     string           `json:"error" db:"error"`
	Instance  string           `json:"instance" db:"instance"`
	StartedBy int64            `json:"started_by" db:"started_by"`
	// StartedByName names the admin of a manual run.
	StartedByName string `json:"started_by_name" db:"started_by_name"`
}

const runColumns = `r.id, r.job, r.origin, r.tick_at, r.started_at, r.ended_at, r.outcome, r.summary, r.counts,
	r.error, r.instance, r.started_by, COALESCE(u.name, '') AS started_by_name`

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func insertRun(ctx context.Context, x sqlx.ExtContext, r *Run) error {
	res, err := x.ExecContext(ctx, `INSERT INTO job_runs
		(job, origin, tick_at, started_at, ended_at, outcome, summary, counts, error, instance, started_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '', ?, ?)`,
		r.Job, r.Origin, r.TickAt, r.StartedAt, r.EndedAt, r.Outcome, clip(r.Summary, 1000), clip(r.Instance, 100), r.StartedBy)
	if err != nil {
		return fmt.Errorf("jobs: record run: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

func finishRun(ctx context.Context, x sqlx.ExtContext, r *Run) error {
	counts := "{}"
	if len(r.Counts) > 0 {
		b, err := json.Marshal(r.Counts)
		if err != nil {
			return err
		}
		counts = string(b)
	}
	_, err := x.ExecContext(ctx, `UPDATE job_runs SET ended_at = ?, outcome = ?, summary = ?, counts = ?, error = ?
		WHERE id = ?`, r.EndedAt, r.Outcome, clip(r.Summary, 1000), counts, clip(r.Error, 8000), r.ID)
	if err != nil {
		return fmt.Errorf("jobs: finish run: %w", err)
	}
	return nil
}

func decodeRuns(runs []Run) {
	for i := range runs {
		runs[i].Counts = map[string]int64{}
		_ = json.Unmarshal([]byte(runs[i].CountsRaw), &runs[i].Counts)
	}
}

// listRuns returns a job's runs, newest first, and their total.
func listRuns(ctx context.Context, db *store.DB, job string, page, size int) ([]Run, int, error) {
	var total int
	if err := db.GetContext(ctx, &total, "SELECT COUNT(*) FROM job_runs WHERE job = ?", job); err != nil {
		return nil, 0, fmt.Errorf("jobs: count runs: %w", err)
	}
	runs := []Run{}
	err := db.SelectContext(ctx, &runs, `SELECT `+runColumns+` FROM job_runs r LEFT JOIN users u ON u.id = r.started_by
		WHERE r.job = ? ORDER BY r.id DESC LIMIT ? OFFSET ?`, job, size, (page-1)*size)
	if err != nil {
		return nil, 0, fmt.Errorf("jobs: list runs: %w", err)
	}
	decodeRuns(runs)
	return runs, total, nil
}

// lastRuns returns each job's newest run.
func lastRuns(ctx context.Context, db *store.DB) (map[string]Run, error) {
	var runs []Run
	err := db.SelectContext(ctx, &runs, `SELECT `+runColumns+` FROM job_runs r LEFT JOIN users u ON u.id = r.started_by
		WHERE r.id IN (SELECT MAX(id) FROM job_runs GROUP BY job)`)
	if err != nil {
		return nil, fmt.Errorf("jobs: last runs: %w", err)
	}
	decodeRuns(runs)
	out := make(map[string]Run, len(runs))
	for _, r := range runs {
		out[r.Job] = r
	}
	return out, nil
}

type setting struct {
	Name     string `db:"name"`
	Schedule string `db:"schedule"`
	Enabled  bool   `db:"enabled"`
}

func loadSettings(ctx context.Context, db *store.DB) (map[string]setting, error) {
	var rows []setting
	if err := db.SelectContext(ctx, &rows, "SELECT name, schedule, enabled FROM job_settings"); err != nil {
		return nil, fmt.Errorf("jobs: load settings: %w", err)
	}
	out := make(map[string]setting, len(rows))
	for _, r := range rows {
		out[r.Name] = r
	}
	return out, nil
}

func saveSetting(ctx context.Context, tx *sqlx.Tx, d store.Dialect, s setting, by int64) error {
	q := `INSERT INTO job_settings (name, schedule, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule, enabled = excluded.enabled,
		updated_at = excluded.updated_at, updated_by = excluded.updated_by`
	if d == store.MySQL {
		q = `INSERT INTO job_settings (name, schedule, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE schedule = VALUES(schedule), enabled = VALUES(enabled),
		updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)`
	}
	if _, err := tx.ExecContext(ctx, q, s.Name, s.Schedule, s.Enabled, store.Now(), by); err != nil {
		return fmt.Errorf("jobs: save setting: %w", err)
	}
	return nil
}

// PruneRuns deletes runs started before before (the cleanup job); a run
// still marked running that long ago lost its process.
func PruneRuns(ctx context.Context, db *store.DB, before time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, "DELETE FROM job_runs WHERE started_at < ?", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("jobs: prune runs: %w", err)
	}
	return res.RowsAffected()
}
