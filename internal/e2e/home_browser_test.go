package e2e

import (
	"fmt"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestHomeAttainmentStrip: the customer list (the page everyone lands on)
// shows this month's target attainment to people with a target: a manager
// sets sim_s1's target and their department's through the API, sim_s1 sells,
// and the strip shows the right amounts and percentage to sim_s1 (their own)
// and to sim_mgr1 (the department), at 375 px and on a desktop, opening
// 业绩目标 when tapped. sim_s2, a salesperson without a target, sees no strip;
// sim_mgr2, a manager without targets, sees only the discreet 未设置本月目标.
func TestHomeAttainmentStrip(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	admin, mgr1, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_mgr1"), srv.Login(t, "sim_s1")

	var me struct{ ID int64 }
	if st := s1.Do("GET", "/api/v1/me", nil, &me); st != 200 || me.ID == 0 {
		t.Fatalf("me: %d %+v", st, me)
	}
	var depts struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if st := admin.Do("GET", "/api/v1/departments", nil, &depts); st != 200 {
		t.Fatalf("departments: %d", st)
	}
	var d1 int64
	for _, d := range depts.Items {
		if d.Name == "销售一部" {
			d1 = d.ID
		}
	}
	if d1 == 0 {
		t.Fatalf("no 销售一部 in %+v", depts.Items)
	}
	var period struct {
		From string `json:"from"`
	}
	if st := s1.Do("GET", "/api/v1/targets/attainment?period=month", nil, &period); st != 200 || len(period.From) < 7 {
		t.Fatalf("attainment: %d %+v", st, period)
	}
	month := period.From[:7]
	const userTarget, deptTarget = int64(100000), int64(200000)
	for _, it := range []struct {
		kind string
		id   int64
		fen  int64
	}{{"user", me.ID, userTarget}, {"department", d1, deptTarget}} {
		body := map[string]any{"items": []map[string]any{{"kind": it.kind, "subject_id": it.id, "month": month, "amount_fen": it.fen}}}
		if st := mgr1.Do("PUT", "/api/v1/targets", body, nil); st != 200 {
			t.Fatalf("set the %s target: %d", it.kind, st)
		}
	}
	var cust struct{ ID int64 }
	if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "首页目标客户"}, &cust); st != 201 {
		t.Fatalf("create a customer: %d", st)
	}
	var sold int64
	for _, fen := range []int64{25000, 12345} {
		sold += fen
		if st := s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": cust.ID, "sale_date": period.From, "amount_fen": fen}, nil); st != 201 {
			t.Fatalf("sale: %d", st)
		}
	}
	// 373.45 / 1,000.00 = 37.3%; 373.45 / 2,000.00 = 18.7% (one decimal, as the cards show it).
	const strip = `[data-testid="home-attainment"]`
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			for _, c := range []struct {
				user, scope, pct string
				target           int64
			}{
				{"sim_s1", "user", "37.3%", userTarget},
				{"sim_mgr1", "department", "18.7%", deptTarget},
			} {
				p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
				p.login(c.user)
				item := fmt.Sprintf(`%s [data-testid="home-attain-item"][data-scope="%s"]`, strip, c.scope)
				p.waitFor(c.user+"'s strip shown", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === 'shown' && !!document.querySelector(%s)?.offsetParent`, jsString(strip), jsString(item)))
				p.waitText(item+` .attain-pct`, c.pct)
				p.waitText(item+` .attain-nums`, yuan(sold)+" / "+yuan(c.target))
				if n := p.eval(fmt.Sprintf(`String(document.querySelectorAll(%s).length)`, jsString(strip+` [data-testid="home-attain-item"]`))); n != "1" {
					t.Errorf("%s: %s strip lines, want 1 (only subjects with a target)", c.user, n)
				}
				if p.eval(`String(document.documentElement.scrollWidth > window.innerWidth)`) != "false" {
					t.Errorf("%s: the customer list scrolls sideways at %d px with the strip", c.user, vp.width)
				}
				// The strip sits above the list's toolbar and is no taller than a compact strip.
				if p.eval(fmt.Sprintf(`String(document.querySelector(%s).getBoundingClientRect().bottom <= document.querySelector('[data-testid="customer-search"]').getBoundingClientRect().top && document.querySelector(%s).getBoundingClientRect().height < 120)`, jsString(strip), jsString(strip))) != "true" {
					t.Errorf("%s: the strip is not a compact line above the list at %d px", c.user, vp.width)
				}
				p.shot(vp.name + "-home-attainment-" + c.scope)
				p.click(strip)
				p.waitFor("业绩目标 opened from the strip", `location.hash.startsWith('#/targets') && document.querySelectorAll('[data-testid="target-row"]').length > 0`)
				p.noExceptions()
			}

			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_s2")
			p.waitFor("sim_s2's attainment looked up", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === 'empty'`, jsString(strip)))
			p.waitFor("the customer list drawn", `!!document.querySelector('[data-testid="customer-total"]')?.textContent`)
			if p.eval(fmt.Sprintf(`String(!!document.querySelector(%s).offsetParent)`, jsString(strip))) != "false" {
				t.Errorf("a salesperson without a target sees the strip")
			}
			p.noExceptions()

			p = openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_mgr2")
			p.waitFor("sim_mgr2's 未设置本月目标", fmt.Sprintf(`document.querySelector(%s)?.dataset.state === 'unset' && !!document.querySelector('[data-testid="home-attainment-unset"]')?.offsetParent`, jsString(strip)))
			p.waitText(`[data-testid="home-attainment-unset"]`, "未设置本月目标")
			if n := p.eval(`String(document.querySelectorAll('[data-testid="home-attain-item"]').length)`); n != "0" {
				t.Errorf("a manager without targets sees %s attainment lines", n)
			}
			p.noExceptions()
		})
	}
}
