-- +goose Up
-- One record per (job, origin, tick): the insert that starts a scheduled
-- run is the atomic once-per-tick guard. The kv tick lock stays the fast
-- path between instances; this key holds when kv forgot the lock (a Redis
-- restarted empty) and two instances fire for the same tick at once.
-- Manual and CLI runs have no tick (NULL), and NULLs never collide.
--
-- Earlier duplicates keep their history: the first run of a tick keeps
-- tick_at, later ones lose it (started_at still says when they ran).
UPDATE job_runs j
JOIN (SELECT job, origin, tick_at, MIN(id) AS keep_id FROM job_runs
      WHERE tick_at IS NOT NULL GROUP BY job, origin, tick_at HAVING COUNT(*) > 1) d
  ON d.job = j.job AND d.origin = j.origin AND d.tick_at = j.tick_at
SET j.tick_at = NULL
WHERE j.id <> d.keep_id;

CREATE UNIQUE INDEX uq_job_runs_tick ON job_runs (job, origin, tick_at);

-- +goose Down
DROP INDEX uq_job_runs_tick ON job_runs;
