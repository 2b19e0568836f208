-- +goose Up
-- Excel imports (导入). Every upload, dry run or real, is one row: its
-- progress is read from here by whichever instance the person's next
-- request reaches. The work itself runs in the process that received the
-- upload and lives only as long as that process: a job whose process ended
-- stays "running" with a stale updated_at, which the service reports as
-- interrupted. owner_id and department_id are the person who uploaded and
-- their main department, so data scope filters jobs like everything else.
CREATE TABLE import_jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          VARCHAR(32) NOT NULL,
    dry_run       INTEGER NOT NULL DEFAULT 0,
    status        VARCHAR(16) NOT NULL,
    file_name     VARCHAR(255) NOT NULL DEFAULT '',
    lang          VARCHAR(8) NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    processed     INTEGER NOT NULL DEFAULT 0,
    inserted      INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    -- problems: JSON list of the first rejected rows' messages, localized.
    problems      TEXT NOT NULL,
    error_key     VARCHAR(64) NOT NULL DEFAULT '',
    -- error_file: the rejected rows as .xlsx (original cells and a problems column).
    error_file    BLOB NULL,
    owner_id      BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    finished_at   DATETIME NULL
);
CREATE INDEX idx_import_jobs_owner ON import_jobs (owner_id, created_at);
CREATE INDEX idx_import_jobs_dept ON import_jobs (department_id, created_at);

-- +goose Down
DROP TABLE import_jobs;
