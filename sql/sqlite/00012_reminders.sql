-- +goose Up
-- Reminders and the notification outbox: see sql/mysql/00012_reminders.sql.
CREATE TABLE reminders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id    BIGINT NOT NULL,
    opportunity_id BIGINT NULL,
    remind_at      DATETIME NOT NULL,
    content        VARCHAR(500) NOT NULL,
    repeat_rule    VARCHAR(8) NOT NULL DEFAULT 'none',
    status         VARCHAR(16) NOT NULL DEFAULT 'pending',
    source         VARCHAR(16) NOT NULL DEFAULT 'manual',
    followup_key   BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    rolled         INTEGER NOT NULL DEFAULT 0,
    previous_id    BIGINT NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    done_at        DATETIME NULL,
    version        INT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX uq_reminders_followup ON reminders (followup_key);
CREATE INDEX idx_reminders_due ON reminders (status, remind_at);
CREATE INDEX idx_reminders_customer ON reminders (customer_id, status);
CREATE INDEX idx_reminders_owner ON reminders (owner_id, department_id);

CREATE TABLE reminder_recipients (
    reminder_id BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    PRIMARY KEY (reminder_id, user_id)
);
CREATE INDEX idx_reminder_recipients_user ON reminder_recipients (user_id, reminder_id);

CREATE TABLE outbox_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL,
    kind        VARCHAR(32) NOT NULL,
    title       VARCHAR(200) NOT NULL,
    body        TEXT NOT NULL,
    url         VARCHAR(500) NOT NULL DEFAULT '',
    customer_id BIGINT NOT NULL DEFAULT 0,
    dedup_key   VARCHAR(191) NOT NULL,
    due_at      DATETIME NOT NULL,
    status      VARCHAR(16) NOT NULL DEFAULT 'pending',
    batch_id    BIGINT NULL,
    created_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX uq_outbox_messages_dedup ON outbox_messages (dedup_key);
CREATE INDEX idx_outbox_messages_due ON outbox_messages (status, due_at);
CREATE INDEX idx_outbox_messages_user ON outbox_messages (user_id, status, due_at);
CREATE INDEX idx_outbox_messages_batch ON outbox_messages (batch_id);

CREATE TABLE outbox_batches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT NOT NULL,
    kind          VARCHAR(32) NOT NULL,
    title         VARCHAR(200) NOT NULL,
    body          TEXT NOT NULL,
    url           VARCHAR(500) NOT NULL DEFAULT '',
    customer_id   BIGINT NOT NULL DEFAULT 0,
    items         INT NOT NULL DEFAULT 1,
    msg           TEXT NOT NULL,
    status        VARCHAR(16) NOT NULL DEFAULT 'pending',
    attempts      INT NOT NULL DEFAULT 0,
    next_at       DATETIME NOT NULL,
    lease_owner   VARCHAR(64) NULL,
    lease_until   DATETIME NULL,
    task_id       BIGINT NOT NULL DEFAULT 0,
    reason        VARCHAR(255) NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    sent_at       DATETIME NULL,
    checked_at    DATETIME NULL,
    read_at       DATETIME NULL
);
CREATE INDEX idx_outbox_batches_due ON outbox_batches (status, next_at);
CREATE INDEX idx_outbox_batches_user ON outbox_batches (user_id, id);
CREATE INDEX idx_outbox_batches_lease ON outbox_batches (lease_owner);

-- +goose Down
DROP TABLE outbox_batches;
DROP TABLE outbox_messages;
DROP TABLE reminder_recipients;
DROP TABLE reminders;
