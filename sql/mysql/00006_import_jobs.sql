-- +goose Up
-- Excel imports (导入). Every upload, dry run or real, is one row: its
-- progress is read from here by whichever instance the person's next
-- request reaches. The work itself runs in the process that received the
-- upload and lives only as long as that process: a job whose process ended
-- stays "running" with a stale updated_at, which the service reports as
-- interrupted. owner_id and department_id are the person who uploaded and
-- their main department, so data scope filters jobs like everything else.
CREATE TABLE import_jobs (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    kind          VARCHAR(32) NOT NULL,
    dry_run       TINYINT(1) NOT NULL DEFAULT 0,
    status        VARCHAR(16) NOT NULL,
    file_name     VARCHAR(255) NOT NULL DEFAULT '',
    lang          VARCHAR(8) NOT NULL,
    total         INT NOT NULL DEFAULT 0,
    processed     INT NOT NULL DEFAULT 0,
    inserted      INT NOT NULL DEFAULT 0,
    rejected      INT NOT NULL DEFAULT 0,
    -- problems: JSON list of the first rejected rows' messages, localized.
    problems      MEDIUMTEXT NOT NULL,
    error_key     VARCHAR(64) NOT NULL DEFAULT '',
    -- error_file: the rejected rows as .xlsx (original cells and a problems column).
    error_file    MEDIUMBLOB NULL,
    owner_id      BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    created_at    DATETIME(3) NOT NULL,
    updated_at    DATETIME(3) NOT NULL,
    finished_at   DATETIME(3) NULL,
    KEY idx_import_jobs_owner (owner_id, created_at),
    KEY idx_import_jobs_dept (department_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE import_jobs;
