package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/store"
)

// Backlog is how many notifications are due and not yet handed to DingTalk
// (messages not yet batched plus batches not yet sent) and how long the
// oldest has waited: what /metrics exports, so a stuck dispatcher shows.
// Every query uses a (status, due) index. The oldest is read as a column
// (ORDER BY … LIMIT 1), not MIN(), so SQLite returns it as a time too.
func Backlog(ctx context.Context, db *store.DB, now time.Time) (int64, time.Duration, error) {
	var total int64
	var age time.Duration
	for _, q := range []struct{ table, col string }{{"outbox_messages", "due_at"}, {"outbox_batches", "next_at"}} {
		where := " FROM " + q.table + " WHERE status = 'pending' AND " + q.col + " <= ?"
		var n int64
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*)"+where, now); err != nil {
			return 0, 0, fmt.Errorf("outbox: backlog: %w", err)
		}
		if n == 0 {
			continue
		}
		var oldest time.Time
		if err := db.GetContext(ctx, &oldest, "SELECT "+q.col+where+" ORDER BY "+q.col+" LIMIT 1", now); err != nil {
			return 0, 0, fmt.Errorf("outbox: backlog: %w", err)
		}
		total += n
		if now.Sub(oldest) > age {
			age = now.Sub(oldest)
		}
	}
	return total, age, nil
}
