package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestDingTalkAdmin walks the 钉钉集成 page as the admin, at the phone size and
// at a desktop size: 立即同步 runs a sync of the simulated organization, which
// finds nothing to change (the summary says so, the history gains the row);
// 测试连接 answers ok; the org tree shows 王芳 under 销售一部 and a manually
// assigned role goes back to automatic; the usage chart has bars. A manager
// sees the page without the admin's buttons and settings; a salesperson sees
// neither the nav entry nor the page.
func TestDingTalkAdmin(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	s2 := srv.Login(t, "sim_s2")
	s2ID := fmt.Sprint(s2.Me["id"])

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			// 刘洋 (sim_s2) gets 销售经理 by hand: the tree marks it 手动.
			if st := admin.Do("PUT", "/api/v1/users/"+s2ID+"/roles", map[string]any{"role_ids": []int{2}}, nil); st != 200 {
				t.Fatalf("PUT /users/%s/roles: status %d", s2ID, st)
			}

			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_admin")
			p.nav("dingtalk")
			p.waitFor("the page is open", `location.hash === '#/dingtalk' && !!document.querySelector('[data-testid="dt-sync-total"][data-total]')`)

			// 连接设置: simulated, with the addresses to paste into DingTalk.
			p.waitText(`[data-testid="dt-mode"]`, "模拟")
			p.waitFor("the callback address is shown", `document.querySelector('[data-testid="dt-url-callback_url"]')?.value.endsWith('/dingtalk/events')`)
			p.waitFor("the secret is masked", `/^•+/.test(document.querySelector('[data-testid="dt-setting-app_secret"]').textContent)`)

			// 立即同步: nothing to change in the simulated organization.
			before := p.eval(`document.querySelector('[data-testid="dt-sync-total"]').dataset.total`)
			p.click(`[data-testid="dt-sync-start"]`)
			p.waitFor("the summary of a finished sync", `!!document.querySelector('.dt-live [data-testid="dt-sync-summary"][data-status="done"]')`)
			if got := p.eval(`document.querySelector('.dt-live [data-testid="dt-sync-summary"]').dataset.changes`); got != "0" {
				t.Errorf("the sync summary counts %s changes, want 0", got)
			}
			p.waitText(`[data-testid="dt-sync-uptodate"]`, "已是最新")
			syncID := p.eval(`document.querySelector('.dt-live [data-testid="dt-sync-summary"]').dataset.id`)
			p.waitFor("the history gained the sync", fmt.Sprintf(`(() => {
				const total = document.querySelector('[data-testid="dt-sync-total"]').dataset.total;
				const first = document.querySelector('[data-testid="dt-sync-row"]');
				return Number(total) === %s + 1 && first && first.dataset.id === %s && first.dataset.status === 'done' &&
					first.textContent.includes('已是最新') && first.textContent.includes('陈静');
			})()`, before, jsString(syncID)))
			p.waitFor("the button is ready again", `!document.querySelector('[data-testid="dt-sync-start"]').disabled`)

			// 测试连接
			p.click(`[data-testid="dt-test"]`)
			p.waitFor("the test answered ok", `document.querySelector('[data-testid="dt-test-result"]')?.dataset.ok === 'true'`)
			p.waitText(`[data-testid="dt-test-result"]`, "连接正常")

			// 组织架构: 王芳 in 销售一部, visible; 刘洋's manual role back to automatic.
			inSales1 := `[data-testid="dt-dept"][data-name="销售一部"] > .dt-dept-body > [data-testid="dt-people"] > [data-testid="dt-person"]`
			p.waitFor("王芳 is listed under 销售一部", fmt.Sprintf(`[...document.querySelectorAll(%s)].some((e) => e.dataset.name === '王芳' && !!e.offsetParent)`, jsString(inSales1)))
			liu := fmt.Sprintf(`%s[data-userid="sim_s2"]`, inSales1)
			p.waitFor("刘洋's roles are marked manual", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(liu+` [data-testid="dt-manual"]`)))
			p.click(liu + ` [data-testid="dt-auto-roles"]`)
			p.click(`[data-testid="confirm-ok"]`)
			p.waitText(`[data-testid="toast"]`, "恢复自动角色")
			p.waitFor("刘洋 is automatic again, a salesperson", fmt.Sprintf(`(() => {
				const e = document.querySelector(%s);
				return e && !e.querySelector('[data-testid="dt-manual"]') && !e.querySelector('[data-testid="dt-auto-roles"]') &&
					e.querySelector('[data-testid="dt-person-roles"]').textContent.includes('销售') &&
					!e.querySelector('[data-testid="dt-person-roles"]').textContent.includes('销售经理');
			})()`, jsString(liu)))

			// 接口调用: at least one bar, with a width.
			p.waitFor("the usage chart has a bar", `[...document.querySelectorAll('[data-testid="dt-usage-bar"]')]
				.some((b) => Number(b.dataset.calls) > 0 && b.querySelector('.dt-bar-fill').getBoundingClientRect().width > 0)`)
			p.waitFor("the total is shown", `Number(document.querySelector('[data-testid="dt-usage-total"]').dataset.total) > 0`)
			p.noExceptions()
		})
	}

	t.Run("manager-and-salesperson", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 375, 812)
		// A manager (user.view) sees the page and the tree, not the admin's buttons or settings.
		p.login("sim_mgr1")
		p.goTo("#/dingtalk")
		p.waitFor("the tree for the manager", `!!document.querySelector('[data-testid="dt-dept"][data-name="销售一部"]')`)
		p.waitFor("no admin buttons", `!!document.querySelector('[data-testid="nav-dingtalk"]') && !!document.querySelector('[data-testid="dt-settings-forbidden"]') &&
			!document.querySelector('[data-testid="dt-sync-start"], [data-testid="dt-test"], [data-testid="dt-auto-roles"]')`)
		p.click(`[data-testid="logout"]`)

		// A salesperson: no nav entry, and the route is refused.
		p.login("sim_s1")
		if got := p.eval(`String(!!document.querySelector('[data-testid="nav-dingtalk"]'))`); got != "false" {
			t.Errorf("a salesperson sees the 钉钉集成 nav entry")
		}
		p.goTo("#/dingtalk")
		p.waitText(`.content`, "没有访问此页面的权限")
		if got := p.eval(`String(!!document.querySelector('[data-testid="dt-sync"]'))`); got != "false" {
			t.Errorf("a salesperson sees the sync section")
		}
		p.noExceptions()
	})
}

// TestScreenshotsDingTalk saves the 钉钉集成 page at both sizes, like
// TestScreenshots (CRM_SCREENSHOTS=dir, optional CRM_SCREENSHOTS_URL), after a sync.
func TestScreenshotsDingTalk(t *testing.T) {
	dir := os.Getenv("CRM_SCREENSHOTS")
	if dir == "" {
		t.Skip("set CRM_SCREENSHOTS to a directory to take screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	browserCtx := startBrowser(t)
	base := os.Getenv("CRM_SCREENSHOTS_URL")
	if base == "" {
		base = apptest.Start(t).URL
	}
	for _, vp := range viewports {
		for _, lang := range []string{"zh", "en"} {
			p := openPage(t, browserCtx, base, vp.width, vp.height)
			p.login("sim_admin")
			if lang == "en" {
				p.click(`[data-testid="lang-switch"]`)
				p.waitText(`[data-testid="nav-customers"]`, "Customers")
			}
			p.goTo("#/dingtalk")
			p.click(`[data-testid="dt-sync-start"]`)
			p.waitFor("the summary", `!!document.querySelector('.dt-live [data-testid="dt-sync-summary"][data-status="done"]')`)
			p.click(`[data-testid="dt-test"]`)
			p.waitFor("the test result", `!!document.querySelector('[data-testid="dt-test-result"][data-ok]')`)
			time.Sleep(3 * time.Second) // the toasts fade
			ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
			img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-dingtalk-%s.png", vp.name, lang))
			if err := os.WriteFile(file, img, 0o644); err != nil {
				t.Fatal(err)
			}
			// the first screen as it shows, and each section on its own (easier to look at)
			p.eval(`String(window.scrollTo(0, 0))`)
			names := []string{"top", "settings", "sync", "tree", "usage"}
			for _, name := range names {
				var shot chromedp.Action[[]byte] = chromedp.CaptureScreenshot()
				if name != "top" {
					shot = chromedp.Screenshot(chromedp.CSS("#dt-" + name))
				}
				ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
				img, err := chromedp.Run(ctx, shot)
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-dingtalk-%s-%s.png", vp.name, lang, name)), img, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p.noExceptions()
			if strings.Contains(os.Getenv("CRM_SCREENSHOTS_ONLY"), "dingtalk-zh") {
				break
			}
		}
	}
}
