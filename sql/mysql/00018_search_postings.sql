-- +goose Up
-- Each search-index row carries what a search needs to answer without
-- reading the customer rows (customer/posting.go):
--   field_text  the customer's search-text fields that hold the gram, so
--               the exact substring test runs on the index row itself;
--   updated_at  the customer's, so a page sorted by it (the default) is
--               ordered from the index;
--   live        0 while the customer is in the recycle bin.
-- owner_id, updated_at and live follow the customer row through the
-- trigger below, whatever code path writes it. The index is rebuilt from
-- scratch: every customer goes on the index queue, which search reads
-- directly until the background indexer (customer.Store.IndexPending) has
-- written its rows again.
DROP TABLE customer_grams;
CREATE TABLE customer_grams (
    gram        BIGINT NOT NULL,
    owner_id    BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    field_text  TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    live        TINYINT NOT NULL,
    PRIMARY KEY (gram, owner_id, customer_id),
    KEY idx_customer_grams_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO customer_index_queue (customer_id) SELECT id FROM customers;

-- +goose StatementBegin
CREATE TRIGGER trg_customer_grams_sync AFTER UPDATE ON customers FOR EACH ROW
BEGIN
    IF NOT (OLD.owner_id <=> NEW.owner_id) OR NOT (OLD.updated_at <=> NEW.updated_at)
        OR NOT (OLD.deleted_at IS NULL <=> NEW.deleted_at IS NULL) THEN
        UPDATE customer_grams SET owner_id = NEW.owner_id, updated_at = NEW.updated_at,
            live = (NEW.deleted_at IS NULL)
        WHERE customer_id = NEW.id;
    END IF;
END
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER trg_customer_grams_sync;
ALTER TABLE customer_grams DROP COLUMN field_text, DROP COLUMN updated_at, DROP COLUMN live;
