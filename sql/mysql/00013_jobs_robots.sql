-- +goose Up
-- Scheduled jobs (internal/jobs). A job's name, default schedule and
-- run-at-start live in code; job_settings holds what an admin changed
-- (schedule, enabled), read by every instance.
CREATE TABLE job_settings (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    schedule   VARCHAR(100) NOT NULL,
    enabled    TINYINT(1) NOT NULL DEFAULT 1,
    updated_at DATETIME(3) NOT NULL,
    updated_by BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- job_runs: one row per run, written when it starts (outcome running) and
-- finished when it ends. tick_at is the schedule tick it ran for (NULL for
-- manual and CLI runs); instance names the process that ran it.
CREATE TABLE job_runs (
    id         BIGINT AUTO_INCREMENT PRIMARY KEY,
    job        VARCHAR(64) NOT NULL,
    origin     VARCHAR(16) NOT NULL,
    tick_at    DATETIME(3) NULL,
    started_at DATETIME(3) NOT NULL,
    ended_at   DATETIME(3) NULL,
    outcome    VARCHAR(16) NOT NULL,
    summary    VARCHAR(1000) NOT NULL DEFAULT '',
    counts     TEXT NOT NULL,
    error      TEXT NOT NULL,
    instance   VARCHAR(100) NOT NULL,
    started_by BIGINT NOT NULL DEFAULT 0,
    KEY idx_job_runs_job (job, id),
    KEY idx_job_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Custom group robots (自定义机器人), one per sales team (department):
-- the team's daily and weekly summaries go to its group. secret is the
-- "SEC…" signing secret; it is never returned by the API.
CREATE TABLE group_robots (
    department_id BIGINT NOT NULL PRIMARY KEY,
    name          VARCHAR(50) NOT NULL DEFAULT '',
    webhook       VARCHAR(500) NOT NULL,
    secret        VARCHAR(200) NOT NULL DEFAULT '',
    enabled       TINYINT(1) NOT NULL DEFAULT 1,
    updated_at    DATETIME(3) NOT NULL,
    updated_by    BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- group_robot_sends: one row per (department, summary, period) claimed
-- before the send, so a rerun of a summary job never posts twice; a failed
-- send removes its row so the next run tries again.
CREATE TABLE group_robot_sends (
    department_id BIGINT NOT NULL,
    kind          VARCHAR(16) NOT NULL,
    period        VARCHAR(16) NOT NULL,
    sent_at       DATETIME(3) NOT NULL,
    PRIMARY KEY (department_id, kind, period)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE group_robot_sends;
DROP TABLE group_robots;
DROP TABLE job_runs;
DROP TABLE job_settings;
