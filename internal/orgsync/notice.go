package orgsync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/store"
)

// WorkNoticeNotifier tells the manager who received a leaver's records,
// with a DingTalk work notification, and marks the handover notified. The
// notifications issue will route this through the transactional outbox;
// until then it is sent directly after the handover committed, and a
// handover whose notice failed keeps notified_at empty (the record of who
// still has to be told).
type WorkNoticeNotifier struct {
	DB       *store.DB
	DingTalk *dingtalk.Client
	Log      *slog.Logger
}

// HandedOver implements Notifier.
func (n *WorkNoticeNotifier) HandedOver(ctx context.Context, h Handoff) {
	if h.ToUserID == 0 || len(h.CustomerIDs)+len(h.OpportunityIDs) == 0 {
		return
	}
	var to string
	if err := n.DB.GetContext(ctx, &to, "SELECT userid FROM users WHERE id = ?", h.ToUserID); err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice: recipient", "handoff", h.ID, "err", err)
		return
	}
	text, err := n.text(ctx, h)
	if err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice: text", "handoff", h.ID, "err", err)
		return
	}
	msg := dingtalk.MarkdownMessage("客户交接", text)
	if _, err := n.DingTalk.SendWorkNotice(ctx, dingtalk.WorkNotice{UserIDs: []string{to}, Msg: msg}); err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice not sent", "handoff", h.ID, "err", err)
		return
	}
	if _, err := n.DB.ExecContext(ctx, "UPDATE org_handoffs SET notified_at = ? WHERE id = ?", store.Now(), h.ID); err != nil {
		n.Log.WarnContext(ctx, "orgsync: handover notice: mark notified", "handoff", h.ID, "err", err)
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
	fmt.Fprintf(&b, "### %s 已离职，其客户已交接给您\n\n", h.LeaverName)
	if h.Mode == "pool" {
		b.Reset()
		fmt.Fprintf(&b, "### %s 已离职\n\n", h.LeaverName)
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
