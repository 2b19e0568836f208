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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL,
    name        VARCHAR(100) NOT NULL,
    title       VARCHAR(100) NOT NULL DEFAULT '',
    -- phones is a JSON list of up to 5 normalized numbers.
    phones      VARCHAR(300) NOT NULL DEFAULT '[]',
    email       VARCHAR(200) NOT NULL DEFAULT '',
    wechat      VARCHAR(64) NOT NULL DEFAULT '',
    birthday    DATE NULL,
    notes       TEXT NOT NULL,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    created_by  BIGINT NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    version     INT NOT NULL DEFAULT 1,
    deleted_at  DATETIME NULL,
    deleted_by  BIGINT NULL
);
-- At most one live primary contact per customer.
CREATE UNIQUE INDEX uq_contacts_primary ON contacts (customer_id) WHERE is_primary = 1 AND deleted_at IS NULL;
CREATE INDEX idx_contacts_customer ON contacts (customer_id, deleted_at, is_primary);

CREATE TABLE followups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id    BIGINT NOT NULL,
    -- opportunity_id links to an opportunity when there is one (no foreign
    -- key: opportunities are their own module).
    opportunity_id BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    followed_at    DATETIME NOT NULL,
    method         VARCHAR(16) NOT NULL,
    content        TEXT NOT NULL,
    result         VARCHAR(500) NOT NULL DEFAULT '',
    next_step      VARCHAR(500) NOT NULL DEFAULT '',
    next_follow_at DATETIME NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME NULL,
    deleted_by     BIGINT NULL
);
CREATE INDEX idx_followups_customer ON followups (customer_id, deleted_at, followed_at);
CREATE INDEX idx_followups_owner ON followups (owner_id, followed_at);
CREATE INDEX idx_followups_dept ON followups (department_id, followed_at);
CREATE INDEX idx_followups_followed ON followups (followed_at);
CREATE INDEX idx_followups_opportunity ON followups (opportunity_id);

-- A customer is found by its contacts' names and phones too: search_extra
-- holds those fields (kept by the contact service). SQLite does not enforce
-- VARCHAR lengths, so search_text needs no widening here.
ALTER TABLE customers ADD COLUMN search_extra TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Drop the contacts' fields from search_text (their index rows stay until
-- the customer is next saved; the exact substring test ignores them).
UPDATE customers SET search_text = substr(search_text, 1, length(search_text) - length(search_extra) - 1)
    WHERE search_extra <> '';
ALTER TABLE customers DROP COLUMN search_extra;
DROP TABLE followups;
DROP TABLE contacts;
