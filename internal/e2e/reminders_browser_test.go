package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/outbox"
)

// TestReminders walks 提醒 and 消息 at the phone size and at a desktop size:
// set a reminder from the customer page (提醒), find it under 我的提醒 → 即将,
// snooze it and mark it done; a due reminder goes out through the dispatcher,
// the shell's badge counts it, 消息 shows the card's words, and opening it
// goes to the customer and clears the badge. A manager's form offers the
// people to remind; a salesperson's does not.
func TestReminders(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			suffix := fmt.Sprintf("%s%06d", vp.name, time.Now().UnixNano()%1_000_000)
			api := srv.Login(t, "sim_s3")
			var cust struct{ ID int64 }
			if st := api.Do("POST", "/api/v1/customers", map[string]any{"name": "提醒测试" + suffix}, &cust); st != 201 {
				t.Fatalf("create the customer: %d", st)
			}
			id := strconv.FormatInt(cust.ID, 10)

			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_s3")
			p.goTo("#/customers/" + id)
			p.click(`[data-testid="customer-remind"]`)
			if p.eval(`String(!!document.querySelector('[data-testid="field-recipient_ids"]'))`) != "false" {
				t.Error("a salesperson is offered other people to remind")
			}
			content := "回电确认报价" + suffix
			p.setValue(`[data-testid="field-remind_at"]`, "2030-01-15T10:00")
			p.typeInto(`[data-testid="field-content"]`, content)
			p.setValue(`[data-testid="field-repeat"]`, "weekly")
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="toast"]`, "提醒已设置")

			p.nav("reminders")
			p.click(`[data-testid="reminder-tab-upcoming"]`)
			row := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="reminder-row"]')].find((r) => r.textContent.includes(%s))`, jsString(content))
			p.waitFor("the reminder under 即将", row+` && `+row+`.textContent.includes('2030-01-15 10:00') && `+row+`.textContent.includes('每周')`)
			p.eval(`String(` + row + `.querySelector('[data-testid="reminder-snooze"]').click())`)
			p.click(`[data-testid="snooze-1h"]`)
			p.waitText(`[data-testid="toast"]`, "已延后")
			p.waitFor("snoozed to now + 1 h", row+` && !`+row+`.textContent.includes('2030-01-15 10:00')`)
			p.eval(`String(` + row + `.querySelector('[data-testid="reminder-done"]').click())`)
			p.waitText(`[data-testid="toast"]`, "已完成")

			// A due reminder, dispatched: the badge, the inbox, the link.
			due := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
			dueText := "带上合同" + suffix
			if st := api.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": cust.ID, "remind_at": due.Format(time.RFC3339), "content": dueText}, nil); st != 201 {
				t.Fatalf("a due reminder: %d", st)
			}
			a := srv.App
			d := outbox.NewDispatcher(outbox.Options{DB: a.DB, DingTalk: a.DingTalk, Quiet: outbox.Never,
				Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
			if _, err := d.Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := a.FakeDingTalk.DeliveriesTo("sim_s3")
			if len(got) == 0 || !strings.Contains(got[len(got)-1].Text, dueText) {
				t.Fatalf("DingTalk did not get the reminder: %+v", got)
			}
			p.goTo("#/customers")
			p.waitFor("the unread badge", `document.querySelector('[data-testid="inbox-badge"]')?.getAttribute('data-count') === '1'`)
			p.click(`[data-testid="inbox-link"]`)
			entry := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="inbox-row"]')].find((r) => r.textContent.includes(%s))`, jsString(dueText))
			p.waitFor("the message in 消息", entry+` && `+entry+`.dataset.read === 'false'`)
			p.eval(`String(` + entry + `.querySelector('[data-testid="inbox-open"]').click())`)
			p.waitFor("the customer opened from the message", `location.hash === '#/customers/`+id+`'`)
			p.waitFor("the badge cleared", `document.querySelector('[data-testid="inbox-badge"]')?.getAttribute('data-count') === '0'`)
			p.noExceptions()
		})
	}
	t.Run("manager", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 1280, 800)
		p.login("sim_mgr1")
		p.nav("reminders")
		p.click(`[data-testid="reminder-add"]`)
		p.waitFor("the people to remind", `!!document.querySelector('[data-testid="field-recipient_ids"] input')`)
		p.noExceptions()
	})
}
