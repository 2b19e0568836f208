-- +goose Up
-- Organization sync with DingTalk (internal/orgsync).
--
-- People and departments get the DingTalk fields the CRM keeps: unionid
-- (to-dos and robot messages address people by it), avatar, job number,
-- hiring date, the main department (the first of DingTalk's dept_id_list:
-- where a leaver's customers are handed over) and the admin level (1 main,
-- 2 sub-admin, 0 none). roles_manual = 1 marks a person whose roles an admin
-- set by hand in the CRM: the sync's role mapping leaves them alone.
ALTER TABLE users ADD COLUMN unionid VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN avatar VARCHAR(500) NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN job_number VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN hired_at DATETIME NULL;
ALTER TABLE users ADD COLUMN main_department_id BIGINT NULL;
ALTER TABLE users ADD COLUMN admin_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN roles_manual INTEGER NOT NULL DEFAULT 0;
-- left_at: when DingTalk said the person left (the sync deactivated them and
-- hands their customers over); cleared if they come back. A person an admin
-- deactivated by hand has deactivated_at but no left_at, and the sync does
-- not reactivate them.
ALTER TABLE users ADD COLUMN left_at DATETIME NULL;
CREATE INDEX idx_users_unionid ON users (unionid);

-- A department DingTalk no longer has keeps its row (records filed under it
-- still name it) with removed_at set, and leaves the tree.
ALTER TABLE departments ADD COLUMN removed_at DATETIME NULL;

-- org_syncs is the history of full syncs. A running sync updates its row
-- (phase, done/total) as it goes, so any instance can show the progress; a
-- row left "running" with a stale updated_at lost its process.
CREATE TABLE org_syncs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      VARCHAR(16) NOT NULL,
    started_by  BIGINT NOT NULL DEFAULT 0,
    status      VARCHAR(16) NOT NULL,
    phase       VARCHAR(16) NOT NULL,
    done        INT NOT NULL DEFAULT 0,
    total       INT NOT NULL DEFAULT 0,
    calls       INT NOT NULL DEFAULT 0,
    -- summary: JSON of orgsync.Summary once finished.
    summary     TEXT NOT NULL,
    error       VARCHAR(500) NOT NULL DEFAULT '',
    started_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    finished_at DATETIME NULL
);
CREATE INDEX idx_org_syncs_started ON org_syncs (started_at);

-- org_events holds every contact event received, once per event id: the
-- callback stores it and answers at once; a worker applies it afterwards.
CREATE TABLE org_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    VARCHAR(64) NOT NULL,
    event_type  VARCHAR(32) NOT NULL,
    -- user_ids, dept_ids: JSON lists from the payload.
    user_ids    TEXT NOT NULL,
    dept_ids    TEXT NOT NULL,
    status      VARCHAR(16) NOT NULL,
    attempts    INT NOT NULL DEFAULT 0,
    error       VARCHAR(500) NOT NULL DEFAULT '',
    event_at    DATETIME NULL,
    received_at DATETIME NOT NULL,
    next_at     DATETIME NOT NULL,
    applied_at  DATETIME NULL
);
CREATE UNIQUE INDEX uq_org_events_event ON org_events (event_id);
CREATE INDEX idx_org_events_status ON org_events (status, next_at);

-- org_handoffs records each leaver's handover: mode says where their
-- customers went (manager, or pool: the public pool); to_user_id is the
-- manager who received records (the customers in manager mode, and the
-- open opportunities), 0 when no manager was found. notified_at stays NULL
-- until the notifications issue tells the new owner.
CREATE TABLE org_handoffs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    leaver_id     BIGINT NOT NULL,
    to_user_id    BIGINT NOT NULL DEFAULT 0,
    mode          VARCHAR(16) NOT NULL,
    customers     INT NOT NULL DEFAULT 0,
    opportunities INT NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL,
    notified_at   DATETIME NULL
);
CREATE INDEX idx_org_handoffs_leaver ON org_handoffs (leaver_id);
CREATE INDEX idx_org_handoffs_to ON org_handoffs (to_user_id, created_at);
CREATE INDEX idx_org_handoffs_notify ON org_handoffs (notified_at);

-- +goose Down
DROP TABLE org_handoffs;
DROP TABLE org_events;
DROP TABLE org_syncs;
ALTER TABLE departments DROP COLUMN removed_at;
DROP INDEX idx_users_unionid;
ALTER TABLE users DROP COLUMN left_at;
ALTER TABLE users DROP COLUMN roles_manual;
ALTER TABLE users DROP COLUMN admin_level;
ALTER TABLE users DROP COLUMN main_department_id;
ALTER TABLE users DROP COLUMN hired_at;
ALTER TABLE users DROP COLUMN job_number;
ALTER TABLE users DROP COLUMN avatar;
ALTER TABLE users DROP COLUMN unionid;
