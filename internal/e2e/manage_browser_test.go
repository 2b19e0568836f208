package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestRecordUpkeep covers the less travelled paths once, at the desktop size:
// contacts (second one made primary, edited, deleted), a follow-up edited and
// deleted, an opportunity lost with a reason, a sale edited and deleted, the
// duplicate notice on the customer form and the 查重 page, the cooldown
// message on a re-claim, a manager's transfer and assignment from the pool,
// an admin's merge and the pool rules.
func TestRecordUpkeep(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	people := salespeople(t, srv)
	a := people[0]
	suffix := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	api := srv.Login(t, a.UserID)
	mk := func(name, phone, company string) string {
		var c struct{ ID int64 }
		body := map[string]any{"name": name, "company": company}
		if phone != "" {
			body["phone"] = phone
		}
		if st := api.Do("POST", "/api/v1/customers", body, &c); st != 201 {
			t.Fatalf("create %s: status %d", name, st)
		}
		return strconv.FormatInt(c.ID, 10)
	}
	phone := "137" + suffix + "00"
	main := mk("维护测试"+suffix, phone, "维护公司"+suffix)
	other := mk("被合并"+suffix, "", "另一家"+suffix)
	api.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": mustInt(main), "name": "甲联系人"}, nil)
	api.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": mustInt(main), "name": "乙联系人"}, nil)
	api.Do("POST", "/api/v1/followups", map[string]any{"customer_id": mustInt(main), "followed_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "method": "phone", "content": "第一次电话" + suffix}, nil)
	var opp struct {
		ID      int64
		Version int64
	}
	api.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": mustInt(main), "title": "要输的机会" + suffix, "amount_fen": 100000}, &opp)
	var sale struct{ ID int64 }
	api.Do("POST", "/api/v1/sales", map[string]any{"customer_id": mustInt(main), "amount_fen": 50000}, &sale)

	p := openPage(t, browserCtx, srv.URL, 1280, 800)
	p.login(a.UserID)

	// Contacts: make 乙 primary, edit it, delete 甲.
	p.goTo("#/customers/" + main + "?tab=contacts")
	p.waitText(`[data-testid="contact-row"] [data-testid="contact-name"]`, "乙联系人")
	p.click(`[data-testid="contact-row"]:nth-child(2) [data-testid="contact-set-primary"]`)
	p.waitFor("乙 is primary and listed first", `(() => { const r = document.querySelector('[data-testid="contact-row"]'); return r && r.textContent.includes('乙联系人') && r.textContent.includes('主联系人'); })()`)
	p.click(`[data-testid="contact-row"]:nth-child(1) [data-testid="contact-edit"]`)
	p.clearAndType(`.modal [data-testid="field-title"]`, "财务总监")
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="contact-row"]:nth-child(1)`, "财务总监")
	p.click(`[data-testid="contact-row"]:nth-child(2) [data-testid="contact-delete"]`)
	p.click(`[data-testid="confirm-ok"]`)
	p.waitFor("甲 is gone", `[...document.querySelectorAll('[data-testid="contact-row"]')].length === 1`)

	// Follow-up: edit the content, then delete it.
	p.click(`[data-testid="tab-followups"]`)
	p.click(`[data-testid="followup-edit"]`)
	p.clearAndType(`[data-testid="field-content"]`, "改过的电话记录"+suffix)
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="followup-content"]`, "改过的电话记录"+suffix)
	p.click(`[data-testid="followup-delete"]`)
	p.click(`[data-testid="confirm-ok"]`)
	p.waitText(`[data-testid="tab-panel"]`, "还没有跟进记录")

	// Opportunity: 移动到… 输单 asks the reason.
	p.goTo(fmt.Sprintf("#/opportunities/%d", opp.ID))
	p.click(`[data-testid="opportunity-move"]`)
	p.click(`[data-testid="stage-option-lost"]`)
	p.click(`[data-testid="form-save"]`)
	p.waitText(`.field-error`, "请选择输单原因")
	p.setValue(`[data-testid="field-lost_reason"]`, "price")
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="opp-lost_reason"]`, "价格原因")
	p.waitText(`[data-testid="stage-history-row"]`, "输单")

	// Sale: change the amount, then delete it.
	p.goTo(fmt.Sprintf("#/sales/%d", sale.ID))
	p.click(`[data-testid="sale-edit"]`)
	p.clearAndType(`[data-testid="field-amount_fen"]`, "1234.5")
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="sale-amount"]`, "¥1,234.50")
	p.click(`[data-testid="sale-delete"]`)
	p.click(`[data-testid="confirm-ok"]`)
	p.waitFor("back on the sales list", `location.hash === '#/sales'`)

	// A duplicate phone on a new customer: the notice names it with a link.
	p.goTo("#/customers/new")
	p.typeInto(`[data-testid="field-name"]`, "重复客户"+suffix)
	p.typeInto(`[data-testid="field-phone"]`, phone)
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="duplicate-notice"]`, "与已有客户 维护测试"+suffix+"（负责人 "+a.Name+"）重复")
	p.waitFor("the notice links the customer", fmt.Sprintf(`document.querySelector('[data-testid="duplicate-link"]')?.getAttribute('href') === '#/customers/%s'`, main))

	// 查重 by name and company.
	p.nav("duplicates")
	p.typeInto(`[data-testid="field-name"]`, "维护测试"+suffix)
	p.typeInto(`[data-testid="field-company"]`, "维护公司"+suffix)
	p.click(`[data-testid="duplicate-search"]`)
	p.waitText(`[data-testid="duplicate-row"]`, "名称和公司相同")
	p.waitText(`[data-testid="duplicate-row"]`, a.Name)

	// Release, then try to claim it back: the cooldown says until when.
	p.goTo("#/customers/" + other)
	p.click(`[data-testid="customer-release"]`)
	p.typeInto(`[data-testid="field-reason"]`, "测试冷却期")
	p.click(`[data-testid="form-save"]`)
	p.waitFor("back on the list", `location.hash === '#/customers'`)
	p.goTo("#/pool?q=" + suffix)
	row := fmt.Sprintf(`[data-testid="pool-row"][data-id="%s"]`, other)
	p.waitText(row+` [data-testid="pool-cooldown"]`, "后可以重新领取")
	p.click(row + ` [data-testid="pool-claim"]`)
	p.waitText(`[data-testid="toast"]`, "后可以重新领取")
	p.noExceptions()

	// A manager assigns it from the pool and transfers the other customer.
	p.click(`[data-testid="logout"]`)
	p.login("sim_mgr1")
	p.goTo("#/pool?q=" + suffix)
	p.click(row + ` [data-testid="pool-assign"]`)
	p.waitFor("the people are listed", `document.querySelectorAll('[data-testid="field-user_id"] option').length > 2`)
	p.eval(fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid="field-user_id"]'); s.value = [...s.options].find((o) => o.textContent.startsWith(%s)).value; return 'ok'; })()`, jsString(a.Name)))
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="toast"]`, "分配给 "+a.Name)
	p.waitFor("the row left the pool", fmt.Sprintf(`!document.querySelector(%s)`, jsString(row)))
	p.goTo("#/customers/" + main)
	p.click(`[data-testid="customer-transfer"]`)
	p.waitFor("the people are listed", `document.querySelectorAll('[data-testid="field-to_user_id"] option').length > 2`)
	p.eval(`(() => { const s = document.querySelector('[data-testid="field-to_user_id"]'); s.value = [...s.options].find((o) => o.textContent.startsWith('李强')).value; return 'ok'; })()`)
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="summary-owner"]`, "李强")
	p.noExceptions()

	// The admin merges the other customer into the main one, and saves the pool rules.
	p.click(`[data-testid="logout"]`)
	p.login("sim_admin")
	p.goTo("#/customers/" + main)
	p.click(`[data-testid="customer-merge"]`)
	p.typeInto(`[data-testid="field-from_id"]`, "被合并"+suffix)
	p.click(fmt.Sprintf(`[data-testid="picker-option"][data-id="%s"]`, other))
	p.click(`[data-testid="form-save"]`)
	p.waitText(`.modal`, "不能撤销")
	p.click(`[data-testid="confirm-ok"]`)
	p.waitText(`[data-testid="toast"]`, "被合并"+suffix)
	p.click(`[data-testid="tab-timeline"]`)
	p.waitText(`[data-testid="timeline-entry"]`, "将客户 被合并"+suffix+" 合并到此客户")
	p.nav("pool-rules")
	p.clearAndType(`[data-testid="field-warn_days"]`, "40")
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-error-for="warn_days"]`, "30")
	p.clearAndType(`[data-testid="field-warn_days"]`, "5")
	p.click(`[data-testid="form-save"]`)
	p.waitText(`[data-testid="toast"]`, "已保存")
	p.waitFor("the saved value shows", `document.querySelector('[data-testid="field-warn_days"]')?.value === '5'`)
	p.noExceptions()
}

func mustInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}
