package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/app"
)

// pool-reclaim warns the owners of customers nearing a reclaim rule's limit
// and returns overdue customers to the public pool (see internal/pool).
func init() {
	jobs["pool-reclaim"] = func(ctx context.Context, a *app.App) (string, error) {
		sum, err := a.Web.Pool.Reclaim(ctx, time.Now())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("checked %d, warned %d, reclaimed %d", sum.Checked, len(sum.Warned), len(sum.Reclaimed)), nil
	}
}
