package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview/reportviewtest"
)

// reportStub replaces the page's fetch for /api/v1/reports/… with the given
// reports (by type) and logs every API call in window.__calls; downloads made
// through saveBlob are logged in window.__downloads. Test-only: the product has
// no fake reports.
func reportStub(t *testing.T, reports map[string]any) string {
	t.Helper()
	b, err := json.Marshal(reports)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`(() => {
		const reports = %s;
		window.__calls = [];
		window.__downloads = [];
		const realFetch = window.__realFetch || window.fetch;
		window.__realFetch = realFetch;
		window.fetch = (url, opts) => {
			window.__calls.push(String(url));
			const u = new URL(String(url), location.origin);
			const m = /^\/api\/v1\/reports\/(\w+)$/.exec(u.pathname);
			if (m && reports[m[1]]) {
				const format = u.searchParams.get('format');
				if (format) {
					const type = format === 'pdf' ? 'application/pdf' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
					return Promise.resolve(new Response(new Blob([format === 'pdf' ? '%%PDF-stub' : 'PK-stub'], { type }),
						{ status: 200, headers: { 'Content-Type': type, 'Content-Disposition': 'attachment; filename="r.' + format + '"' } }));
				}
				return Promise.resolve(new Response(JSON.stringify(reports[m[1]]), { status: 200, headers: { 'Content-Type': 'application/json' } }));
			}
			return realFetch(url, opts);
		};
		const realURL = URL.createObjectURL;
		URL.createObjectURL = (blob) => { window.__lastBlob = blob; return realURL(blob); };
		const realClick = HTMLAnchorElement.prototype.click;
		HTMLAnchorElement.prototype.click = function () {
			if (this.hasAttribute('download')) window.__downloads.push({ name: this.download, size: window.__lastBlob ? window.__lastBlob.size : 0, type: window.__lastBlob ? window.__lastBlob.type : '' });
			else realClick.call(this);
		};
		return 'ok';
	})()`, b)
}

// chartsDrawn is true when n report charts (any number when n < 0) have a
// canvas with pixels on it.
func chartsDrawn(n int) string {
	return fmt.Sprintf(`(() => {
		const boxes = [...document.querySelectorAll('[data-testid="report-chart"]')];
		if (%d >= 0 && boxes.length !== %d) return false;
		return boxes.every((b) => {
			const c = b.querySelector('canvas');
			if (!c || c.width === 0 || c.height === 0) return false;
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 3; i < d.length; i += 16) if (d[i] !== 0) return true;
			return false;
		});
	})()`, n, n)
}

// TestReportPages draws a report from a fixed report (every chart kind, four
// tables, KPI cards), at the phone size and the desktop size: charts on
// canvases that fit the screen, tables with totals, a row and a bar drilling
// down to the filtered sales list, and both exports downloading.
func TestReportPages(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	sales := reportviewtest.Sales(31)
	funnel := reportviewtest.Funnel()
	stub := reportStub(t, map[string]any{"sales": sales, "funnel": funnel})

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_mgr1")
			p.eval(stub)
			p.nav("reports")
			p.waitFor("the report chooser", `!!document.querySelector('[data-testid="report-type-sales"]')`)
			p.shot(vp.name + "-reports")
			p.click(`[data-testid="report-type-sales"]`)

			// KPI cards with their changes, the conditions, four charts drawn, four tables.
			p.waitFor("three KPI cards", `document.querySelectorAll('[data-testid="report-kpi"]').length === 3`)
			p.waitText(`[data-testid="report-kpi"][data-key="amount"]`, "环比 ▲ 12.5%")
			p.waitText(`[data-testid="report-kpi"][data-key="amount"]`, "同比 ▼ 3.2%")
			p.waitText(`[data-testid="report-conditions"]`, "部门: 销售一部")
			p.waitFor("four charts drawn on canvases", chartsDrawn(4))
			if got := p.eval(`[...document.querySelectorAll('[data-testid="report-chart"]')].map((b) => b.dataset.kind).join(',')`); got != "barline,bar,pie,line" {
				t.Errorf("chart kinds %q", got)
			}
			p.waitFor("every chart fits the screen", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="report-chart"] canvas')].every((c) => c.getBoundingClientRect().width <= %d)`, vp.width))
			p.waitFor("four tables", `document.querySelectorAll('[data-testid="report-table"]').length === 4`)
			p.waitFor("31 day rows", `document.querySelectorAll('[data-testid="report-table"][data-id="by_day"] [data-testid="report-row"]').length === 31`)
			total := sales.Tables[0].Totals["amount"].(int64)
			p.waitText(`[data-testid="report-table"][data-id="by_day"] [data-testid="report-totals"]`, "合计")
			p.waitText(`[data-testid="report-table"][data-id="by_day"] [data-testid="report-totals"]`, yuan(total))
			p.shot(vp.name + "-report-sales")
			if vp.width < 400 && p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`) != "true" {
				t.Errorf("the report page scrolls sideways at %d px", vp.width)
			}

			// Export: both downloads start with the report's conditions.
			p.click(`[data-testid="report-export-xlsx"]`)
			p.waitFor("the xlsx download", `window.__downloads.some((d) => d.name.endsWith('.xlsx') && d.size > 0)`)
			p.click(`[data-testid="report-export-pdf"]`)
			p.waitFor("the pdf download", `window.__downloads.some((d) => d.name.endsWith('.pdf') && d.size > 0)`)
			p.waitFor("the exports asked for the shown conditions", `window.__calls.some((u) => u.includes('/reports/sales?') && u.includes('format=xlsx') && u.includes('preset=this_month'))`)

			// A table row drills down to the sales of that day.
			day := sales.Tables[0].Rows[2].Cells["period"].(string)
			p.click(fmt.Sprintf(`[data-testid="report-table"][data-id="by_day"] [data-testid="report-row"]:nth-child(3)`))
			p.waitFor("the sales list for the day", fmt.Sprintf(`location.hash === '#/sales' && document.querySelector('[data-testid="sale-from"]')?.value === %s && document.querySelector('[data-testid="sale-to"]')?.value === %s`, jsString(day), jsString(day)))
			p.waitFor("the list was asked for that day", fmt.Sprintf(`window.__calls.some((u) => u.startsWith('/api/v1/sales?') && u.includes('from=%s') && u.includes('to=%s'))`, day, day))

			// A bar drills down: the 按销售人员 chart's first bar → owner_id=1 plus the period.
			p.goTo("#/reports/sales")
			p.waitFor("charts drawn again", chartsDrawn(4))
			xy := p.eval(`(() => {
				const box = document.querySelector('[data-testid="report-chart"][data-id="by_owner"]');
				box.scrollIntoView({ block: 'center' });
				const chart = echarts.getInstanceByDom(box);
				const v = chart.getOption().series[0].data[0];
				const top = chart.convertToPixel({ seriesIndex: 0 }, [0, v]);
				const bottom = chart.convertToPixel({ seriesIndex: 0 }, [0, 0]);
				const r = box.getBoundingClientRect();
				return JSON.stringify([r.left + top[0], r.top + (top[1] + bottom[1]) / 2]);
			})()`)
			var at [2]float64
			if err := json.Unmarshal([]byte(xy), &at); err != nil {
				t.Fatalf("bar position %q: %v", xy, err)
			}
			p.do("click the first bar", chromedp.MouseClickXY(at[0], at[1]))
			p.waitFor("the sales list of that salesperson", `location.hash === '#/sales' && window.__calls.some((u) => u.startsWith('/api/v1/sales?') && u.includes('owner_id=1&'))`)

			// Drill-downs into the customer and opportunity lists: the filters with a
			// control show in it, the others reach the API, with a notice.
			p.goTo("#/customers?source=referral&rfm_segment=important_value&department_ids=3,4&created_from=2026-11-01")
			p.waitFor("the customer list filtered", `location.hash === '#/customers' && document.querySelector('[data-testid="filter-source"]')?.value === 'referral' && document.querySelector('[data-testid="filter-rfm_segment"]')?.value === 'important_value'`)
			p.waitFor("the customer API asked with every filter", `window.__calls.some((u) => u.startsWith('/api/v1/customers?') && u.includes('source=referral') && u.includes('rfm_segment=important_value') && u.includes('department_ids=3%2C4') && u.includes('created_from=2026-11-01'))`)
			p.waitFor("the notice", `document.querySelector('[data-testid="drill-notice"]')?.dataset.keys === 'created_from,department_ids'`)
			p.goTo("#/opportunities?status=open&stage=2&department_ids=3")
			p.waitFor("the opportunity list filtered", `location.hash === '#/opportunities' && document.querySelector('[data-testid="opportunity-filter-status"]')?.value === 'open' && document.querySelector('[data-testid="opportunity-filter-stage"]')?.value === '2'`)
			p.waitFor("the opportunity API asked with every filter", `window.__calls.some((u) => u.startsWith('/api/v1/opportunities?') && u.includes('status=open') && u.includes('stage=2') && u.includes('department_ids=3'))`)
			p.click(`[data-testid="drill-clear"]`)
			p.waitFor("the list asked again without the report's department", `window.__calls.filter((u) => u.startsWith('/api/v1/opportunities?')).slice(-1)[0]?.includes('department_ids') === false`)

			// The funnel draws too.
			p.goTo("#/reports/funnel")
			p.waitFor("the funnel drawn", chartsDrawn(1))
			p.shot(vp.name + "-report-funnel")
			if got := p.eval(`document.querySelector('[data-testid="report-chart"]').dataset.kind`); got != "funnel" {
				t.Errorf("funnel chart kind %q", got)
			}
			p.noExceptions()
		})
	}
}

// shot saves a full-page screenshot as <CRM_SCREENSHOTS>/<name>.png when that
// variable is set (for a look at the report pages; see web/README.md).
func (p *page) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("CRM_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// TestTargetsPage: a manager types a department's January target into the
// month grid; it is saved (PUT /targets), the quarter and year roll up, and
// it is still there when the page is opened again. At 375 px and desktop.
func TestTargetsPage(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			year := 2030 + i // a year of its own per run
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_mgr1")
			p.goTo(fmt.Sprintf("#/targets?year=%d", year))
			p.waitFor("the targets grid", `document.querySelectorAll('[data-testid="target-row"]').length > 0`)
			row := `[data-testid="target-row"][data-scope="department"]`
			cell := row + ` [data-testid="target-1"]`
			p.click(cell)
			p.typeInto(cell, "12345.6")
			p.do("leave the cell", chromedp.KeyEvent("\r"))
			p.waitFor("the target saved", `document.querySelector('`+row+` [data-testid="target-1"]').closest('td').dataset.saved === 'true'`)
			p.waitText(row+` [data-testid="target-q1"]`, "¥12,345.60")
			p.waitText(row+` [data-testid="target-year"]`, "¥12,345.60")
			if vp.width < 400 && p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`) != "true" {
				t.Errorf("the targets page scrolls sideways at %d px (only the grid may)", vp.width)
			}
			p.shot(vp.name + "-targets")
			// Opened again, the grid reads it back from the server.
			p.goTo("#/reports")
			p.waitFor("the reports page", `!!document.querySelector('[data-testid="report-types"]')`)
			p.goTo(fmt.Sprintf("#/targets?year=%d", year))
			p.waitFor("the saved target read back", `document.querySelector('`+cell+`')?.value === '12345.60'`)
			p.noExceptions()
		})
	}
}

// TestReportPagesLive opens the sales report computed by the server from
// real sales: charts drawn, the table's totals equal to what was sold, a
// row drilling down to the sales list that shows exactly those sales, and
// the exports downloading a real .xlsx and .pdf.
func TestReportPagesLive(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	c := srv.Login(t, "sim_s1")
	var cust struct{ ID int64 }
	if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": "报表浏览器测试客户"}, &cust); st != 201 {
		t.Fatalf("create a customer: %d", st)
	}
	var me struct{ ID int64 }
	c.Do("GET", "/api/v1/me", nil, &me)
	var today struct {
		From string `json:"from"`
	}
	if st := c.Do("GET", "/api/v1/targets/attainment?period=month", nil, &today); st != 200 {
		t.Fatalf("attainment: %d", st)
	}
	amounts := []int64{123456, 50000, 7001}
	var sum int64
	for _, fen := range amounts {
		sum += fen
		if st := c.Do("POST", "/api/v1/sales", map[string]any{"customer_id": cust.ID, "sale_date": today.From, "amount_fen": fen}, nil); st != 201 {
			t.Fatalf("sale: %d", st)
		}
	}
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_s1")
			p.eval(reportStub(t, map[string]any{})) // logs calls and downloads only
			p.goTo("#/reports/sales?preset=this_month&group_by=day")
			p.waitFor("the charts drawn", `document.querySelectorAll('[data-testid="report-chart"]').length > 0 && `+
				chartsDrawn(-1))
			p.waitFor("a table", `document.querySelectorAll('[data-testid="report-table"]').length > 0`)
			p.waitText(`[data-testid="report-table"] [data-testid="report-totals"]`, yuan(sum))
			p.waitText(`[data-testid="report-kpi"]`, yuan(sum))
			p.shot(vp.name + "-report-live")

			p.click(`[data-testid="report-export-xlsx"]`)
			p.waitFor("a real .xlsx", `window.__downloads.some((d) => d.name.endsWith('.xlsx') && d.size > 1000 && d.type.includes('spreadsheetml'))`)
			p.click(`[data-testid="report-export-pdf"]`)
			p.waitFor("a real .pdf", `window.__downloads.some((d) => d.name.endsWith('.pdf') && d.size > 1000 && d.type === 'application/pdf')`)

			// The first day row with sales drills down to exactly those sales.
			p.click(`[data-testid="report-table"] [data-testid="report-row"][data-href]`)
			p.waitFor("the sales list", `location.hash === '#/sales'`)
			p.waitText(`[data-testid="sale-total-amount"]`, yuan(sum))
			p.waitFor("three sales listed", `document.querySelectorAll('[data-testid="sale-row"]').length === 3`)
			p.noExceptions()
		})
	}
}
