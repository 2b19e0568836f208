-- +goose Up
-- The search index carries each customer's owner, keyed (gram, owner_id,
-- customer_id): a salesperson's search reads only their own index rows.
-- Every change of a customer's owner rewrites its rows
-- (customer.Store.SyncGramOwners) in the same transaction.
CREATE TABLE customer_grams_new (
    gram        BIGINT NOT NULL,
    owner_id    BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (gram, owner_id, customer_id)
) WITHOUT ROWID;

INSERT INTO customer_grams_new (gram, owner_id, customer_id)
SELECT g.gram, c.owner_id, g.customer_id
FROM customer_grams g JOIN customers c ON c.id = g.customer_id;

DROP TABLE customer_grams;
ALTER TABLE customer_grams_new RENAME TO customer_grams;
CREATE INDEX idx_customer_grams_customer ON customer_grams (customer_id);

-- customers written in bulk (the Excel import) whose index rows are not
-- written yet: search tests these rows' search_text directly until the
-- indexer (customer.Store.IndexPending) has written them.
CREATE TABLE customer_index_queue (
    customer_id BIGINT NOT NULL PRIMARY KEY
);

-- +goose Down
DROP TABLE customer_index_queue;
CREATE TABLE customer_grams_old (
    gram        BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;
INSERT INTO customer_grams_old (gram, customer_id) SELECT gram, customer_id FROM customer_grams;
DROP TABLE customer_grams;
ALTER TABLE customer_grams_old RENAME TO customer_grams;
CREATE INDEX idx_customer_grams_customer ON customer_grams (customer_id);
