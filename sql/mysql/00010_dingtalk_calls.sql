-- +goose Up
-- DingTalk API calls per calendar month (Asia/Shanghai) and API, shared by
-- every instance, so admins see how much of the monthly quota is spent.
CREATE TABLE dingtalk_calls (
    month VARCHAR(7) NOT NULL,
    api   VARCHAR(64) NOT NULL,
    calls BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, api)
);

-- +goose Down
DROP TABLE dingtalk_calls;
