package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestSalesWork walks a salesperson's day with the records around a customer,
// at the phone size and at a desktop size: add a contact and a follow-up (the
// follow-up shows on the timeline and sets the customer's 下次跟进), add an
// opportunity, move it through the pipeline to 赢单 (by dragging on the
// desktop, by the card's 移动到… picker on the phone), make the sale from it
// and find it under 销售数据 with the right amount; then release the customer
// to the public pool, where another salesperson claims it.
func TestSalesWork(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	people := salespeople(t, srv)
	a, b := people[0], people[1]
	product := pickProduct(t, srv, a.UserID)

	viewports := []struct {
		name          string
		width, height int64
		drag          bool
	}{
		{"phone", 375, 812, false},
		{"desktop", 1280, 800, true},
	}
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			suffix := fmt.Sprintf("%s%06d", vp.name, time.Now().UnixNano()%1_000_000)
			customerName := "记录测试" + suffix
			api := srv.Login(t, a.UserID)
			var cust struct{ ID int64 }
			if st := api.Do("POST", "/api/v1/customers", map[string]any{"name": customerName, "company": "测试公司" + suffix}, &cust); st != 201 {
				t.Fatalf("create the customer: status %d", st)
			}
			id := strconv.FormatInt(cust.ID, 10)

			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login(a.UserID)
			p.goTo("#/customers/" + id)
			p.waitText(`[data-testid="detail-name"]`, customerName)

			// 联系人: add one; the first contact is the primary one.
			contact := "联系人" + suffix
			p.click(`[data-testid="tab-contacts"]`)
			p.waitText(`[data-testid="tab-panel"]`, "还没有联系人")
			p.click(`[data-testid="contact-add"]`)
			p.typeInto(`[data-testid="field-name"]`, contact)
			p.typeInto(`[data-testid="field-phones"]`, "13800001234")
			p.click(`[data-testid="form-save"]`)
			p.waitFor("the contact is listed as the primary one", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="contact-row"]')]
				.some((r) => r.textContent.includes(%s) && r.textContent.includes('13800001234') && r.textContent.includes('主联系人'))`, jsString(contact)))

			// 跟进记录: a visit with a result and the next follow-up time.
			content := "上门演示产品" + suffix
			p.click(`[data-testid="tab-followups"]`)
			p.waitText(`[data-testid="tab-panel"]`, "还没有跟进记录")
			p.click(`[data-testid="followup-add"]`)
			p.setValue(`[data-testid="field-method"]`, "visit")
			p.typeInto(`[data-testid="field-content"]`, content)
			p.typeInto(`[data-testid="field-result"]`, "客户有意向")
			p.setValue(`[data-testid="field-next_follow_at"]`, "2030-01-15T10:00")
			p.click(`[data-testid="form-save"]`)
			p.waitFor("the follow-up is listed", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="followup-row"]')]
				.some((r) => r.textContent.includes(%s) && r.textContent.includes('拜访') && r.textContent.includes('客户有意向'))`, jsString(content)))
			p.waitText(`[data-testid="summary-next_follow_at"]`, "2030-01-15 10:00")

			// 动态: the follow-up and the contact, in words.
			p.click(`[data-testid="tab-timeline"]`)
			p.waitText(`[data-testid="timeline-entry"]`, a.Name+" 添加了跟进记录：拜访 — "+content)
			p.waitText(`[data-testid="timeline-entry"]`, a.Name+" 添加了联系人："+contact)
			p.click(`[data-testid="tab-info"]`)
			p.waitText(`[data-testid="detail-next_follow_at"]`, "2030-01-15 10:00")

			// 销售机会: two of a product, from the customer's page.
			title := "机会" + suffix
			p.click(`[data-testid="tab-opportunities"]`)
			p.click(`[data-testid="cust-opportunity-add"]`)
			p.waitText(`[data-testid="picker-chosen"]`, customerName)
			p.typeInto(`[data-testid="field-title"]`, title)
			p.click(`[data-testid="line-add"]`)
			p.setValue(`[data-testid="line-product"]`, strconv.FormatInt(product.ID, 10))
			p.clearAndType(`[data-testid="line-quantity"]`, "2")
			amount := yuan(2 * product.PriceFen)
			p.waitText(`[data-testid="lines-total"]`, amount)
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="opp-title"]`, title)
			p.waitText(`[data-testid="opp-amount"]`, amount)
			p.waitText(`[data-testid="stage-track"] .is-current`, "初步接洽")
			opp := p.eval(`document.querySelector('[data-testid="opportunity-detail"]').dataset.id`)

			// The pipeline: the card sits in the first stage.
			p.nav("opportunities")
			card := fmt.Sprintf(`[data-testid="pipeline-card"][data-id="%s"]`, opp)
			column := func(code string) string {
				return fmt.Sprintf(`[data-testid="pipeline-column"][data-stage-code="%s"]`, code)
			}
			p.waitFor("the card is in 初步接洽", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(column("initial")+" "+card)))
			wonBefore, _ := strconv.Atoi(p.eval(`document.querySelector('[data-testid="pipeline-won-count"]').textContent`))
			if vp.drag {
				// Drag it to 需求确认: the column takes it and counts it.
				p.do("drag the card to 需求确认", chromedp.DragAndDrop(chromedp.CSS(card), chromedp.CSS(column("needs"))))
				p.waitFor("the card moved to 需求确认", fmt.Sprintf(`!!document.querySelector(%s) && !document.querySelector(%s)`,
					jsString(column("needs")+" "+card), jsString(column("initial")+" "+card)))
				p.waitText(column("needs")+` [data-testid="column-count"]`, "1")
				p.waitText(column("needs")+` [data-testid="column-amount"]`, amount)
				// Then onto 赢单.
				p.do("drag the card to 赢单", chromedp.DragAndDrop(chromedp.CSS(card), chromedp.CSS(`[data-testid="pipeline-drop-won"]`)))
			} else {
				// 移动到… then 需求确认, then 移动到… then 赢单.
				p.click(card + ` [data-testid="card-move"]`)
				p.click(`[data-testid="stage-option-needs"]`)
				p.waitFor("the card moved to 需求确认", fmt.Sprintf(`!!document.querySelector(%s) && !document.querySelector('.overlay')`, jsString(column("needs")+" "+card)))
				p.waitText(column("needs")+` [data-testid="column-amount"]`, amount)
				p.click(card + ` [data-testid="card-move"]`)
				p.click(`[data-testid="stage-option-won"]`)
			}
			// 赢单 offers 生成销售数据, which opens the new sale.
			p.waitText(`[data-testid="won-dialog"]`, amount)
			p.waitFor("the card left the board", fmt.Sprintf(`!document.querySelector(%s)`, jsString(card)))
			p.waitFor("赢单 counts it", fmt.Sprintf(`document.querySelector('[data-testid="pipeline-won-count"]').textContent === '%d'`, wonBefore+1))
			p.click(`[data-testid="won-make-sale"]`)
			p.waitText(`[data-testid="sale-amount"]`, amount)
			p.waitText(`[data-testid="sale-customer"]`, customerName)
			p.waitText(`[data-testid="sale-opportunity"]`, title)
			sale := p.eval(`document.querySelector('[data-testid="sale-detail"]').dataset.id`)

			// 销售数据: this month's list has it with the amount, and the totals count it.
			p.nav("sales")
			p.waitFor("the sale is listed with its amount", fmt.Sprintf(`(() => {
				const row = document.querySelector('[data-testid="sale-row"][data-id="%s"]');
				return !!row && row.textContent.includes(%s) && row.querySelector('[data-testid="sale-row-amount"]').textContent === %s;
			})()`, sale, jsString(customerName), jsString(amount)))
			p.waitFor("the totals count the sale", `Number(document.querySelector('[data-testid="sale-total-count"]').textContent) >= 1 &&
				document.querySelector('[data-testid="sale-total-amount"]').textContent.startsWith('¥')`)

			// 释放到公海 with a reason: the customer leaves the salesperson's list.
			p.goTo("#/customers/" + id)
			p.click(`[data-testid="customer-release"]`)
			p.typeInto(`[data-testid="field-reason"]`, "客户暂无预算")
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="toast"]`, "公海")
			p.waitFor("back on the customer list", `location.hash === '#/customers' && !!document.querySelector('[data-testid="customer-search"]')`)
			p.noExceptions()

			// Another salesperson finds it in 公海 and claims it.
			p.click(`[data-testid="logout"]`)
			p.login(b.UserID)
			p.nav("pool")
			p.typeInto(`[data-testid="pool-search"]`, suffix)
			row := fmt.Sprintf(`[data-testid="pool-row"][data-id="%s"]`, id)
			p.waitFor("the released customer is in the pool with the reason", fmt.Sprintf(`(() => {
				const rows = [...document.querySelectorAll('[data-testid="pool-row"]')];
				const r = document.querySelector(%s);
				return rows.length === 1 && !!r && r.textContent.includes(%s) && r.textContent.includes('客户暂无预算') && r.textContent.includes(%s);
			})()`, jsString(row), jsString(customerName), jsString(a.Name)))
			p.click(row + ` [data-testid="pool-claim"]`)
			p.waitText(`[data-testid="toast"]`, "已领取")
			p.click(row + ` [data-testid="pool-claimed-link"]`)
			p.waitText(`[data-testid="detail-name"]`, customerName)
			p.waitText(`[data-testid="summary-owner"]`, b.Name)
			p.click(`[data-testid="tab-timeline"]`)
			p.waitText(`[data-testid="timeline-entry"]`, b.Name+" 从公海领取了客户")
			p.waitText(`[data-testid="timeline-entry"]`, a.Name+" 将客户退回公海")
			p.noExceptions()
		})
	}
}

type simPerson struct{ UserID, Name string }

// salespeople lists the simulated organization's plain salespeople (销售).
func salespeople(t *testing.T, srv *apptest.Server) []simPerson {
	t.Helper()
	c := srv.Anonymous(t)
	c.Lang = "zh-CN"
	var out struct {
		Users []struct {
			UserID string   `json:"userid"`
			Name   string   `json:"name"`
			Roles  []string `json:"roles"`
		} `json:"users"`
	}
	if st := c.Do("GET", "/api/v1/auth/dev-users", nil, &out); st != 200 {
		t.Fatalf("GET /auth/dev-users: status %d", st)
	}
	var list []simPerson
	for _, u := range out.Users {
		if slices.Equal(u.Roles, []string{"销售"}) {
			list = append(list, simPerson{u.UserID, u.Name})
		}
	}
	if len(list) < 2 {
		t.Fatalf("the simulated organization needs two salespeople; dev-users gave %+v", out.Users)
	}
	return list
}

type catalogueProduct struct {
	ID       int64 `json:"id"`
	PriceFen int64 `json:"unit_price_fen"`
}

// pickProduct takes the catalogue's first active product with a price.
func pickProduct(t *testing.T, srv *apptest.Server, userid string) catalogueProduct {
	t.Helper()
	var out struct{ Items []catalogueProduct }
	if st := srv.Login(t, userid).Do("GET", "/api/v1/products?active=true", nil, &out); st != 200 {
		t.Fatalf("GET /products: status %d", st)
	}
	for _, p := range out.Items {
		if p.PriceFen > 0 {
			return p
		}
	}
	t.Fatalf("no priced product in the catalogue: %+v", out.Items)
	return catalogueProduct{}
}

// yuan shows fen as the app does: ¥12,345.67.
func yuan(fen int64) string {
	s := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("¥%s.%02d", b.String(), fen%100)
}
