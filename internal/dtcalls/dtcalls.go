// Package dtcalls keeps the DingTalk client's call counts in the database,
// so the monthly quota shown to admins covers every instance and survives
// restarts.
package dtcalls

import (
	"context"
	"fmt"

	"github.com/dingcrm/crm/internal/store"
)

// Counter implements dingtalk.CallCounter on the dingtalk_calls table.
type Counter struct{ db *store.DB }

// New returns the counter.
func New(db *store.DB) *Counter { return &Counter{db: db} }

// AddCall counts one call, atomically on both engines (the upsert is the one
// statement whose syntax differs).
func (c *Counter) AddCall(ctx context.Context, month, api string) error {
	q := `INSERT INTO dingtalk_calls (month, api, calls) VALUES (?, ?, 1)
		ON CONFLICT (month, api) DO UPDATE SET calls = calls + 1`
	if c.db.Dialect == store.MySQL {
		q = `INSERT INTO dingtalk_calls (month, api, calls) VALUES (?, ?, 1)
			ON DUPLICATE KEY UPDATE calls = calls + 1`
	}
	if _, err := c.db.ExecContext(ctx, q, month, api); err != nil {
		return fmt.Errorf("dtcalls: add: %w", err)
	}
	return nil
}

// MonthCalls returns the calls per API in month ("2006-01").
func (c *Counter) MonthCalls(ctx context.Context, month string) (map[string]int64, error) {
	var rows []struct {
		API   string `db:"api"`
		Calls int64  `db:"calls"`
	}
	if err := c.db.SelectContext(ctx, &rows, "SELECT api, calls FROM dingtalk_calls WHERE month = ?", month); err != nil {
		return nil, fmt.Errorf("dtcalls: month: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.API] = r.Calls
	}
	return out, nil
}
