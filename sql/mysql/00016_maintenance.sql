-- +goose Up
-- 系统维护: how many scheduled backups to keep and how long the operation and
-- login logs are kept. One row (id 1); 0 means "the configured default" for
-- backup_keep and "keep forever" for the log retentions.
CREATE TABLE maintenance_settings (
    id                 INT NOT NULL PRIMARY KEY,
    backup_keep        INT NOT NULL DEFAULT 0,
    operation_log_days INT NOT NULL DEFAULT 0,
    login_log_days     INT NOT NULL DEFAULT 365,
    updated_at         DATETIME(3) NULL,
    updated_by         BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO maintenance_settings (id) VALUES (1);

-- +goose Down
DROP TABLE maintenance_settings;
