package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestJobsAdmin walks 定时任务 as the admin at the phone size and at a
// desktop size: every job is listed with its schedule; an invalid cron is
// refused under the field, a valid one is shown; 立即运行 runs the clean-up
// and its card shows the successful run, which the history lists; the 销售一部
// group robot is set up (the secret never shown back) and its test message
// reaches the group. A salesperson has neither the nav entry nor the page.
func TestJobsAdmin(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	fake := srv.App.FakeDingTalk
	const secret = "SECbrowser0123456789abcdef"
	hook := fake.AddWebhookRobot("tok-browser-team1", secret)

	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := openPage(t, browserCtx, srv.URL, vp.width, vp.height)
			p.login("sim_admin")
			p.nav("jobs")
			card := func(name string) string { return fmt.Sprintf(`[data-testid="job-row"][data-name="%s"]`, name) }
			p.waitFor("the jobs are listed", `location.hash === '#/jobs' &&
				['team-summary','weekly-summary','pool-reclaim','org-sync','cleanup'].every((n) => !!document.querySelector('[data-testid="job-row"][data-name="' + n + '"]'))`)
			p.waitText(card("team-summary")+` [data-testid="job-schedule"]`, "0 18 * * *")
			p.waitText(card("team-summary")+` [data-testid="job-title"]`, "团队日报")

			// 修改: an invalid cron is refused under the field; a valid one is saved.
			p.click(card("cleanup") + ` [data-testid="job-edit"]`)
			p.clearAndType(`[data-testid="job-form"] [data-testid="field-schedule"]`, "every night")
			p.click(`[data-testid="form-save"]`)
			p.waitText(`[data-testid="job-form"] [data-error-for="schedule"]`, "执行时间格式不正确")
			spec := fmt.Sprintf("0 %d * * *", 4+i)
			p.clearAndType(`[data-testid="job-form"] [data-testid="field-schedule"]`, spec)
			p.click(`[data-testid="form-save"]`)
			p.waitText(card("cleanup")+` [data-testid="job-schedule"]`, spec)

			// 立即运行: the card ends showing the new run, successful.
			before := p.eval(fmt.Sprintf(`document.querySelector(%s).dataset.lastRun`, jsString(card("cleanup"))))
			p.click(card("cleanup") + ` [data-testid="job-run-now"]`)
			p.waitFor("the run finished ok", fmt.Sprintf(`(() => { const c = document.querySelector(%s);
				return c && c.dataset.lastRun !== '' && c.dataset.lastRun !== %s && c.querySelector('[data-testid="job-outcome"]').dataset.outcome === 'ok'; })()`,
				jsString(card("cleanup")), jsString(before)))
			p.waitText(card("cleanup")+` [data-testid="job-summary"]`, "过期会话")
			// Centre the button first: on a phone the toast of the finished run
			// sits just above the tab bar, where scrolling into view would
			// leave the button.
			p.eval(fmt.Sprintf(`document.querySelector(%s).scrollIntoView({block: 'center'}), ''`, jsString(card("cleanup")+` [data-testid="job-history"]`)))
			p.click(card("cleanup") + ` [data-testid="job-history"]`)
			p.waitFor("the history lists the run", fmt.Sprintf(`document.querySelectorAll(%s).length === %d`,
				jsString(card("cleanup")+` [data-testid="job-run"][data-outcome="ok"]`), i+1))

			// 群机器人 of 销售一部.
			robot := `[data-testid="robot-row"]`
			p.waitFor("the teams are listed", `[...document.querySelectorAll('[data-testid="robot-row"]')].some((r) => r.textContent.includes('销售一部'))`)
			row := fmt.Sprintf(`[...document.querySelectorAll(%s)].find((r) => r.textContent.includes('销售一部'))`, jsString(robot))
			p.eval(fmt.Sprintf(`(%s).querySelector('[data-testid="robot-edit"]').click(), ''`, row))
			if i == 0 {
				p.typeInto(`[data-testid="robot-form"] [data-testid="field-webhook"]`, hook)
			}
			p.clearAndType(`[data-testid="robot-form"] [data-testid="field-secret"]`, secret)
			p.click(`[data-testid="form-save"]`)
			// The save's own toast first: on the second viewport the row is
			// already set, so the check below could pass before the save
			// answers, and its "已保存" would then replace the test's toast.
			p.waitText(`[data-testid="toast"]`, "已保存")
			p.waitFor("the robot is set, the secret masked", fmt.Sprintf(`(() => { const r = %s; return r && r.dataset.set === 'true' &&
				r.textContent.includes('cdef') && !r.textContent.includes(%s) && !r.textContent.includes('tok-browser-team1'); })()`, row, jsString(secret)))
			sent := len(fake.RobotMessages())
			// The list is drawn again after the save; click once the new row is there.
			p.waitFor("the test button clicked", fmt.Sprintf(`(() => { const r = %s; const b = r && r.querySelector('[data-testid="robot-test"]');
				if (!b) return false; b.click(); return true; })()`, row))
			p.waitText(`[data-testid="toast"]`, "测试消息已发出")
			if got := len(fake.RobotMessages()); got != sent+1 {
				t.Errorf("%d robot messages after the test, want %d", got, sent+1)
			}
			if vp.width == 375 {
				p.waitFor("nothing wider than the phone", `document.documentElement.scrollWidth <= 375`)
			}
			if dir := os.Getenv("CRM_SCREENSHOTS"); dir != "" { // a look at the page (as TestScreenshots)
				p.click(card("team-summary") + ` [data-testid="job-history"]`)
				img, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, "jobs-"+vp.name+".png"), img, 0o644)
				}
				if err != nil {
					t.Error(err)
				}
			}
			p.noExceptions()
		})
	}

	t.Run("salesperson", func(t *testing.T) {
		p := openPage(t, browserCtx, srv.URL, 375, 812)
		p.login("sim_s1")
		if got := p.eval(`String(!!document.querySelector('[data-testid="nav-jobs"]'))`); got != "false" {
			t.Errorf("a salesperson sees the 定时任务 nav entry")
		}
		p.goTo("#/jobs")
		p.waitText(`.content`, "没有访问此页面的权限")
		p.noExceptions()
	})
}
