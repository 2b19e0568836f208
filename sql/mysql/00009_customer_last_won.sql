-- +goose Up
-- When the customer last had a won deal (a won opportunity or a recorded
-- sale): the public pool's "no deal for M days" rule counts from it.
ALTER TABLE customers ADD COLUMN last_won_at DATETIME(3) NULL;

-- +goose Down
ALTER TABLE customers DROP COLUMN last_won_at;
