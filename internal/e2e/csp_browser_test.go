package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// cspRecorder runs in every document before the app's own scripts and
// keeps every Content-Security-Policy violation the browser reports.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`

// TestCSPKept visits every main page of the web app as an admin (the
// home list, a customer, the pipeline, reports with their charts, the
// settings, reminders, jobs, system pages and the rest of the navigation)
// and fails on any Content-Security-Policy violation: the policy
// (script-src 'self', no inline scripts, no foreign origins) only
// protects people if the app itself never needs an exception to it.
func TestCSPKept(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	var customerID int64
	admin := srv.Login(t, "sim_admin")
	var list struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st := admin.Do("GET", "/api/v1/customers?page_size=1", nil, &list); st != 200 || len(list.Items) == 0 {
		t.Fatalf("a demo customer: %d %v", st, list)
	}
	customerID = list.Items[0].ID

	p := openPage(t, browserCtx, srv.URL, 1280, 800)
	var mu sync.Mutex
	var logged []string // the browser's own console reports, a second witness
	messages := chromedp.Console(p.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				logged = append(logged, m.Text)
				mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	p.do("reload with the recorder", chromedp.Navigate(srv.URL+"/?recorder=1#/login")) // another URL: a new document
	p.login("sim_admin")

	// The recorder works: an inline script (which the policy forbids) is
	// reported, and then forgotten.
	p.eval(`(() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.head.appendChild(s); return 'ok'; })()`)
	p.waitFor("the planted inline script reported", `window.__csp.some((v) => v.startsWith('script-src'))`)
	if got := p.eval(`String(typeof window.__inline)`); got != "undefined" {
		t.Errorf("an inline script ran under the policy: typeof window.__inline = %s", got)
	}
	p.eval(`String(window.__csp.length = 0)`)

	loaded := func(hash string) string {
		return fmt.Sprintf(`(() => {
			const m = document.querySelector('main#content');
			return location.hash === %s && !!m && !m.querySelector('.loading') && m.querySelectorAll('[data-testid]').length > 0;
		})()`, jsString(hash))
	}
	pages := []struct{ hash, ready string }{
		{"#/customers", `!!document.querySelector('[data-testid="customer-total"]')?.textContent`},
		{fmt.Sprintf("#/customers/%d", customerID), `!!document.querySelector('[data-testid="detail-name"]')?.textContent`},
		{fmt.Sprintf("#/customers/%d/edit", customerID), `!!document.querySelector('[data-testid="field-name"]')`},
		{"#/customers/new", `!!document.querySelector('[data-testid="field-name"]')`},
		{"#/pipeline", `!!document.querySelector('[data-testid="pipeline-board"]')`},
		{"#/reports", `!!document.querySelector('[data-testid="report-type-sales"]')`},
		{"#/reports/sales", `document.querySelectorAll('[data-testid="report-chart"]').length > 0 && ` + chartsDrawn(-1)},
		{"#/reports/funnel", `document.querySelectorAll('[data-testid="report-chart"]').length > 0 && ` + chartsDrawn(-1)},
		{"#/settings", `!!document.querySelector('[data-testid="settings-jump"]')`},
		{"#/reminders", ""}, {"#/inbox", ""}, {"#/jobs", ""},
		{"#/system", `!!document.querySelector('[data-testid="system-info"]')`},
		{"#/sales", ""}, {"#/pool", ""}, {"#/pool/rules", ""}, {"#/duplicates", ""}, {"#/targets", ""},
		{"#/recycle", ""}, {"#/users", ""}, {"#/roles", ""}, {"#/dingtalk", ""}, {"#/audit", ""},
		{"#/customers/import", ""},
	}
	for _, pg := range pages {
		p.goTo(pg.hash)
		p.waitFor(pg.hash+" drawn", loaded(pg.hash))
		if pg.ready != "" {
			p.waitFor(pg.hash+" ready", pg.ready)
		}
		if v := p.eval(`window.__csp.join('\n')`); v != "" {
			t.Errorf("%s broke the Content-Security-Policy:\n%s", pg.hash, v)
			p.eval(`String(window.__csp.length = 0)`)
		}
	}
	// A full load of a deep link too (the page's first paint, fonts, icons).
	p.do("reload a report", chromedp.Navigate(srv.URL+"/?reload=1#/reports/sales"))
	p.waitFor("the reloaded report's charts", `document.querySelectorAll('[data-testid="report-chart"]').length > 0 && `+chartsDrawn(-1))
	if v := p.eval(`window.__csp.join('\n')`); v != "" {
		t.Errorf("a fresh load broke the Content-Security-Policy:\n%s", v)
	}
	mu.Lock()
	defer mu.Unlock()
	// The planted script is the one violation the console may show.
	var other []string
	for _, l := range logged {
		if !strings.Contains(l, "inline script") || len(other) > 0 {
			other = append(other, l)
		}
	}
	if len(logged) == 0 {
		t.Error("the console never reported the planted inline script: is the console being read?")
	}
	if len(other) > 0 {
		t.Errorf("the console reported Content-Security-Policy violations:\n%s", strings.Join(other, "\n"))
	}
	p.noExceptions()
}
