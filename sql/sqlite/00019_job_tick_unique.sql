-- +goose Up
-- One record per (job, origin, tick): the insert that starts a scheduled
-- run is the atomic once-per-tick guard. The kv tick lock stays the fast
-- path between instances; this key holds when kv forgot the lock (a Redis
-- restarted empty) and two instances fire for the same tick at once.
-- Manual and CLI runs have no tick (NULL), and NULLs never collide.
--
-- Earlier duplicates keep their history: the first run of a tick keeps
-- tick_at, later ones lose it (started_at still says when they ran).
UPDATE job_runs SET tick_at = NULL
WHERE tick_at IS NOT NULL AND id <> (
    SELECT MIN(d.id) FROM job_runs d
    WHERE d.job = job_runs.job AND d.origin = job_runs.origin AND d.tick_at = job_runs.tick_at);

CREATE UNIQUE INDEX uq_job_runs_tick ON job_runs (job, origin, tick_at);

-- +goose Down
DROP INDEX uq_job_runs_tick;
