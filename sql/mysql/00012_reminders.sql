-- +goose Up
-- Reminders (internal/reminder) and the notification outbox (internal/outbox).
--
-- A reminder is on a customer (and optionally one of its opportunities), for
-- one or more recipients. followup_key is the customer id while the reminder
-- is the live one created from a follow-up's next follow-up time, NULL
-- otherwise: at most one such reminder per customer (NULLs do not collide).
CREATE TABLE reminders (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id    BIGINT NOT NULL,
    opportunity_id BIGINT NULL,
    remind_at      DATETIME(3) NOT NULL,
    content        VARCHAR(500) NOT NULL,
    repeat_rule    VARCHAR(8) NOT NULL DEFAULT 'none',
    status         VARCHAR(16) NOT NULL DEFAULT 'pending',
    source         VARCHAR(16) NOT NULL DEFAULT 'manual',
    followup_key   BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    rolled         TINYINT(1) NOT NULL DEFAULT 0,
    previous_id    BIGINT NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    done_at        DATETIME(3) NULL,
    version        INT NOT NULL DEFAULT 1,
    UNIQUE KEY uq_reminders_followup (followup_key),
    KEY idx_reminders_due (status, remind_at),
    KEY idx_reminders_customer (customer_id, status),
    KEY idx_reminders_owner (owner_id, department_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reminder_recipients (
    reminder_id BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    PRIMARY KEY (reminder_id, user_id),
    KEY idx_reminder_recipients_user (user_id, reminder_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- outbox_messages are notifications written in the transaction of the change
-- that causes them. The dispatcher groups a person's due messages into an
-- outbox_batch (batch_id set, status batched): one DingTalk work notification
-- and one entry of the in-app inbox.
CREATE TABLE outbox_messages (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    kind        VARCHAR(32) NOT NULL,
    title       VARCHAR(200) NOT NULL,
    body        TEXT NOT NULL,
    url         VARCHAR(500) NOT NULL DEFAULT '',
    customer_id BIGINT NOT NULL DEFAULT 0,
    dedup_key   VARCHAR(191) NOT NULL,
    due_at      DATETIME(3) NOT NULL,
    status      VARCHAR(16) NOT NULL DEFAULT 'pending',
    batch_id    BIGINT NULL,
    created_at  DATETIME(3) NOT NULL,
    UNIQUE KEY uq_outbox_messages_dedup (dedup_key),
    KEY idx_outbox_messages_due (status, due_at),
    KEY idx_outbox_messages_user (user_id, status, due_at),
    KEY idx_outbox_messages_batch (batch_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- outbox_batches: what one person receives at once, rendered when the batch
-- is formed (msg is the exact DingTalk msg object, with the batch's reference
-- in it), so every resend is byte-identical. lease_owner/lease_until let
-- several dispatchers share the work; status: pending → sent → delivered |
-- read | failed; inbox = kept in the in-app inbox only (no DingTalk, or the
-- monthly quota ran low).
CREATE TABLE outbox_batches (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
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
    next_at       DATETIME(3) NOT NULL,
    lease_owner   VARCHAR(64) NULL,
    lease_until   DATETIME(3) NULL,
    task_id       BIGINT NOT NULL DEFAULT 0,
    reason        VARCHAR(255) NOT NULL DEFAULT '',
    created_at    DATETIME(3) NOT NULL,
    sent_at       DATETIME(3) NULL,
    checked_at    DATETIME(3) NULL,
    read_at       DATETIME(3) NULL,
    KEY idx_outbox_batches_due (status, next_at),
    KEY idx_outbox_batches_user (user_id, id),
    KEY idx_outbox_batches_lease (lease_owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE outbox_batches;
DROP TABLE outbox_messages;
DROP TABLE reminder_recipients;
DROP TABLE reminders;
