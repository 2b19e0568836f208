package orgsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
)

// WorkNoticeNotifier tells the manager who received a leaver's records.
// The notice is a row of the notification outbox (internal/outbox), written
// in one transaction with notified_at, so it is sent (DingTalk work
// notification and the in-app inbox) exactly once by the dispatcher, with
// its retries, however the process fares after this call.
type WorkNoticeNotifier struct {
	DB  *store.DB
	Log *slog.Logger
}

// HandedOver implements Notifier.
func (n *WorkNoticeNotifier) HandedOver(ctx context.Context, h Handoff) {
	if h.ToUserID == 0 || len(h.CustomerIDs)+len(h.OpportunityIDs) == 0 {
		return
	}
	text, err := n.text(ctx, h)
	if err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice: text", "handoff", h.ID, "err", err)
		return
	}
	err = n.DB.WithTx(ctx, func(tx *sqlx.Tx) error {
		err := outbox.Enqueue(ctx, tx, outbox.Message{UserID: h.ToUserID, Kind: outbox.KindNotice, Title: "客户交接",
			Body: text, URL: "#/customers", DedupKey: fmt.Sprintf("handoff:%d", h.ID)})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE org_handoffs SET notified_at = ? WHERE id = ?", store.Now(), h.ID)
		return err
	})
	if err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice not queued", "handoff", h.ID, "err", err)
	}
}

// text lists what was handed over (up to ten customer names). The
// handover's id makes every notice's content unique, so DingTalk's
// same-content-once-a-day rule never drops a second handover.
func (n *WorkNoticeNotifier) text(ctx context.Context, h Handoff) (string, error) {
	var names []string
	if len(h.CustomerIDs) > 0 {
		ids := h.CustomerIDs[:min(10, len(h.CustomerIDs))]
		if err := n.DB.SelectContext(ctx, &names, "SELECT name FROM customers WHERE id IN ("+store.Placeholders(len(ids))+") ORDER BY id",
			store.Int64Args(ids)...); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s 已离职，其客户已交接给您\n\n", h.LeaverName)
	if h.Mode == "pool" {
		b.Reset()
		fmt.Fprintf(&b, "%s 已离职\n\n", h.LeaverName)
	} else {
		fmt.Fprintf(&b, "- 客户 %d 个", len(h.CustomerIDs))
		if len(names) > 0 {
			fmt.Fprintf(&b, "：%s", strings.Join(names, "、"))
			if len(h.CustomerIDs) > len(names) {
				b.WriteString(" 等")
			}
		}
		b.WriteString("\n")
	}
	if len(h.OpportunityIDs) > 0 {
		fmt.Fprintf(&b, "- 进行中的销售机会 %d 个\n", len(h.OpportunityIDs))
	}
	fmt.Fprintf(&b, "\n（交接编号 %d）", h.ID)
	return b.String(), nil
}
