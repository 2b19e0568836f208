// Package e2e drives the web app in a real browser (Debian's chromium, headless)
// against the whole CRM started in-process.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// chromium is the browser: CRM_TEST_CHROMIUM (see the README), else Debian's chromium.
func chromium() string {
	if p := os.Getenv("CRM_TEST_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// stepTimeout bounds every single browser step; a whole walk takes a few seconds.
const stepTimeout = 10 * time.Second

// TestBrowser walks the customer lifecycle as people do it: a salesperson adds,
// finds, edits and deletes a customer; the admin restores it from the recycle
// bin. It runs at the DingTalk phone size and at a desktop size, and checks that
// a customer name made of HTML shows as text.
// viewports are the two screens every page is tried on: a phone (the
// DingTalk webview at 375 px) and a desktop.
var viewports = []struct {
	name          string
	width, height int64
}{{"phone", 375, 812}, {"desktop", 1280, 800}}

func TestBrowser(t *testing.T) {
	chromiumPath := chromium()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the browser %s is missing: install Debian's chromium package or set CRM_TEST_CHROMIUM", chromiumPath)
		}
		t.Skipf("the browser %s is missing (apt-get install chromium, or set CRM_TEST_CHROMIUM); skipping the browser tests", chromiumPath)
	}
	srv := apptest.Start(t)
	sales, admin := simulatedPeople(t, srv)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.WindowSize(1280, 800),
		)...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser once for all subtests
		t.Fatalf("start chromium: %v", err)
	}

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			suffix := fmt.Sprintf("%s%06d", vp.name, time.Now().UnixNano()%1_000_000)
			name := "浏览器测试" + suffix
			newPhone := fmt.Sprintf("139%08d", time.Now().UnixNano()%100_000_000)

			// A salesperson logs in and lands on the customer list.
			p.login(sales)

			// 添加客户
			p.click(`[data-testid="customer-add"]`)
			p.typeInto(`[data-testid="field-name"]`, name)
			p.typeInto(`[data-testid="field-phone"]`, "13912345678")
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="detail-name"]`, name)
			id := p.eval(`document.querySelector('[data-testid="customer-detail"]').dataset.id`)

			// Search for part of the name: the new customer is listed, and every row matches.
			p.click(`[data-testid="nav-customers"]`)
			p.typeInto(`[data-testid="customer-search"]`, suffix)
			p.waitFor("the search result lists only the new customer", fmt.Sprintf(`(() => {
				const rows = [...document.querySelectorAll('[data-testid="customer-row"]')];
				return rows.length > 0 && rows.every((r) => r.textContent.includes(%s)) &&
					rows.some((r) => r.dataset.id === %s && r.textContent.includes(%s));
			})()`, jsString(suffix), jsString(id), jsString(name)))
			p.waitFor("the total is shown", `/\d/.test(document.querySelector('[data-testid="customer-total"]').textContent)`)

			// Open it and edit its phone.
			p.click(fmt.Sprintf(`[data-testid="customer-row"][data-id="%s"]`, id))
			p.waitText(`[data-testid="detail-name"]`, name)
			p.waitText(`[data-testid="detail-phone"]`, "13912345678")
			p.click(`[data-testid="customer-edit"]`)
			p.waitFor("the edit form holds the old phone", `document.querySelector('[data-testid="field-phone"]')?.value === "13912345678"`)
			p.clearAndType(`[data-testid="field-phone"]`, newPhone)
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="detail-phone"]`, newPhone)

			// 删除, confirmed: it leaves the list for the recycle bin.
			p.click(`[data-testid="customer-delete"]`)
			p.waitText(`.modal`, "回收站")
			p.click(`[data-testid="confirm-ok"]`)
			p.waitText(`[data-testid="toast"]`, "回收站")
			p.waitFor("the list is back without the deleted customer", fmt.Sprintf(`(() => {
				const total = document.querySelector('[data-testid="customer-total"]');
				return location.hash === '#/customers' && total && /\d/.test(total.textContent) &&
					!document.querySelector('[data-testid="customer-row"][data-id="%s"]');
			})()`, id))

			// Log out; the admin logs in and restores it from the recycle bin.
			p.click(`[data-testid="logout"]`)
			p.login(admin)
			p.nav("recycle")
			p.waitFor("the deleted customer is in the recycle bin", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="recycle-row"]')]
				.some((r) => r.dataset.id === %s && r.textContent.includes(%s))`, jsString(id), jsString(name)))
			p.click(fmt.Sprintf(`[data-testid="restore-%s"]`, id))
			p.waitText(`[data-testid="toast"]`, name)
			p.waitFor("the restored customer left the recycle bin", fmt.Sprintf(`!document.querySelector('[data-testid="restore-%s"]')`, id))

			// It is back in the customer list.
			p.click(`[data-testid="nav-customers"]`)
			p.typeInto(`[data-testid="customer-search"]`, suffix)
			p.waitFor("the restored customer is listed again", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="customer-row"]')]
				.some((r) => r.dataset.id === %s && r.textContent.includes(%s) && r.textContent.includes(%s))`, jsString(id), jsString(name), jsString(newPhone)))
			p.noExceptions()
		})
	}

	t.Run("html-in-a-name-is-text", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 375, 812)
		const evil = `<img src=x onerror=window.__xss=1>`
		p.login(sales)
		p.click(`[data-testid="customer-add"]`)
		p.typeInto(`[data-testid="field-name"]`, evil)
		p.click(`[data-testid="form-save"]`)
		p.waitText(`[data-testid="detail-name"]`, evil)
		if got := p.eval(`document.querySelector('[data-testid="detail-name"]').textContent`); got != evil {
			t.Errorf("detail shows the name as %q, want it literally %q", got, evil)
		}
		p.click(`[data-testid="nav-customers"]`)
		p.typeInto(`[data-testid="customer-search"]`, "onerror")
		p.waitFor("the list shows the name literally", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="customer-name"]')]
			.some((n) => n.textContent === %s)`, jsString(evil)))
		if got := p.eval(`String(document.querySelectorAll('#app img').length) + " " + typeof window.__xss`); got != "0 undefined" {
			t.Errorf("img elements and typeof window.__xss = %q, want \"0 undefined\": the name was parsed as HTML", got)
		}
		p.noExceptions()
	})
}

// simulatedPeople picks a salesperson and an admin from the simulated organization.
func simulatedPeople(t *testing.T, srv *apptest.Server) (sales, admin string) {
	t.Helper()
	c := srv.Anonymous(t)
	c.Lang = "zh-CN"
	var out struct {
		Users []struct {
			UserID string   `json:"userid"`
			Roles  []string `json:"roles"`
		} `json:"users"`
	}
	if st := c.Do("GET", "/api/v1/auth/dev-users", nil, &out); st != 200 {
		t.Fatalf("GET /auth/dev-users: status %d", st)
	}
	for _, u := range out.Users {
		if sales == "" && slices.Equal(u.Roles, []string{"销售"}) {
			sales = u.UserID
		}
		if admin == "" && slices.Contains(u.Roles, "管理员") {
			admin = u.UserID
		}
	}
	if sales == "" || admin == "" {
		t.Fatalf("the simulated organization needs a salesperson (销售) and an admin (管理员); dev-users gave %+v", out.Users)
	}
	return sales, admin
}

// page is one browser tab with its own cookies, at one viewport size.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu         sync.Mutex
	exceptions []string

	// toastSeen is the stamp (data-seq, a time in ms) of the last toast a
	// waitText on the toast consumed: the toast element stays in the page
	// with its last text, so a second "已保存" must be a newer toast.
	toastSeen int
}

func openPage(t *testing.T, browserCtx context.Context, base string, width, height int64) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("open a tab at %dx%d: %v", width, height, err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				p.mu.Lock()
				p.exceptions = append(p.exceptions, m.Text)
				p.mu.Unlock()
			}
		}
	}()
	p.do("open the login page", chromedp.Navigate(base+"/#/login"))
	return p
}

// do runs steps with a timeout and fails the test with what the page shows.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v\n%s", what, err, p.describe())
	}
}

// describe tells what the page shows, for a failure message.
func (p *page) describe() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + "\n" + document.body.innerText.slice(0, 1500)`))
	if err != nil {
		return "(the page could not be read: " + err.Error() + ")"
	}
	return "the page at " + s
}

// click waits until the element is visible AND on top where it will be
// clicked — not under a toast or the phone's bottom bar — as a person would,
// then clicks it. (chromedp's own scroll leaves it at the viewport's edge, where
// the fixed bottom bar or a fading toast may take the click instead.)
func (p *page) click(sel string) {
	p.t.Helper()
	onTop := fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) return false;
		el.scrollIntoView({ block: 'center', inline: 'center' });
		const r = el.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return !!hit && (hit === el || el.contains(hit));
	})()`, jsString(sel))
	p.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Poll[chromedp.Void](onTop, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)), chromedp.Click(chromedp.CSS(sel)))
}

func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	p.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (p *page) clearAndType(sel, text string) {
	p.t.Helper()
	// chromedp.Clear empties the value attribute, not what was typed, and SetValue
	// cannot set "" (chromedp v0.23 drops the empty argument), so empty it by script.
	clear := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ""`, jsString(sel)))
	p.do("replace the text of "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// waitFor polls a JavaScript predicate until it is true.
func (p *page) waitFor(what, predicate string) {
	p.t.Helper()
	p.do("wait until "+what, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
}

// waitText waits until an element matching sel shows text containing want.
const toastSel = `[data-testid="toast"]`

func (p *page) waitText(sel, want string) {
	p.t.Helper()
	if sel == toastSel {
		p.waitToast(want)
		return
	}
	p.waitFor(fmt.Sprintf("%s shows %q", sel, want), fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.textContent.includes(%s))`, jsString(sel), jsString(want)))
}

// waitToast waits for a toast newer than the last one waited for that says want.
func (p *page) waitToast(want string) {
	p.t.Helper()
	newer := fmt.Sprintf(`(() => { const el = document.getElementById('toast'); return !!el && Number(el.dataset.seq) > %d && el.textContent.includes(%s); })()`, p.toastSeen, jsString(want))
	p.waitFor(fmt.Sprintf("a new toast saying %q", want), newer)
	fmt.Sscan(p.eval(`document.getElementById('toast').dataset.seq`), &p.toastSeen)
}

func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v\n%s", expr, err, p.describe())
	}
	return s
}

// login picks a person on the simulated login page.
func (p *page) login(userid string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`[data-testid="login-user-%s"]`, userid))
	p.waitFor("the customer list after login", `location.hash === '#/customers' && !!document.querySelector('[data-testid="customer-search"]')`)
	p.waitText(`[data-testid="sim-badge"]`, "模拟钉钉组织")
}

// nav opens a page from the navigation: the side nav on a desktop, the bottom
// bar on a phone, where the pages beyond the bar's five are under 更多.
func (p *page) nav(id string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[data-testid="nav-%s"]`, id)
	if p.eval(fmt.Sprintf(`String(!!document.querySelector(%s)?.offsetParent)`, jsString(sel))) != "true" {
		p.click(`[data-testid="nav-more"]`)
	}
	p.click(sel)
}

// goTo changes the hash route without reloading the app.
func (p *page) goTo(hash string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`String(location.hash = %s)`, jsString(hash)))
}

// setValue sets a form control's value by script (selects, date and time
// inputs, whose typing depends on the browser's locale) and fires input and change.
func (p *page) setValue(sel, value string) {
	p.t.Helper()
	p.do("set the value of "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.value = %s;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
	})()`, jsString(sel), jsString(value))))
}

// noExceptions fails the test when the page threw an uncaught exception.
func (p *page) noExceptions() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.exceptions) > 0 {
		p.t.Errorf("the page threw:\n%s", strings.Join(p.exceptions, "\n"))
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
