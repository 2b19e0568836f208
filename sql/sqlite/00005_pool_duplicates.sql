-- +goose Up
-- The public pool (公海) and duplicate detection (查重); see docs/api-pool.md.
--
-- A customer in the pool is a live customer with owner_id = 0 and
-- department_id = 0; pool_entered_at says since when, pool_cause why
-- (release | no_follow | no_deal), pool_reason the releaser's words and
-- former_owner_id who had it (for the re-claim cooldown). owner_since is when
-- the current owner got the customer (NULL: since it was created); the
-- reclaim rules count from it. merged_into marks a customer merged into
-- another (it then sits in the recycle bin).
--
-- phone_key and name_key are the duplicate keys (customer.PhoneKey and
-- customer.NameKey): NULL when there is nothing to compare and for customers
-- in the recycle bin, so the UNIQUE indexes hold among live customers only.

ALTER TABLE customers ADD COLUMN pool_entered_at DATETIME NULL;
ALTER TABLE customers ADD COLUMN pool_cause VARCHAR(16) NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN pool_reason VARCHAR(200) NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN former_owner_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN owner_since DATETIME NULL;
ALTER TABLE customers ADD COLUMN merged_into BIGINT NULL;
ALTER TABLE customers ADD COLUMN phone_key VARCHAR(20) NULL;
ALTER TABLE customers ADD COLUMN name_key VARCHAR(210) NULL;

-- Keys for the customers that exist already. Stored phones are canonical
-- (digits and dashes), so dropping separators leaves the digits. The name
-- key expression mirrors customer.keyText: spaces (ASCII, ideographic, tab,
-- newline) removed, each full-width ASCII variant U+FF01..U+FF5E replaced by
-- its ASCII letter, then lower-cased. (Generated; SQLite lower-cases ASCII
-- only, and other rare Unicode spaces are kept: such old rows get the exact
-- key when they are next edited.)
UPDATE customers SET phone_key = NULLIF(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), '')
WHERE deleted_at IS NULL;
UPDATE customers SET name_key = LOWER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(name, ' ', ''), '　', ''), char(9), ''), char(10), ''), char(13), ''), '！', '!'), '＂', '"'), '＃', '#'), '＄', '$'), '％', '%'), '＆', '&'), '＇', ''''), '（', '('), '）', ')'), '＊', '*'), '＋', '+'), '，', ','), '－', '-'), '．', '.'), '／', '/'), '０', '0'), '１', '1'), '２', '2'), '３', '3'), '４', '4'), '５', '5'), '６', '6'), '７', '7'), '８', '8'), '９', '9'), '：', ':'), '；', ';'), '＜', '<'), '＝', '='), '＞', '>'), '？', '?'), '＠', '@'), 'Ａ', 'A'), 'Ｂ', 'B'), 'Ｃ', 'C'), 'Ｄ', 'D'), 'Ｅ', 'E'), 'Ｆ', 'F'), 'Ｇ', 'G'), 'Ｈ', 'H'), 'Ｉ', 'I'), 'Ｊ', 'J'), 'Ｋ', 'K'), 'Ｌ', 'L'), 'Ｍ', 'M'), 'Ｎ', 'N'), 'Ｏ', 'O'), 'Ｐ', 'P'), 'Ｑ', 'Q'), 'Ｒ', 'R'), 'Ｓ', 'S'), 'Ｔ', 'T'), 'Ｕ', 'U'), 'Ｖ', 'V'), 'Ｗ', 'W'), 'Ｘ', 'X'), 'Ｙ', 'Y'), 'Ｚ', 'Z'), '［', '['), '＼', '\'), '］', ']'), '＾', '^'), '＿', '_'), '｀', '`'), 'ａ', 'a'), 'ｂ', 'b'), 'ｃ', 'c'), 'ｄ', 'd'), 'ｅ', 'e'), 'ｆ', 'f'), 'ｇ', 'g'), 'ｈ', 'h'), 'ｉ', 'i'), 'ｊ', 'j'), 'ｋ', 'k'), 'ｌ', 'l'), 'ｍ', 'm'), 'ｎ', 'n'), 'ｏ', 'o'), 'ｐ', 'p'), 'ｑ', 'q'), 'ｒ', 'r'), 'ｓ', 's'), 'ｔ', 't'), 'ｕ', 'u'), 'ｖ', 'v'), 'ｗ', 'w'), 'ｘ', 'x'), 'ｙ', 'y'), 'ｚ', 'z'), '｛', '{'), '｜', '|'), '｝', '}'), '～', '~')) || char(31) || LOWER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(company, ' ', ''), '　', ''), char(9), ''), char(10), ''), char(13), ''), '！', '!'), '＂', '"'), '＃', '#'), '＄', '$'), '％', '%'), '＆', '&'), '＇', ''''), '（', '('), '）', ')'), '＊', '*'), '＋', '+'), '，', ','), '－', '-'), '．', '.'), '／', '/'), '０', '0'), '１', '1'), '２', '2'), '３', '3'), '４', '4'), '５', '5'), '６', '6'), '７', '7'), '８', '8'), '９', '9'), '：', ':'), '；', ';'), '＜', '<'), '＝', '='), '＞', '>'), '？', '?'), '＠', '@'), 'Ａ', 'A'), 'Ｂ', 'B'), 'Ｃ', 'C'), 'Ｄ', 'D'), 'Ｅ', 'E'), 'Ｆ', 'F'), 'Ｇ', 'G'), 'Ｈ', 'H'), 'Ｉ', 'I'), 'Ｊ', 'J'), 'Ｋ', 'K'), 'Ｌ', 'L'), 'Ｍ', 'M'), 'Ｎ', 'N'), 'Ｏ', 'O'), 'Ｐ', 'P'), 'Ｑ', 'Q'), 'Ｒ', 'R'), 'Ｓ', 'S'), 'Ｔ', 'T'), 'Ｕ', 'U'), 'Ｖ', 'V'), 'Ｗ', 'W'), 'Ｘ', 'X'), 'Ｙ', 'Y'), 'Ｚ', 'Z'), '［', '['), '＼', '\'), '］', ']'), '＾', '^'), '＿', '_'), '｀', '`'), 'ａ', 'a'), 'ｂ', 'b'), 'ｃ', 'c'), 'ｄ', 'd'), 'ｅ', 'e'), 'ｆ', 'f'), 'ｇ', 'g'), 'ｈ', 'h'), 'ｉ', 'i'), 'ｊ', 'j'), 'ｋ', 'k'), 'ｌ', 'l'), 'ｍ', 'm'), 'ｎ', 'n'), 'ｏ', 'o'), 'ｐ', 'p'), 'ｑ', 'q'), 'ｒ', 'r'), 'ｓ', 's'), 'ｔ', 't'), 'ｕ', 'u'), 'ｖ', 'v'), 'ｗ', 'w'), 'ｘ', 'x'), 'ｙ', 'y'), 'ｚ', 'z'), '｛', '{'), '｜', '|'), '｝', '}'), '～', '~'))
WHERE deleted_at IS NULL;
-- No key when the name or the company is empty (see customer.NameKey).
UPDATE customers SET name_key = NULL
WHERE substr(name_key, 1, 1) = char(31) OR substr(name_key, -1, 1) = char(31);

-- Duplicates that exist already must not stop the migration: the oldest
-- customer (lowest id) keeps each key and the later ones get NULL. They stay
-- as they are until someone merges them or edits their phone, name or
-- company (an edit of other fields is not refused; see Service.rekey).
UPDATE customers SET phone_key = NULL
WHERE phone_key IS NOT NULL AND id NOT IN (SELECT MIN(id) FROM customers WHERE phone_key IS NOT NULL GROUP BY phone_key);
UPDATE customers SET name_key = NULL
WHERE name_key IS NOT NULL AND id NOT IN (SELECT MIN(id) FROM customers WHERE name_key IS NOT NULL GROUP BY name_key);

CREATE UNIQUE INDEX uq_customers_phone_key ON customers (phone_key);
CREATE UNIQUE INDEX uq_customers_name_key ON customers (name_key);

-- The pool's rules: one row, edited through PUT /api/v1/pool/rules. Days of
-- 0 switch a rule off; max_owned 0 means no cap. no_follow_days maps a
-- customer level to its days ({"a": 30, …}); levels not in it use
-- no_follow_days_default.
CREATE TABLE pool_rules (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    max_owned              INT NOT NULL,
    claim_cooldown_days    INT NOT NULL,
    warn_days              INT NOT NULL,
    no_follow_days         VARCHAR(1000) NOT NULL,
    no_follow_days_default INT NOT NULL,
    no_deal_days           INT NOT NULL,
    reclaim_enabled        INTEGER NOT NULL,
    updated_by             BIGINT NOT NULL DEFAULT 0,
    updated_at             DATETIME NOT NULL,
    version                INT NOT NULL DEFAULT 1
);

INSERT INTO pool_rules (max_owned, claim_cooldown_days, warn_days, no_follow_days, no_follow_days_default,
    no_deal_days, reclaim_enabled, updated_by, updated_at, version)
VALUES (200, 7, 3, '{"a":30,"b":20,"c":15,"d":10}', 15, 90, 1, 0, CURRENT_TIMESTAMP, 1);

-- A warning that a customer will return to the pool: one per owner and due
-- date (a cycle), so the reclaim job warns once however often it runs; a
-- follow-up or a new owner starts a new cycle. notified_at is for the
-- notifications issue.
CREATE TABLE pool_warnings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id   BIGINT NOT NULL,
    owner_id      BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    rule          VARCHAR(16) NOT NULL,
    due_at        DATETIME NOT NULL,
    warned_at     DATETIME NOT NULL,
    notified_at   DATETIME NULL
);
CREATE UNIQUE INDEX uq_pool_warnings_cycle ON pool_warnings (customer_id, owner_id, due_at);
CREATE INDEX idx_pool_warnings_owner ON pool_warnings (owner_id, warned_at);
CREATE INDEX idx_pool_warnings_notify ON pool_warnings (notified_at);

-- +goose Down
DROP TABLE pool_warnings;
DROP TABLE pool_rules;
DROP INDEX uq_customers_name_key;
DROP INDEX uq_customers_phone_key;
ALTER TABLE customers DROP COLUMN name_key;
ALTER TABLE customers DROP COLUMN phone_key;
ALTER TABLE customers DROP COLUMN merged_into;
ALTER TABLE customers DROP COLUMN owner_since;
ALTER TABLE customers DROP COLUMN former_owner_id;
ALTER TABLE customers DROP COLUMN pool_reason;
ALTER TABLE customers DROP COLUMN pool_cause;
ALTER TABLE customers DROP COLUMN pool_entered_at;
