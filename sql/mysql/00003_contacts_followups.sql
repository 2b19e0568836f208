-- +goose Up
-- Contacts (联系人) and follow-up records (跟进记录) of customers.
--
-- Contacts carry no owner or department of their own: a contact is visible
-- exactly when its customer is, so lists join customers and filter by the
-- customer's owner and department (copies here would go stale when a
-- customer is handed to someone else). Follow-ups do carry owner_id and
-- department_id: the person who logged it and their main department, which
-- never change, so the author keeps seeing what they logged.

CREATE TABLE contacts (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    name        VARCHAR(100) NOT NULL,
    title       VARCHAR(100) NOT NULL DEFAULT '',
    -- phones is a JSON list of up to 5 normalized numbers.
    phones      VARCHAR(300) NOT NULL DEFAULT '[]',
    email       VARCHAR(200) NOT NULL DEFAULT '',
    wechat      VARCHAR(64) NOT NULL DEFAULT '',
    birthday    DATE NULL,
    notes       TEXT NOT NULL,
    is_primary  TINYINT(1) NOT NULL DEFAULT 0,
    created_by  BIGINT NOT NULL,
    created_at  DATETIME(3) NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    version     INT NOT NULL DEFAULT 1,
    deleted_at  DATETIME(3) NULL,
    deleted_by  BIGINT NULL,
    -- primary_of is the customer id for the live primary contact and NULL
    -- otherwise, so the unique key allows at most one primary per customer
    -- (MySQL has no partial indexes; several NULLs are allowed).
    primary_of  BIGINT GENERATED ALWAYS AS (CASE WHEN is_primary = 1 AND deleted_at IS NULL THEN customer_id END) STORED,
    UNIQUE KEY uq_contacts_primary (primary_of),
    KEY idx_contacts_customer (customer_id, deleted_at, is_primary)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE followups (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id    BIGINT NOT NULL,
    -- opportunity_id links to an opportunity when there is one (no foreign
    -- key: opportunities are their own module).
    opportunity_id BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    followed_at    DATETIME(3) NOT NULL,
    method         VARCHAR(16) NOT NULL,
    content        TEXT NOT NULL,
    result         VARCHAR(500) NOT NULL DEFAULT '',
    next_step      VARCHAR(500) NOT NULL DEFAULT '',
    next_follow_at DATETIME(3) NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME(3) NULL,
    deleted_by     BIGINT NULL,
    KEY idx_followups_customer (customer_id, deleted_at, followed_at),
    KEY idx_followups_owner (owner_id, followed_at),
    KEY idx_followups_dept (department_id, followed_at),
    KEY idx_followups_followed (followed_at),
    KEY idx_followups_opportunity (opportunity_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A customer is found by its contacts' names and phones too: search_extra
-- holds those fields (kept by the contact service), and search_text, which
-- now includes them, outgrows a VARCHAR(600). The defaults are expressions
-- because MySQL allows no literal default on TEXT (MySQL 8.0.13+, MariaDB
-- 10.2+).
ALTER TABLE customers
    MODIFY search_text MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT (''),
    ADD COLUMN search_extra MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT ('');

-- +goose Down
-- Drop the contacts' fields from search_text (their index rows stay until
-- the customer is next saved; the exact substring test ignores them).
UPDATE customers SET search_text = SUBSTRING_INDEX(search_text, CHAR(31 USING utf8mb4), 3);
ALTER TABLE customers
    DROP COLUMN search_extra,
    MODIFY search_text VARCHAR(600) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '';
DROP TABLE followups;
DROP TABLE contacts;
