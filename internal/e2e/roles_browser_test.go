package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestRolesMatrix: on a 375 px phone the admin opens 权限管理, the matrix
// scrolls sideways with the module column pinned, and unticking 客户 × 新建
// for 销售 takes 新建客户 away from a salesperson on their next page load;
// ticking it again gives it back.
func TestRolesMatrix(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	s1 := openPage(t, browserCtx, srv.URL, 1280, 800)
	s1.login("sim_s1")
	s1.waitFor("新建客户 for a salesperson", `!!document.querySelector('[data-testid="customer-add"]')`)

	admin := openPage(t, browserCtx, srv.URL, 375, 740)
	admin.login("sim_admin")
	admin.nav("roles")
	admin.click(`[data-testid="role-item-sales"]`)
	admin.waitText(`[data-testid="role-name"]`, "销售")
	admin.waitFor("the sales role holds customer.create", `document.querySelector('[data-testid="perm-customer-create"]')?.checked === true && document.querySelector('[data-testid="role-name"]').textContent === '销售'`)
	if got := admin.eval(`(() => { const m = document.querySelector('[data-testid="role-matrix"]'); return String(m.scrollWidth > m.clientWidth && document.documentElement.scrollWidth <= window.innerWidth + 1); })()`); got != "true" {
		t.Errorf("at 375 px the matrix should scroll inside its box, not the page: %s", got)
	}
	if got := admin.eval(`getComputedStyle(document.querySelector('[data-testid="role-matrix"] tbody th')).position`); got != "sticky" {
		t.Errorf("module column position %q, want sticky", got)
	}

	toggle := func(want bool) {
		admin.eval(`String(document.querySelector('[data-testid="perm-customer-create"]').click())`)
		admin.click(`[data-testid="role-save"]`)
		admin.waitText(`[data-testid="toast"]`, "已保存")
		admin.waitFor("the matrix redrawn", `document.querySelector('[data-testid="perm-customer-create"]')?.checked === `+map[bool]string{true: "true", false: "false"}[want])
	}
	toggle(false)
	s1.do("reload", chromedp.Reload())
	s1.waitFor("the customer list", `!!document.querySelector('[data-testid="customer-search"]')`)
	if got := s1.eval(`String(!!document.querySelector('[data-testid="customer-add"]'))`); got != "false" {
		t.Errorf("新建客户 still shown after customer.create was removed")
	}

	toggle(true)
	s1.do("reload", chromedp.Reload())
	s1.waitFor("新建客户 back", `!!document.querySelector('[data-testid="customer-add"]')`)
	admin.noExceptions()
	s1.noExceptions()
}
