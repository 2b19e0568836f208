package system

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/store"
)

// retentionBatch is how many log entries one DELETE removes: small enough
// that each statement is short and holds its locks briefly while people
// keep working, large enough that a year of entries goes in minutes.
const retentionBatch = 1000

// loginActions are the entries that make up the login log; everything else
// in audit_log is the operation log.
var loginActions = []string{audit.ActLogin, audit.ActLoginFailed}

// Cleanup says what the log-retention job deleted.
type Cleanup struct {
	OperationDeleted int64
	LoginDeleted     int64
}

// CleanupLogs is the job "log-retention": it deletes operation-log entries
// older than operation_log_days and login-log entries older than
// login_log_days (0 keeps them forever), in batches, and records what it
// did in the operation log. Customer timelines are read from the operation
// log, so its retention shortens them too (the settings page says so).
func (s *Service) CleanupLogs(ctx context.Context, now time.Time) (Cleanup, error) {
	set, err := s.readSettings(ctx, s.db)
	if err != nil {
		return Cleanup{}, err
	}
	var out Cleanup
	changes := map[string]audit.Change{}
	in := "action IN (" + store.Placeholders(len(loginActions)) + ")"
	if set.LoginLogDays > 0 {
		cutoff := now.Add(-time.Duration(set.LoginLogDays) * 24 * time.Hour).UTC()
		if out.LoginDeleted, err = s.deleteBatches(ctx, in, cutoff); err != nil {
			return out, err
		}
		changes["login_before"] = audit.Change{New: cutoff.Format(time.RFC3339)}
		changes["login_deleted"] = audit.Change{New: out.LoginDeleted}
	}
	if set.OperationLogDays > 0 {
		cutoff := now.Add(-time.Duration(set.OperationLogDays) * 24 * time.Hour).UTC()
		if out.OperationDeleted, err = s.deleteBatches(ctx, "NOT "+in, cutoff); err != nil {
			return out, err
		}
		changes["operation_before"] = audit.Change{New: cutoff.Format(time.RFC3339)}
		changes["operation_deleted"] = audit.Change{New: out.OperationDeleted}
	}
	if out.LoginDeleted+out.OperationDeleted == 0 {
		return out, nil
	}
	// The cleanup leaves its own trace, newer than any cutoff.
	err = audit.Record(ctx, s.db, audit.Who{Name: "system"}, audit.Entry{Action: "log_retention", Entity: "audit_log", Changes: changes})
	return out, err
}

// deleteBatches deletes the entries matching cond older than cutoff, oldest
// first, retentionBatch at a time, each batch its own short statement.
func (s *Service) deleteBatches(ctx context.Context, cond string, cutoff time.Time) (int64, error) {
	var total int64
	for {
		args := []any{}
		for _, a := range loginActions {
			args = append(args, a)
		}
		args = append(args, cutoff, retentionBatch)
		var ids []int64
		if err := s.db.SelectContext(ctx, &ids, "SELECT id FROM audit_log WHERE "+cond+" AND at < ? ORDER BY id LIMIT ?", args...); err != nil {
			return total, fmt.Errorf("system: log retention: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		q, qargs, err := sqlx.In("DELETE FROM audit_log WHERE id IN (?)", ids)
		if err != nil {
			return total, err
		}
		res, err := s.db.ExecContext(ctx, q, qargs...)
		if err != nil {
			return total, fmt.Errorf("system: log retention: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if len(ids) < retentionBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
