-- +goose Up
-- The login log (登录日志) shows the client a person signed in from: the
-- audit log keeps each request's user agent beside its IP. Role names are
-- what people choose from, so two roles may not share one (权限管理).
ALTER TABLE audit_log ADD COLUMN user_agent VARCHAR(255) NOT NULL DEFAULT '';
CREATE INDEX idx_audit_action ON audit_log (action, id);
CREATE UNIQUE INDEX uq_roles_name ON roles (name);

-- +goose Down
DROP INDEX uq_roles_name;
DROP INDEX idx_audit_action;
ALTER TABLE audit_log DROP COLUMN user_agent;
