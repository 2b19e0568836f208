-- +goose Up
-- Each search-index row carries what a search needs to answer without
-- reading the customer rows (customer/posting.go): field_text (the
-- customer's search-text fields that hold the gram), updated_at (the
-- customer's, for the default sort) and live (0 in the recycle bin).
-- owner_id, updated_at and live follow the customer row through the
-- trigger below. The index is rebuilt from scratch through the index queue
-- (see the MySQL migration).
DROP TABLE customer_grams;
CREATE TABLE customer_grams (
    gram        BIGINT NOT NULL,
    owner_id    BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    field_text  TEXT NOT NULL,
    updated_at  DATETIME NOT NULL,
    live        INTEGER NOT NULL,
    PRIMARY KEY (gram, owner_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX idx_customer_grams_customer ON customer_grams (customer_id);

INSERT OR IGNORE INTO customer_index_queue (customer_id) SELECT id FROM customers;

-- +goose StatementBegin
CREATE TRIGGER trg_customer_grams_sync AFTER UPDATE ON customers FOR EACH ROW
WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.updated_at IS NOT NEW.updated_at
    OR (OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL)
BEGIN
    UPDATE customer_grams SET owner_id = NEW.owner_id, updated_at = NEW.updated_at,
        live = (NEW.deleted_at IS NULL)
    WHERE customer_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER trg_customer_grams_sync;
ALTER TABLE customer_grams DROP COLUMN field_text;
ALTER TABLE customer_grams DROP COLUMN updated_at;
ALTER TABLE customer_grams DROP COLUMN live;
