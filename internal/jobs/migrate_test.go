package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/store/storetest"
)

// tickKeyVersion is the migration that makes job_runs unique per tick.
const tickKeyVersion = 19

// TestTickKeyMigrationKeepsDuplicates migrates a history that already
// holds a tick run twice (what a lost tick lock could leave before the
// key): the migration succeeds, every row stays, the first run keeps its
// tick and the later one loses it; manual runs without a tick are
// untouched, and after it a second record of one tick is refused.
func TestTickKeyMigrationKeepsDuplicates(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.MigratedTo(t, e.Name, tickKeyVersion-1)
			tick := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
			rows := []struct {
				job, origin string
				tick        *time.Time
			}{
				{"daily", "schedule", &tick}, {"daily", "schedule", &tick}, {"daily", "schedule", &tick},
				{"daily", "start", &tick}, {"weekly", "schedule", &tick},
				{"daily", "manual", nil}, {"daily", "manual", nil},
			}
			for _, r := range rows {
				if _, err := db.ExecContext(ctx, `INSERT INTO job_runs (job, origin, tick_at, started_at, outcome, counts,
					error, instance) VALUES (?, ?, ?, ?, 'ok', '{}', '', 'old')`, r.job, r.origin, r.tick, tick); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			var got []struct {
				ID     int64  `db:"id"`
				Job    string `db:"job"`
				Origin string `db:"origin"`
				Ticked bool   `db:"ticked"`
			}
			if err := db.SelectContext(ctx, &got, `SELECT id, job, origin, tick_at IS NOT NULL AS ticked
				FROM job_runs ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			want := []bool{true, false, false, true, true, false, false}
			if len(got) != len(want) {
				t.Fatalf("%d rows after the migration, want %d: %+v", len(got), len(want), got)
			}
			for i, w := range want {
				if got[i].Ticked != w {
					t.Errorf("row %d (%s %s) keeps its tick: %v, want %v", i+1, got[i].Job, got[i].Origin, got[i].Ticked, w)
				}
			}
			_, err := db.ExecContext(ctx, `INSERT INTO job_runs (job, origin, tick_at, started_at, outcome, counts,
				error, instance) VALUES ('daily', 'schedule', ?, ?, 'ok', '{}', '', 'new')`, tick, tick)
			if err == nil {
				t.Error("a second record of one tick was accepted after the migration")
			}
		})
	}
}
