package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/app"
)

// backup writes data_dir/backups/crm-YYYYmmdd-HHMMSS.crmbak (backup.dir)
// and keeps the newest N scheduled backups (backup.keep, or the admin's
// setting on 系统维护). log-retention deletes operation- and login-log
// entries older than the admin's retention settings, in batches, and
// records that it did. Both are plain functions the scheduler calls.
func init() {
	jobs["backup"] = func(ctx context.Context, a *app.App) (string, error) {
		return a.System.RunBackup(ctx)
	}
	jobs["log-retention"] = func(ctx context.Context, a *app.App) (string, error) {
		c, err := a.System.CleanupLogs(ctx, time.Now())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("deleted %d operation-log and %d login-log entries", c.OperationDeleted, c.LoginDeleted), nil
	}
}
