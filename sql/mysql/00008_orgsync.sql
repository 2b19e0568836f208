-- +goose Up
-- Organization sync with DingTalk (internal/orgsync).
--
-- People and departments get the DingTalk fields the CRM keeps: unionid
-- (to-dos and robot messages address people by it), avatar, job number,
-- hiring date, the main department (the first of DingTalk's dept_id_list:
-- where a leaver's customers are handed over) and the admin level (1 main,
-- 2 sub-admin, 0 none). roles_manual = 1 marks a person whose roles an admin
-- set by hand in the CRM: the sync's role mapping leaves them alone.
-- left_at: when DingTalk said the person left (the sync deactivated them and
-- hands their customers over); cleared if they come back. A person an admin
-- deactivated by hand has deactivated_at but no left_at, and the sync does
-- not reactivate them.
ALTER TABLE users
    ADD COLUMN unionid VARCHAR(64) NOT NULL DEFAULT '',
    ADD COLUMN avatar VARCHAR(500) NOT NULL DEFAULT '',
    ADD COLUMN job_number VARCHAR(64) NOT NULL DEFAULT '',
    ADD COLUMN hired_at DATETIME(3) NULL,
    ADD COLUMN main_department_id BIGINT NULL,
    ADD COLUMN admin_level TINYINT NOT NULL DEFAULT 0,
    ADD COLUMN roles_manual TINYINT(1) NOT NULL DEFAULT 0,
    ADD COLUMN left_at DATETIME(3) NULL,
    ADD KEY idx_users_unionid (unionid);

-- A department DingTalk no longer has keeps its row (records filed under it
-- still name it) with removed_at set, and leaves the tree.
ALTER TABLE departments ADD COLUMN removed_at DATETIME(3) NULL;

-- org_syncs is the history of full syncs. A running sync updates its row
-- (phase, done/total) as it goes, so any instance can show the progress; a
-- row left "running" with a stale updated_at lost its process.
CREATE TABLE org_syncs (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    origin      VARCHAR(16) NOT NULL,
    started_by  BIGINT NOT NULL DEFAULT 0,
    status      VARCHAR(16) NOT NULL,
    phase       VARCHAR(16) NOT NULL,
    done        INT NOT NULL DEFAULT 0,
    total       INT NOT NULL DEFAULT 0,
    calls       INT NOT NULL DEFAULT 0,
    -- summary: JSON of orgsync.Summary once finished.
    summary     MEDIUMTEXT NOT NULL,
    error       VARCHAR(500) NOT NULL DEFAULT '',
    started_at  DATETIME(3) NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    finished_at DATETIME(3) NULL,
    KEY idx_org_syncs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- org_events holds every contact event received, once per event id: the
-- callback stores it and answers at once; a worker applies it afterwards.
CREATE TABLE org_events (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    event_id    VARCHAR(64) NOT NULL,
    event_type  VARCHAR(32) NOT NULL,
    -- user_ids, dept_ids: JSON lists from the payload.
    user_ids    TEXT NOT NULL,
    dept_ids    TEXT NOT NULL,
    status      VARCHAR(16) NOT NULL,
    attempts    INT NOT NULL DEFAULT 0,
    error       VARCHAR(500) NOT NULL DEFAULT '',
    event_at    DATETIME(3) NULL,
    received_at DATETIME(3) NOT NULL,
    next_at     DATETIME(3) NOT NULL,
    applied_at  DATETIME(3) NULL,
    UNIQUE KEY uq_org_events_event (event_id),
    KEY idx_org_events_status (status, next_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- org_handoffs records each leaver's handover: mode says where their
-- customers went (manager, or pool: the public pool); to_user_id is the
-- manager who received records (the customers in manager mode, and the
-- open opportunities), 0 when no manager was found. notified_at stays NULL
-- until the notifications issue tells the new owner.
CREATE TABLE org_handoffs (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    leaver_id     BIGINT NOT NULL,
    to_user_id    BIGINT NOT NULL DEFAULT 0,
    mode          VARCHAR(16) NOT NULL,
    customers     INT NOT NULL DEFAULT 0,
    opportunities INT NOT NULL DEFAULT 0,
    created_at    DATETIME(3) NOT NULL,
    notified_at   DATETIME(3) NULL,
    KEY idx_org_handoffs_leaver (leaver_id),
    KEY idx_org_handoffs_to (to_user_id, created_at),
    KEY idx_org_handoffs_notify (notified_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE org_handoffs;
DROP TABLE org_events;
DROP TABLE org_syncs;
ALTER TABLE departments DROP COLUMN removed_at;
ALTER TABLE users
    DROP KEY idx_users_unionid,
    DROP COLUMN left_at,
    DROP COLUMN roles_manual,
    DROP COLUMN admin_level,
    DROP COLUMN main_department_id,
    DROP COLUMN hired_at,
    DROP COLUMN job_number,
    DROP COLUMN avatar,
    DROP COLUMN unionid;
