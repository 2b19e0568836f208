package customer

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
)

// RecordWin notes a won deal for a customer inside the caller's
// transaction: last_won_at moves forward to at (the public pool's no-deal
// clock counts from it) and the status becomes 已成交 (deal). A status change
// is audited on the customer's timeline.
func (s *Store) RecordWin(ctx context.Context, tx *sqlx.Tx, who audit.Who, customerID int64, at time.Time) error {
	var cur struct {
		Name   string `db:"name"`
		Status string `db:"status"`
	}
	if err := tx.GetContext(ctx, &cur, "SELECT name, status FROM customers WHERE id = ?", customerID); err != nil {
		return fmt.Errorf("customer: read for win %d: %w", customerID, err)
	}
	_, err := tx.ExecContext(ctx, `UPDATE customers SET
		last_won_at = CASE WHEN last_won_at IS NULL OR last_won_at < ? THEN ? ELSE last_won_at END,
		status = 'deal', updated_at = ?, version = version + 1 WHERE id = ?`, at, at, at, customerID)
	if err != nil {
		return fmt.Errorf("customer: record win %d: %w", customerID, err)
	}
	if cur.Status == "deal" {
		return nil
	}
	return audit.Record(ctx, tx, who, audit.Entry{Action: audit.ActUpdate, Entity: "customer", EntityID: customerID,
		CustomerID: customerID, EntityName: cur.Name, Changes: map[string]audit.Change{"status": {Old: nullable(cur.Status), New: "deal"}}})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
