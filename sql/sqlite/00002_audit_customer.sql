-- +goose Up
-- Every audit entry about a customer or one of its records (contact,
-- follow-up, sale, opportunity…) carries the customer's id, so the
-- customer's timeline is one indexed, paged read of the log.
ALTER TABLE audit_log ADD COLUMN customer_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX idx_audit_customer ON audit_log (customer_id, id);

-- +goose Down
DROP INDEX idx_audit_customer;
ALTER TABLE audit_log DROP COLUMN customer_id;
