package e2e

import (
	"fmt"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestFollowupsPage: 跟进记录 lists a salesperson's follow-ups across
// customers, newest first, narrows by method, and is where the performance
// report's follow-up figure drills down to — on a phone and a desktop.
func TestFollowupsPage(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	c := srv.Login(t, "sim_s1")
	for i, m := range []string{"phone", "visit", "phone"} {
		var cust struct{ ID int64 }
		if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("跟进页客户%d", i)}, &cust); st != 201 {
			t.Fatalf("customer: %d", st)
		}
		if st := c.Do("POST", "/api/v1/followups", map[string]any{"customer_id": cust.ID,
			"followed_at": fmt.Sprintf("2026-03-%02dT02:00:00Z", 10+i), "method": m, "content": fmt.Sprintf("跟进内容%d", i)}, nil); st != 201 {
			t.Fatalf("follow-up: %d", st)
		}
	}
	rows := `document.querySelectorAll('[data-testid="followup-row"]')`
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_s1")
			p.goTo("#/followups")
			p.waitFor("three follow-ups, newest first", rows+`.length === 3 && `+rows+`[0].textContent.includes('跟进内容2')`)
			p.waitText(`[data-testid="followup-list-total"]`, "3")
			p.waitFor("each row names its customer", rows+`[2].querySelector('a[href^="#/customers/"]')?.textContent === '跟进页客户0'`)
			p.setValue(`[data-testid="followup-method"]`, "visit")
			p.waitFor("only the visit", rows+`.length === 1 && `+rows+`[0].textContent.includes('跟进内容1')`)

			p.goTo("#/reports/performance?from=2026-03-01&to=2026-03-31")
			p.click(`[data-testid="report-kpi"][data-key="followups"]`)
			p.waitFor("the drilled list", `location.hash === '#/followups' && document.querySelector('[data-testid="followup-from"]')?.value === '2026-03-01'`)
			p.waitFor("all three again", rows+`.length === 3`)
			p.noExceptions()
		})
	}
}
