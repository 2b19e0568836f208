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

ALTER TABLE customers
    ADD COLUMN pool_entered_at DATETIME(3) NULL,
    ADD COLUMN pool_cause      VARCHAR(16) NOT NULL DEFAULT '',
    ADD COLUMN pool_reason     VARCHAR(200) NOT NULL DEFAULT '',
    ADD COLUMN former_owner_id BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN owner_since     DATETIME(3) NULL,
    ADD COLUMN merged_into     BIGINT NULL,
    ADD COLUMN phone_key       VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    ADD COLUMN name_key        VARCHAR(210) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;

-- Keys for the customers that exist already. Stored phones are canonical
-- (digits and dashes), so dropping separators leaves the digits. The name
-- key expression mirrors customer.keyText: spaces (ASCII, ideographic, tab,
-- newline) removed, each full-width ASCII variant U+FF01..U+FF5E replaced by
-- its ASCII letter, then lower-cased. (Generated; other rare Unicode spaces
-- in old rows are normalized when the row is next edited.)
UPDATE customers SET phone_key = NULLIF(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), '')
WHERE deleted_at IS NULL;
UPDATE customers SET name_key = CONCAT(LOWER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(name, ' ', ''), '　', ''), '\t', ''), '\n', ''), '\r', ''), '！', '!'), '＂', '"'), '＃', '#'), '＄', '$'), '％', '%'), '＆', '&'), '＇', ''''), '（', '('), '）', ')'), '＊', '*'), '＋', '+'), '，', ','), '－', '-'), '．', '.'), '／', '/'), '０', '0'), '１', '1'), '２', '2'), '３', '3'), '４', '4'), '５', '5'), '６', '6'), '７', '7'), '８', '8'), '９', '9'), '：', ':'), '；', ';'), '＜', '<'), '＝', '='), '＞', '>'), '？', '?'), '＠', '@'), 'Ａ', 'A'), 'Ｂ', 'B'), 'Ｃ', 'C'), 'Ｄ', 'D'), 'Ｅ', 'E'), 'Ｆ', 'F'), 'Ｇ', 'G'), 'Ｈ', 'H'), 'Ｉ', 'I'), 'Ｊ', 'J'), 'Ｋ', 'K'), 'Ｌ', 'L'), 'Ｍ', 'M'), 'Ｎ', 'N'), 'Ｏ', 'O'), 'Ｐ', 'P'), 'Ｑ', 'Q'), 'Ｒ', 'R'), 'Ｓ', 'S'), 'Ｔ', 'T'), 'Ｕ', 'U'), 'Ｖ', 'V'), 'Ｗ', 'W'), 'Ｘ', 'X'), 'Ｙ', 'Y'), 'Ｚ', 'Z'), '［', '['), '＼', '\\'), '］', ']'), '＾', '^'), '＿', '_'), '｀', '`'), 'ａ', 'a'), 'ｂ', 'b'), 'ｃ', 'c'), 'ｄ', 'd'), 'ｅ', 'e'), 'ｆ', 'f'), 'ｇ', 'g'), 'ｈ', 'h'), 'ｉ', 'i'), 'ｊ', 'j'), 'ｋ', 'k'), 'ｌ', 'l'), 'ｍ', 'm'), 'ｎ', 'n'), 'ｏ', 'o'), 'ｐ', 'p'), 'ｑ', 'q'), 'ｒ', 'r'), 'ｓ', 's'), 'ｔ', 't'), 'ｕ', 'u'), 'ｖ', 'v'), 'ｗ', 'w'), 'ｘ', 'x'), 'ｙ', 'y'), 'ｚ', 'z'), '｛', '{'), '｜', '|'), '｝', '}'), '～', '~')), CHAR(31 USING utf8mb4), LOWER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(company, ' ', ''), '　', ''), '\t', ''), '\n', ''), '\r', ''), '！', '!'), '＂', '"'), '＃', '#'), '＄', '$'), '％', '%'), '＆', '&'), '＇', ''''), '（', '('), '）', ')'), '＊', '*'), '＋', '+'), '，', ','), '－', '-'), '．', '.'), '／', '/'), '０', '0'), '１', '1'), '２', '2'), '３', '3'), '４', '4'), '５', '5'), '６', '6'), '７', '7'), '８', '8'), '９', '9'), '：', ':'), '；', ';'), '＜', '<'), '＝', '='), '＞', '>'), '？', '?'), '＠', '@'), 'Ａ', 'A'), 'Ｂ', 'B'), 'Ｃ', 'C'), 'Ｄ', 'D'), 'Ｅ', 'E'), 'Ｆ', 'F'), 'Ｇ', 'G'), 'Ｈ', 'H'), 'Ｉ', 'I'), 'Ｊ', 'J'), 'Ｋ', 'K'), 'Ｌ', 'L'), 'Ｍ', 'M'), 'Ｎ', 'N'), 'Ｏ', 'O'), 'Ｐ', 'P'), 'Ｑ', 'Q'), 'Ｒ', 'R'), 'Ｓ', 'S'), 'Ｔ', 'T'), 'Ｕ', 'U'), 'Ｖ', 'V'), 'Ｗ', 'W'), 'Ｘ', 'X'), 'Ｙ', 'Y'), 'Ｚ', 'Z'), '［', '['), '＼', '\\'), '］', ']'), '＾', '^'), '＿', '_'), '｀', '`'), 'ａ', 'a'), 'ｂ', 'b'), 'ｃ', 'c'), 'ｄ', 'd'), 'ｅ', 'e'), 'ｆ', 'f'), 'ｇ', 'g'), 'ｈ', 'h'), 'ｉ', 'i'), 'ｊ', 'j'), 'ｋ', 'k'), 'ｌ', 'l'), 'ｍ', 'm'), 'ｎ', 'n'), 'ｏ', 'o'), 'ｐ', 'p'), 'ｑ', 'q'), 'ｒ', 'r'), 'ｓ', 's'), 'ｔ', 't'), 'ｕ', 'u'), 'ｖ', 'v'), 'ｗ', 'w'), 'ｘ', 'x'), 'ｙ', 'y'), 'ｚ', 'z'), '｛', '{'), '｜', '|'), '｝', '}'), '～', '~')))
WHERE deleted_at IS NULL;
-- No key when the name or the company is empty (see customer.NameKey).
UPDATE customers SET name_key = NULL
WHERE ORD(name_key) = 31 OR ORD(RIGHT(name_key, 1)) = 31;

-- Duplicates that exist already must not stop the migration: the oldest
-- customer (lowest id) keeps each key and the later ones get NULL. They stay
-- as they are until someone merges them or edits their phone, name or
-- company (an edit of other fields is not refused; see Service.rekey).
UPDATE customers c
JOIN (SELECT phone_key, MIN(id) AS keep FROM customers WHERE phone_key IS NOT NULL
      GROUP BY phone_key HAVING COUNT(*) > 1) d ON d.phone_key = c.phone_key AND c.id <> d.keep
SET c.phone_key = NULL;
UPDATE customers c
JOIN (SELECT name_key, MIN(id) AS keep FROM customers WHERE name_key IS NOT NULL
      GROUP BY name_key HAVING COUNT(*) > 1) d ON d.name_key = c.name_key AND c.id <> d.keep
SET c.name_key = NULL;

CREATE UNIQUE INDEX uq_customers_phone_key ON customers (phone_key);
CREATE UNIQUE INDEX uq_customers_name_key ON customers (name_key);

-- The pool's rules: one row, edited through PUT /api/v1/pool/rules. Days of
-- 0 switch a rule off; max_owned 0 means no cap. no_follow_days maps a
-- customer level to its days ({"a": 30, …}); levels not in it use
-- no_follow_days_default.
CREATE TABLE pool_rules (
    id                     BIGINT AUTO_INCREMENT PRIMARY KEY,
    max_owned              INT NOT NULL,
    claim_cooldown_days    INT NOT NULL,
    warn_days              INT NOT NULL,
    no_follow_days         VARCHAR(1000) NOT NULL,
    no_follow_days_default INT NOT NULL,
    no_deal_days           INT NOT NULL,
    reclaim_enabled        TINYINT(1) NOT NULL,
    updated_by             BIGINT NOT NULL DEFAULT 0,
    updated_at             DATETIME(3) NOT NULL,
    version                INT NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO pool_rules (max_owned, claim_cooldown_days, warn_days, no_follow_days, no_follow_days_default,
    no_deal_days, reclaim_enabled, updated_by, updated_at, version)
VALUES (200, 7, 3, '{"a":30,"b":20,"c":15,"d":10}', 15, 90, 1, 0, UTC_TIMESTAMP(3), 1);

-- A warning that a customer will return to the pool: one per owner and due
-- date (a cycle), so the reclaim job warns once however often it runs; a
-- follow-up or a new owner starts a new cycle. notified_at is for the
-- notifications issue.
CREATE TABLE pool_warnings (
    id            BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id   BIGINT NOT NULL,
    owner_id      BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    rule          VARCHAR(16) NOT NULL,
    due_at        DATETIME(3) NOT NULL,
    warned_at     DATETIME(3) NOT NULL,
    notified_at   DATETIME(3) NULL,
    UNIQUE KEY uq_pool_warnings_cycle (customer_id, owner_id, due_at),
    KEY idx_pool_warnings_owner (owner_id, warned_at),
    KEY idx_pool_warnings_notify (notified_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE pool_warnings;
DROP TABLE pool_rules;
DROP INDEX uq_customers_name_key ON customers;
DROP INDEX uq_customers_phone_key ON customers;
ALTER TABLE customers
    DROP COLUMN name_key,
    DROP COLUMN phone_key,
    DROP COLUMN merged_into,
    DROP COLUMN owner_since,
    DROP COLUMN former_owner_id,
    DROP COLUMN pool_reason,
    DROP COLUMN pool_cause,
    DROP COLUMN pool_entered_at;
