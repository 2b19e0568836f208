package outbox

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// CheckSendResults is the check-send-results job: for batches sent at least
// a minute ago (and less than 23 hours: DingTalk keeps results a day) it
// asks getsendresult what became of them and marks each delivered, read or
// failed with the reason.
func (d *Dispatcher) CheckSendResults(ctx context.Context) (string, error) {
	if d.o.DingTalk == nil {
		return "no DingTalk", nil
	}
	now := d.now()
	var rows []struct {
		ID     int64  `db:"id"`
		TaskID int64  `db:"task_id"`
		To     string `db:"userid"`
	}
	err := d.o.DB.SelectContext(ctx, &rows, `SELECT b.id, b.task_id, COALESCE(u.userid, '') AS userid
		FROM outbox_batches b LEFT JOIN users u ON u.id = b.user_id
		WHERE b.status = 'sent' AND b.sent_at <= ? AND b.sent_at > ? ORDER BY b.sent_at, b.id LIMIT 500`,
		now.Add(-time.Minute), now.Add(-23*time.Hour))
	if err != nil {
		return "", fmt.Errorf("outbox: sent batches: %w", err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		if ctx.Err() != nil {
			break
		}
		res, err := d.o.DingTalk.GetSendResult(ctx, r.TaskID)
		if err != nil {
			counts["error"]++
			d.o.Log.WarnContext(ctx, "outbox: getsendresult", "batch", r.ID, "task", r.TaskID, "err", err)
			continue
		}
		status, reason := outcome(res, r.To)
		if status == "" {
			counts["pending"]++
			continue
		}
		_, err = d.o.DB.ExecContext(ctx, `UPDATE outbox_batches SET status = ?, reason = ?, checked_at = ?
			WHERE id = ? AND status = 'sent'`, status, reason, now, r.ID)
		if err != nil {
			return "", fmt.Errorf("outbox: record result: %w", err)
		}
		counts[status]++
		if status == "failed" {
			d.o.Alert(ctx, "delivery_failed", fmt.Sprintf("notification %s to %s: %s", batchRef(r.ID), r.To, reason))
		}
	}
	return fmt.Sprintf("checked %d: delivered %d, read %d, failed %d, not yet %d, errors %d", len(rows),
		counts["delivered"], counts["read"], counts["failed"], counts["pending"], counts["error"]), nil
}

// outcome reads one person's fate from a send result; "" means not known
// yet. A duplicate-content drop can only be a resend of this very batch
// (every batch's content carries its own reference), so the person has the
// first copy: delivered.
func outcome(res *dingtalk.SendResult, to string) (status, reason string) {
	for _, f := range res.Forbidden {
		if f.UserID != to {
			continue
		}
		switch f.Code {
		case dingtalk.DropDuplicateContent:
			return "delivered", "resend dropped as a repeat (143106): the first send reached them"
		case dingtalk.DropDailyCap:
			return "failed", "daily cap of 500 messages reached (143105)"
		case "143103", "143104":
			return "failed", "per-minute recipient limit (" + f.Code + ")"
		}
		return "failed", "dropped by DingTalk (" + f.Code + ")"
	}
	switch {
	case slices.Contains(res.ReadUserIDs, to):
		return "read", ""
	case slices.Contains(res.UnreadUserIDs, to):
		return "delivered", ""
	case slices.Contains(res.InvalidUserIDs, to):
		return "failed", "not in the app's visible range or unknown to DingTalk (invalid_user_id_list)"
	case slices.Contains(res.ForbiddenUserIDs, to):
		return "failed", "forbidden by DingTalk (forbidden_user_id_list)"
	case slices.Contains(res.FailedUserIDs, to):
		return "failed", "DingTalk failed to deliver (failed_user_id_list)"
	}
	return "", ""
}
