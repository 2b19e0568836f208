-- +goose Up
-- Company settings (系统设置): one row (id = 1) holding the settings as JSON
-- and a version that every change bumps; instances compare it (through kv
-- when Redis is configured) to know their cached copy is stale.
CREATE TABLE company_settings (
    id          INT PRIMARY KEY,
    data        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    logo_type   VARCHAR(32) NOT NULL DEFAULT '',
    logo        BLOB NULL,
    updated_at  DATETIME NOT NULL
);
INSERT INTO company_settings (id, data, version, updated_at) VALUES (1, '{}', 1, '2026-01-01 00:00:00.000');

-- The option lists people pick from. A list with no rows is its built-in
-- defaults; the first edit writes the whole list.
CREATE TABLE setting_options (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    list      VARCHAR(32) NOT NULL,
    code      VARCHAR(32) NOT NULL,
    label_zh  VARCHAR(50) NOT NULL,
    label_en  VARCHAR(50) NOT NULL,
    sort      INT NOT NULL,
    active    INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX uq_setting_options ON setting_options (list, code);

-- Field visibility per role: {"customer.phone": "masked", ...}; absent = visible.
ALTER TABLE roles ADD COLUMN field_policy VARCHAR(2000) NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE roles DROP COLUMN field_policy;
DROP TABLE setting_options;
DROP TABLE company_settings;
