-- +goose Up
-- Company settings (系统设置): one row (id = 1) holding the settings as JSON
-- and a version that every change bumps; instances compare it (through kv
-- when Redis is configured) to know their cached copy is stale.
CREATE TABLE company_settings (
    id          INT PRIMARY KEY,
    data        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    logo_type   VARCHAR(32) NOT NULL DEFAULT '',
    logo        MEDIUMBLOB NULL,
    updated_at  DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO company_settings (id, data, version, updated_at) VALUES (1, '{}', 1, CURRENT_TIMESTAMP(3));

-- The option lists people pick from. A list with no rows is its built-in
-- defaults; the first edit writes the whole list.
CREATE TABLE setting_options (
    id        BIGINT AUTO_INCREMENT PRIMARY KEY,
    list      VARCHAR(32) NOT NULL,
    code      VARCHAR(32) NOT NULL,
    label_zh  VARCHAR(50) NOT NULL,
    label_en  VARCHAR(50) NOT NULL,
    sort      INT NOT NULL,
    active    TINYINT(1) NOT NULL DEFAULT 1,
    UNIQUE KEY uq_setting_options (list, code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Field visibility per role: {"customer.phone": "masked", ...}; absent = visible.
ALTER TABLE roles ADD COLUMN field_policy VARCHAR(2000) NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE roles DROP COLUMN field_policy;
DROP TABLE setting_options;
DROP TABLE company_settings;
