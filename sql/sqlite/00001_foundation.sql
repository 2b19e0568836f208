-- +goose Up
-- The foundation: organization, roles, sessions, customers with their search
-- index, and the operation log. Times are UTC; text is utf8mb4.

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dingtalk_id BIGINT NULL,
    name        VARCHAR(100) NOT NULL,
    parent_id   BIGINT NULL,
    sort_order  INT NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_departments_dingtalk ON departments (dingtalk_id);
CREATE INDEX idx_departments_parent ON departments (parent_id);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    userid         VARCHAR(64) NOT NULL,
    name           VARCHAR(100) NOT NULL,
    mobile         VARCHAR(20) NULL,
    email          VARCHAR(200) NOT NULL DEFAULT '',
    title          VARCHAR(100) NOT NULL DEFAULT '',
    lang           VARCHAR(8) NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1,
    source         VARCHAR(16) NOT NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    deactivated_at DATETIME NULL
);
CREATE UNIQUE INDEX uq_users_userid ON users (userid);
CREATE UNIQUE INDEX uq_users_mobile ON users (mobile);

CREATE TABLE user_departments (
    user_id       BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    is_manager    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, department_id)
);
CREATE INDEX idx_user_departments_dept ON user_departments (department_id);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        VARCHAR(32) NOT NULL,
    name        VARCHAR(50) NOT NULL,
    data_scope  VARCHAR(16) NOT NULL,
    permissions TEXT NOT NULL,
    builtin     INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_roles_code ON roles (code);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX idx_user_roles_role ON user_roles (role_id);

CREATE TABLE sessions (
    token_hash CHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    ip         VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT ''
);
CREATE INDEX idx_sessions_user ON sessions (user_id);
CREATE INDEX idx_sessions_expires ON sessions (expires_at);

CREATE TABLE customers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           VARCHAR(100) NOT NULL,
    phone          VARCHAR(20) NOT NULL DEFAULT '',
    company        VARCHAR(100) NOT NULL DEFAULT '',
    address        VARCHAR(200) NOT NULL DEFAULT '',
    industry       VARCHAR(32) NOT NULL DEFAULT '',
    source         VARCHAR(32) NOT NULL DEFAULT '',
    level          VARCHAR(32) NOT NULL DEFAULT '',
    status         VARCHAR(32) NOT NULL DEFAULT '',
    tags           VARCHAR(1000) NOT NULL DEFAULT '[]',
    note           TEXT NOT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    next_follow_at DATETIME NULL,
    last_follow_at DATETIME NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME NULL,
    deleted_by     BIGINT NULL,
    -- search_text is what keyword search matches: lower-cased name, company
    -- and phone digits joined by U+001F, compared byte for byte.
    search_text    VARCHAR(600) NOT NULL DEFAULT ''
);
CREATE INDEX idx_customers_owner ON customers (owner_id, deleted_at, updated_at);
CREATE INDEX idx_customers_dept ON customers (department_id, deleted_at, updated_at);
CREATE INDEX idx_customers_updated ON customers (deleted_at, updated_at);
CREATE INDEX idx_customers_next_follow ON customers (next_follow_at);
CREATE INDEX idx_customers_created ON customers (created_at);

-- customer_grams is the search index: one row per distinct pair of adjacent
-- characters (a bigram, packed into an integer) of a customer's search_text.
CREATE TABLE customer_grams (
    gram        BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;
CREATE INDEX idx_customer_grams_customer ON customer_grams (customer_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          DATETIME NOT NULL,
    actor_id    BIGINT NOT NULL DEFAULT 0,
    actor_name  VARCHAR(100) NOT NULL DEFAULT '',
    action      VARCHAR(32) NOT NULL,
    entity      VARCHAR(32) NOT NULL,
    entity_id   BIGINT NOT NULL DEFAULT 0,
    entity_name VARCHAR(200) NOT NULL DEFAULT '',
    changes     TEXT NOT NULL,
    ip          VARCHAR(64) NOT NULL DEFAULT '',
    request_id  VARCHAR(64) NOT NULL DEFAULT ''
);
CREATE INDEX idx_audit_at ON audit_log (at);
CREATE INDEX idx_audit_entity ON audit_log (entity, entity_id);
CREATE INDEX idx_audit_actor ON audit_log (actor_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE customer_grams;
DROP TABLE customers;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE user_departments;
DROP TABLE users;
DROP TABLE departments;

