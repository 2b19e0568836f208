-- +goose Up
-- Keyword search also indexes digits four at a time (digitGrams in
-- internal/customer/search.go): for every window of four digits inside a
-- run of digits in search_text, the gram (1 << 42) + the number the four
-- digits spell. A query of four or more digits (the last digits of a phone)
-- then reads a posting of about one phone in 1,250 instead of the one in ten
-- of a digit bigram. This adds those grams for the customers that exist
-- already; the application writes them for new and edited ones.
--
-- Text positions 1..99,999 come from a cross join of digits (no recursion,
-- so no recursion-depth limit applies), cut at the longest search_text.
INSERT INTO customer_grams (gram, customer_id)
WITH d (n) AS (
    SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9
),
pos (i) AS (
    SELECT 1 + d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n
    FROM d d1 CROSS JOIN d d2 CROSS JOIN d d3 CROSS JOIN d d4 CROSS JOIN d d5
    WHERE 1 + d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n
        <= (SELECT MAX(CHAR_LENGTH(search_text)) FROM customers) - 3
)
SELECT DISTINCT (1 << 42) + CAST(SUBSTRING(c.search_text, p.i, 4) AS UNSIGNED), c.id
FROM customers c JOIN pos p ON p.i <= CHAR_LENGTH(c.search_text) - 3
WHERE SUBSTRING(c.search_text, p.i, 4) REGEXP '^[0-9]{4}$';

-- +goose Down
DELETE FROM customer_grams WHERE gram >= (1 << 42);
