package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/reqctx"
	"github.com/dingcrm/crm/internal/store"
)

// RecordBatch writes many entries by one person inside tx, as Record
// writes each, in a few multi-row INSERTs: bulk writers (the Excel import)
// give every record they create its own entry without a round trip each.
func RecordBatch(ctx context.Context, tx sqlx.ExtContext, who Who, entries []Entry) error {
	const perInsert = 500
	meta := reqctx.From(ctx)
	now := store.Now()
	for len(entries) > 0 {
		n := min(perInsert, len(entries))
		args := make([]any, 0, 12*n)
		for _, e := range entries[:n] {
			changes := "{}"
			if len(e.Changes) > 0 {
				b, err := json.Marshal(e.Changes)
				if err != nil {
					return fmt.Errorf("audit: encode changes: %w", err)
				}
				changes = string(b)
			}
			args = append(args, now, who.ID, who.Name, e.Action, e.Entity, e.EntityID, truncate(e.EntityName, 200),
				e.CustomerID, changes, truncate(meta.IP, 64), truncate(meta.RequestID, 64),
				truncate(meta.UserAgent, 255))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log
			(at, actor_id, actor_name, action, entity, entity_id, entity_name, customer_id, changes, ip, request_id, user_agent)
			VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", "), args...)
		if err != nil {
			return fmt.Errorf("audit: record %d entries: %w", n, err)
		}
		entries = entries[n:]
	}
	return nil
}
