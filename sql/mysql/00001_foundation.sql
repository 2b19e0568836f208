-- +goose Up
-- The foundation: organization, roles, sessions, customers with their search
-- index, and the operation log. Times are UTC; text is utf8mb4.

CREATE TABLE departments (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    dingtalk_id BIGINT NULL,
    name        VARCHAR(100) NOT NULL,
    parent_id   BIGINT NULL,
    sort_order  INT NOT NULL DEFAULT 0,
    created_at  DATETIME(3) NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    UNIQUE KEY uq_departments_dingtalk (dingtalk_id),
    KEY idx_departments_parent (parent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    userid         VARCHAR(64) NOT NULL,
    name           VARCHAR(100) NOT NULL,
    mobile         VARCHAR(20) NULL,
    email          VARCHAR(200) NOT NULL DEFAULT '',
    title          VARCHAR(100) NOT NULL DEFAULT '',
    lang           VARCHAR(8) NOT NULL DEFAULT '',
    active         TINYINT(1) NOT NULL DEFAULT 1,
    source         VARCHAR(16) NOT NULL,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    deactivated_at DATETIME(3) NULL,
    UNIQUE KEY uq_users_userid (userid),
    UNIQUE KEY uq_users_mobile (mobile)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_departments (
    user_id       BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    is_manager    TINYINT(1) NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, department_id),
    KEY idx_user_departments_dept (department_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE roles (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    code        VARCHAR(32) NOT NULL,
    name        VARCHAR(50) NOT NULL,
    data_scope  VARCHAR(16) NOT NULL,
    permissions TEXT NOT NULL,
    builtin     TINYINT(1) NOT NULL DEFAULT 0,
    created_at  DATETIME(3) NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    UNIQUE KEY uq_roles_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL,
    role_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_id),
    KEY idx_user_roles_role (role_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    token_hash CHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    created_at DATETIME(3) NOT NULL,
    expires_at DATETIME(3) NOT NULL,
    ip         VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    KEY idx_sessions_user (user_id),
    KEY idx_sessions_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE customers (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
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
    next_follow_at DATETIME(3) NULL,
    last_follow_at DATETIME(3) NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME(3) NULL,
    deleted_by     BIGINT NULL,
    -- search_text is what keyword search matches: lower-cased name, company
    -- and phone digits joined by U+001F, compared byte for byte.
    search_text    VARCHAR(600) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    KEY idx_customers_owner (owner_id, deleted_at, updated_at),
    KEY idx_customers_dept (department_id, deleted_at, updated_at),
    KEY idx_customers_updated (deleted_at, updated_at),
    KEY idx_customers_next_follow (next_follow_at),
    KEY idx_customers_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- customer_grams is the search index: one row per distinct pair of adjacent
-- characters (a bigram, packed into an integer) of a customer's search_text.
CREATE TABLE customer_grams (
    gram        BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (gram, customer_id),
    KEY idx_customer_grams_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    at          DATETIME(3) NOT NULL,
    actor_id    BIGINT NOT NULL DEFAULT 0,
    actor_name  VARCHAR(100) NOT NULL DEFAULT '',
    action      VARCHAR(32) NOT NULL,
    entity      VARCHAR(32) NOT NULL,
    entity_id   BIGINT NOT NULL DEFAULT 0,
    entity_name VARCHAR(200) NOT NULL DEFAULT '',
    changes     MEDIUMTEXT NOT NULL,
    ip          VARCHAR(64) NOT NULL DEFAULT '',
    request_id  VARCHAR(64) NOT NULL DEFAULT '',
    KEY idx_audit_at (at),
    KEY idx_audit_entity (entity, entity_id),
    KEY idx_audit_actor (actor_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

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
