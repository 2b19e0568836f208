package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// The login-free path inside DingTalk cannot be driven here honestly:
// dd.runtime.permission.requestAuthCode talks to the DingTalk client's native
// bridge, which headless Chromium does not have, and apptest runs the
// simulated mode, where the page keeps the picker even inside DingTalk. So
// this file drives what a real browser can: the web OAuth login through the
// fake DingTalk's authorize page, the refusal page, and a DingTalk user agent
// in simulated mode (picker, no jsapi) plus the vendored bundle loading.

const dingTalkUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/123 Channel/201200 language/zh-Hans-CN"

func startBrowser(t *testing.T) context.Context {
	t.Helper()
	chromiumPath := chromium()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the browser %s is missing", chromiumPath)
		}
		t.Skipf("the browser %s is missing; skipping the browser tests", chromiumPath)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browserCtx
}

// as makes the tab send this user agent and Accept-Language from now on
// ("" keeps the browser's user agent).
func as(ua, lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if ua == "" {
			v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
			if err != nil {
				return err
			}
			ua = v
		}
		_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang})
		return err
	})
}

// waitAfterNavigation polls a predicate across page loads (chromedp's Poll
// fails once the page it started in goes away); errors count as "not yet".
func (p *page) waitAfterNavigation(what, predicate string) {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("wait until %s: %v\n%s", what, err, p.describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDingTalkLoginBrowser(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	fake := srv.App.FakeDingTalk

	// 钉钉网页登录 against the simulated DingTalk: our redirect, the fake's
	// authorize page (a person is clicked, as if they scanned), the callback,
	// and the app signed in as that person.
	t.Run("oauth-through-the-fake", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 1280, 800)
		p.click(`[data-testid="login-sim-oauth"]`)
		p.waitAfterNavigation("the fake's authorize page", fmt.Sprintf(`location.href.startsWith(%s) && !!document.querySelector('a[href*="login_as=sim_s1"]')`,
			jsString(fake.URL()+"/oauth2/auth?")))
		p.click(`a[href*="login_as=sim_s1"]`)
		p.waitAfterNavigation("the customer list after the OAuth login", `location.hash === '#/customers' && !!document.querySelector('[data-testid="customer-search"]')`)
		p.waitText(`[data-testid="me-name"]`, "王芳")
		p.noExceptions()
	})

	// A forged callback: a localized refusal page, no session, and a way back.
	for _, tt := range []struct{ lang, title, message string }{
		{"zh-CN", "无法登录", "登录请求无效或已过期"},
		{"en", "Cannot sign in", "This sign-in request is invalid or has expired"},
	} {
		t.Run("refusal-page-"+tt.lang, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, 375, 812)
			p.do("open a forged callback", as("", tt.lang),
				chromedp.Navigate(srv.URL+"/auth/dingtalk/callback?state=forged&code=x"))
			p.waitText(`h1`, tt.title)
			p.waitText(`[data-testid="refusal-message"]`, tt.message)
			if got := p.eval(`document.documentElement.lang + " " + document.querySelector('[data-testid="login-refused"]').dataset.code`); got != tt.lang+" auth.bad_state" {
				t.Errorf("lang and code: %q", got)
			}
			p.click(`[data-testid="back-to-login"]`)
			p.waitAfterNavigation("the login page, still signed out", `location.hash === '#/login' && !!document.querySelector('[data-testid="login-user-sim_s1"]') && !document.querySelector('[data-testid="me-name"]')`)
			p.noExceptions()
		})
	}

	// Inside DingTalk's user agent the simulated mode keeps the picker (a real
	// client's code cannot be exchanged with the simulated organization) and
	// loads no jsapi; the vendored bundle itself loads and exposes dd.
	t.Run("dingtalk-user-agent-in-simulated-mode", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 375, 812)
		p.do("reopen as the DingTalk client", as(dingTalkUA, "zh-CN"), chromedp.Navigate(srv.URL+"/?from=dingtalk#/login"))
		p.waitFor("the picker", `navigator.userAgent.includes('DingTalk') && !!document.querySelector('[data-testid="login-user-sim_s1"]')`)
		if got := p.eval(`String(!!document.querySelector('script[src*="dingtalk-jsapi"]')) + " " + typeof window.dd + " " + !!document.querySelector('[data-testid="login-dt-client"]')`); got != "false undefined false" {
			t.Errorf("jsapi script, window.dd, client-login card = %q; want the picker only", got)
		}
		p.do("load the vendored bundle", chromedp.Evaluate[chromedp.Void](`new Promise((ok, fail) => {
			const s = document.createElement('script');
			s.src = '/assets/vendor/dingtalk-jsapi.js';
			s.onload = ok; s.onerror = () => fail(new Error('bundle did not load'));
			document.head.appendChild(s);
		})`, chromedp.EvalAwaitPromise))
		if got := p.eval(`typeof dd.runtime.permission.requestAuthCode + " " + typeof dd.ready + " " + typeof dd.env`); got != "function function object" {
			t.Errorf("the bundle's dd: %q", got)
		}
		p.noExceptions()
	})
}
