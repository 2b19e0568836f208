-- +goose Up
-- The product catalogue, sales records (销售数据) and opportunities (销售机会)
-- with the company's pipeline stages. Money is integer fen (BIGINT), never a
-- float. A sale's date and an opportunity's expected close date are calendar
-- dates in the company's time zone, stored as DATE (no time, no zone).

CREATE TABLE products (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    name           VARCHAR(100) NOT NULL,
    code           VARCHAR(32) NOT NULL DEFAULT '',
    unit           VARCHAR(16) NOT NULL DEFAULT '',
    unit_price_fen BIGINT NOT NULL DEFAULT 0,
    active         TINYINT(1) NOT NULL DEFAULT 1,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    UNIQUE KEY uq_products_name (name),
    KEY idx_products_active (active, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The stages are the company's; kind says which one means won and which
-- lost. A removed stage is only deactivated, so the stage history keeps
-- its name.
CREATE TABLE opportunity_stages (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    code        VARCHAR(32) NOT NULL,
    name        VARCHAR(20) NOT NULL,
    probability INT NOT NULL,
    sort_order  INT NOT NULL,
    kind        VARCHAR(8) NOT NULL,
    active      TINYINT(1) NOT NULL DEFAULT 1,
    UNIQUE KEY uq_opportunity_stages_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO opportunity_stages (code, name, probability, sort_order, kind, active) VALUES
    ('initial', '初步接洽', 10, 1, 'open', 1),
    ('needs', '需求确认', 30, 2, 'open', 1),
    ('proposal', '方案报价', 50, 3, 'open', 1),
    ('negotiation', '谈判审核', 70, 4, 'open', 1),
    ('won', '赢单', 100, 5, 'won', 1),
    ('lost', '输单', 0, 6, 'lost', 1);

CREATE TABLE opportunities (
    id                  BIGINT AUTO_INCREMENT PRIMARY KEY,
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
    closed_at           DATETIME(3) NULL,
    created_by          BIGINT NOT NULL,
    created_at          DATETIME(3) NOT NULL,
    updated_at          DATETIME(3) NOT NULL,
    version             INT NOT NULL DEFAULT 1,
    deleted_at          DATETIME(3) NULL,
    deleted_by          BIGINT NULL,
    KEY idx_opportunities_customer (customer_id, deleted_at),
    -- The pipeline reads one stage's newest cards for an owner or a
    -- department without touching the rest, and sums a whole board from
    -- the index alone (amount and probability ride along).
    KEY idx_opportunities_owner_stage (owner_id, stage_id, deleted_at, updated_at, amount_fen, probability),
    KEY idx_opportunities_dept_stage (department_id, stage_id, deleted_at, updated_at, amount_fen, probability),
    KEY idx_opportunities_stage (stage_id, deleted_at, updated_at),
    KEY idx_opportunities_close (expected_close_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE opportunity_items (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    opportunity_id BIGINT NOT NULL,
    product_id     BIGINT NOT NULL,
    quantity       BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    total_fen      BIGINT NOT NULL,
    sort_order     INT NOT NULL,
    KEY idx_opportunity_items_parent (opportunity_id, sort_order),
    KEY idx_opportunity_items_product (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE opportunity_stage_history (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    opportunity_id BIGINT NOT NULL,
    from_stage     BIGINT NULL,
    to_stage       BIGINT NOT NULL,
    changed_by     BIGINT NOT NULL,
    changed_at     DATETIME(3) NOT NULL,
    KEY idx_stage_history_opportunity (opportunity_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A sale made from an opportunity is unique to it (deleted ones too, so a
-- restore cannot make a second): winning records the sale once.
CREATE TABLE sales (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id    BIGINT NOT NULL,
    opportunity_id BIGINT NULL,
    owner_id       BIGINT NOT NULL,
    department_id  BIGINT NOT NULL,
    sale_date      DATE NOT NULL,
    amount_fen     BIGINT NOT NULL,
    notes          TEXT NOT NULL,
    created_by     BIGINT NOT NULL,
    created_at     DATETIME(3) NOT NULL,
    updated_at     DATETIME(3) NOT NULL,
    version        INT NOT NULL DEFAULT 1,
    deleted_at     DATETIME(3) NULL,
    deleted_by     BIGINT NULL,
    UNIQUE KEY uq_sales_opportunity (opportunity_id),
    KEY idx_sales_customer (customer_id, deleted_at),
    KEY idx_sales_owner (owner_id, deleted_at, sale_date),
    KEY idx_sales_dept (department_id, deleted_at, sale_date),
    KEY idx_sales_date (deleted_at, sale_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sale_items (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    sale_id        BIGINT NOT NULL,
    product_id     BIGINT NOT NULL,
    quantity       BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    total_fen      BIGINT NOT NULL,
    sort_order     INT NOT NULL,
    KEY idx_sale_items_parent (sale_id, sort_order),
    KEY idx_sale_items_product (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE sale_items;
DROP TABLE sales;
DROP TABLE opportunity_stage_history;
DROP TABLE opportunity_items;
DROP TABLE opportunities;
DROP TABLE opportunity_stages;
DROP TABLE products;
