-- +goose Up
-- The product catalogue, sales records (销售数据) and opportunities (销售机会)
-- with the company's pipeline stages. Money is integer fen, never a float.
-- A sale's date and an opportunity's expected close date are calendar dates
-- in the company's time zone, stored as the text 'YYYY-MM-DD' (what MySQL's
-- DATE holds), so comparisons are the same on both engines.

CREATE TABLE products (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           VARCHAR(100) NOT NULL COLLATE NOCASE,
    code           VARCHAR(32) NOT NULL DEFAULT '',
    unit           VARCHAR(16) NOT NULL DEFAULT '',
    unit_price_fen BIGINT NOT NULL DEFAULT 0,
    active         TINYINT NOT NULL DEFAULT 1,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    version        INT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX uq_products_name ON products (name);
CREATE INDEX idx_products_active ON products (active, name);

-- The stages are the company's; kind says which one means won and which
-- lost. A removed stage is only deactivated, so the stage history keeps
-- its name.
CREATE TABLE opportunity_stages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        VARCHAR(32) NOT NULL,
    name        VARCHAR(20) NOT NULL,
    probability INT NOT NULL,
    sort_order  INT NOT NULL,
    kind        VARCHAR(8) NOT NULL,
    active      TINYINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX uq_opportunity_stages_code ON opportunity_stages (code);

INSERT INTO opportunity_stages (code, name, probability, sort_order, kind, active) VALUES
    ('initial', '初步接洽', 10, 1, 'open', 1),
    ('needs', '需求确认', 30, 2, 'open', 1),
    ('proposal', '方案报价', 50, 3, 'open', 1),
    ('negotiation', '谈判审核', 70, 4, 'open', 1),
    ('won', '赢单', 100, 5, 'won', 1),
    ('lost', '输单', 0, 6, 'lost', 1);

CREATE TABLE opportunities (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id         BIGINT NOT NULL,
    title               VARCHAR(100) NOT NULL,
    amount_fen          BIGINT NOT NULL,
    expected_close_date DATE NULL,
    owner_id            BIGINT NOT NULL,
    department_id       BIGINT NOT NULL,
    stage_id            BIGINT NOT NULL,
    probability         INT NOT NULL,
    status              VARCHAR(8) NOT NULL,
    lost_reason         VARCHAR(32) NOT NULL DEFAULT '',
    notes               TEXT NOT NULL,
    closed_at           DATETIME NULL,
    created_by          BIGINT NOT NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    version             INT NOT NULL DEFAULT 1,
    deleted_at          DATETIME NULL,
    deleted_by          BIGINT NULL
);
CREATE INDEX idx_opportunities_customer ON opportunities (customer_id, deleted_at);
-- The pipeline reads one stage's newest cards for an owner or a department
-- without touching the rest, and sums a whole board from the index alone
-- (amount and probability ride along).
CREATE INDEX idx_opportunities_owner_stage ON opportunities (owner_id, stage_id, deleted_at, updated_at, amount_fen, probability);
CREATE INDEX idx_opportunities_dept_stage ON opportunities (department_id, stage_id, deleted_at, updated_at, amount_fen, probability);
CREATE INDEX idx_opportunities_stage ON opportunities (stage_id, deleted_at, updated_at);
CREATE INDEX idx_opportunities_close ON opportunities (expected_close_date);

CREATE TABLE opportunity_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    opportunity_id BIGINT NOT NULL,
    product_id     BIGINT NOT NULL,
    quantity       BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    total_fen      BIGINT NOT NULL,
    sort_order     INT NOT NULL
);
CREATE INDEX idx_opportunity_items_parent ON opportunity_items (opportunity_id, sort_order);
CREATE INDEX idx_opportunity_items_product ON opportunity_items (product_id);

CREATE TABLE opportunity_stage_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    opportunity_id BIGINT NOT NULL,
    from_stage     BIGINT NULL,
    to_stage       BIGINT NOT NULL,
    changed_by     BIGINT NOT NULL,
    changed_at     DATETIME NOT NULL
);
CREATE INDEX idx_stage_history_opportunity ON opportunity_stage_history (opportunity_id, id);

-- A sale made from an opportunity is unique to it (deleted ones too, so a
-- restore cannot make a second): winning records the sale once.
CREATE TABLE sales (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id    BIGINT NOT NULL,
    opportunity_id BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    sale_date      DATE NOT NULL,
    amount_fen     BIGINT NOT NULL,
    notes          TEXT NOT NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME NULL,
    deleted_by     BIGINT NULL
);
CREATE UNIQUE INDEX uq_sales_opportunity ON sales (opportunity_id);
CREATE INDEX idx_sales_customer ON sales (customer_id, deleted_at);
CREATE INDEX idx_sales_owner ON sales (owner_id, deleted_at, sale_date);
CREATE INDEX idx_sales_dept ON sales (department_id, deleted_at, sale_date);
CREATE INDEX idx_sales_date ON sales (deleted_at, sale_date);

CREATE TABLE sale_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_id        BIGINT NOT NULL,
    product_id     BIGINT NOT NULL,
    quantity       BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    total_fen      BIGINT NOT NULL,
    sort_order     INT NOT NULL
);
CREATE INDEX idx_sale_items_parent ON sale_items (sale_id, sort_order);
CREATE INDEX idx_sale_items_product ON sale_items (product_id);

-- +goose Down
DROP TABLE sale_items;
DROP TABLE sales;
DROP TABLE opportunity_stage_history;
DROP TABLE opportunity_items;
DROP TABLE opportunities;
DROP TABLE opportunity_stages;
DROP TABLE products;
