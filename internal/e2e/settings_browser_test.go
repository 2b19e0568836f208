package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestSettingsPage: on a 375 px phone the admin opens 系统设置 from 更多,
// changes the company name, time zone and working days, uploads a logo that
// then shows in the header, is told about an unknown time zone, adds and
// retires a customer source, and sets 客户电话 to masked for 销售 in 权限管理;
// a salesperson then picks the new source, no longer sees the retired one,
// and sees the phone masked. The page fits the phone's width and the English
// page is labelled in English.
func TestSettingsPage(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	admin := openPage(t, browserCtx, srv.URL, 375, 740)
	admin.login("sim_admin")
	admin.nav("settings")
	admin.waitFor("the settings form", `!!document.querySelector('[data-testid="settings-form"]') && !!document.querySelector('[data-testid="settings-options"] [data-testid="option-row"]')`)
	if got := admin.eval(`String(document.documentElement.scrollWidth <= window.innerWidth + 1)`); got != "true" {
		t.Errorf("the settings page is wider than a 375 px phone")
	}
	for _, id := range []string{"stages", "pool-rules", "roles"} { // 定时任务 appears with job.view
		if admin.eval(`String(!!document.querySelector('[data-testid="settings-link-`+id+`"]'))`) != "true" {
			t.Errorf("link %s missing", id)
		}
	}

	// A bad time zone is refused on its field; nothing is saved.
	admin.clearAndType(`[data-testid="field-timezone"]`, "Mars/Olympus")
	admin.click(`[data-testid="form-save"]`)
	admin.waitText(`[data-error-for="timezone"]`, "未知的时区")

	admin.clearAndType(`[data-testid="field-name"]`, "杭州示例科技")
	admin.clearAndType(`[data-testid="field-timezone"]`, "Asia/Tokyo")
	admin.eval(`String(document.querySelector('[data-testid="working-day-6"]').click())`)
	admin.click(`[data-testid="form-save"]`)
	admin.waitText(`[data-testid="toast"]`, "已保存")

	// The logo: upload, preview, then it is in the header after a reload.
	logo := filepath.Join(t.TempDir(), "logo.png")
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := 0; i < 40; i++ {
		img.Set(i, i, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	if err := os.WriteFile(logo, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	admin.do("choose the logo", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="logo-file"]`), []string{logo}))
	admin.waitFor("the logo preview", `!!document.querySelector('[data-testid="logo-preview"]')`)
	admin.do("reload", chromedp.Reload())
	admin.waitFor("the logo in the header", `(() => { const i = document.querySelector('[data-testid="topbar-logo"]'); return !!i && i.complete && i.naturalWidth === 40; })()`)

	var co struct {
		Name        string `json:"name"`
		Timezone    string `json:"timezone"`
		WorkingDays []int  `json:"working_days"`
	}
	api := srv.Login(t, "sim_admin")
	api.Do("GET", "/api/v1/settings", nil, &co)
	if co.Name != "杭州示例科技" || co.Timezone != "Asia/Tokyo" || len(co.WorkingDays) != 6 {
		t.Errorf("saved settings: %+v", co)
	}

	// Option lists: add 广交会 to sources and retire 官网.
	admin.waitFor("the option editor", `!!document.querySelector('[data-testid="option-list"]')`)
	admin.setValue(`[data-testid="option-list"]`, "sources")
	admin.waitFor("the sources list", `!!document.querySelector('[data-testid="option-row"][data-code="website"]')`)
	admin.typeInto(`[data-testid="option-new-code"]`, "canton_fair")
	admin.typeInto(`[data-testid="option-new-zh"]`, "广交会")
	admin.typeInto(`[data-testid="option-new-en"]`, "Canton Fair")
	admin.click(`[data-testid="option-add"]`)
	admin.eval(`String(document.querySelector('[data-testid="option-active-website"]').click())`)
	admin.eval(`String(document.querySelectorAll('[data-testid="option-row"]')[1].querySelector('[data-testid="option-up"]').click())`)
	admin.click(`[data-testid="option-save"]`)
	admin.waitText(`[data-testid="toast"]`, "已保存")
	var list struct {
		Items []struct {
			Code   string `json:"code"`
			Active bool   `json:"active"`
		} `json:"items"`
	}
	api.Do("GET", "/api/v1/settings/options/sources", nil, &list)
	if n := len(list.Items); n != 9 || list.Items[n-1].Code != "canton_fair" || list.Items[0].Code != "website" || list.Items[0].Active {
		t.Errorf("saved list: %+v", list.Items)
	}

	// 商机阶段: change a win rate and add a stage before 赢单.
	admin.waitFor("the stage editor", `document.querySelectorAll('[data-testid="stage-row"]').length >= 3`)
	admin.setValue(`[data-testid="stage-row"] [data-testid="stage-probability"]`, "15")
	admin.typeInto(`[data-testid="stage-new-name"]`, "试用")
	admin.setValue(`[data-testid="stage-new-probability"]`, "70")
	admin.click(`[data-testid="stage-add"]`)
	admin.click(`[data-testid="stage-save"]`)
	admin.waitText(`[data-testid="toast"]`, "已保存")
	var stages struct {
		Items []struct {
			Name        string `json:"name"`
			Probability int    `json:"probability"`
			Kind        string `json:"kind"`
		} `json:"items"`
	}
	api.Do("GET", "/api/v1/opportunity-stages", nil, &stages)
	n := len(stages.Items)
	if n < 4 || stages.Items[0].Probability != 15 || stages.Items[n-3].Name != "试用" || stages.Items[n-3].Probability != 70 || stages.Items[n-2].Kind != "won" {
		t.Errorf("saved stages: %+v", stages.Items)
	}

	// 字段权限: 客户电话 masked for 销售.
	admin.nav("roles")
	admin.click(`[data-testid="role-item-sales"]`)
	admin.waitFor("the sales role's field visibility", `document.querySelector('[data-testid="role-name"]')?.textContent === '销售' && !!document.querySelector('[data-testid="field-mode-customer-phone"]')`)
	admin.setValue(`[data-testid="field-mode-customer-phone"]`, "masked")
	admin.click(`[data-testid="role-save"]`)
	admin.waitText(`[data-testid="toast"]`, "已保存")

	// A salesperson: the new source is offered, the retired one not; the
	// phone shows masked.
	s1 := openPage(t, browserCtx, srv.URL, 375, 740)
	s1.login("sim_s1")
	s1.goTo("#/customers/new")
	s1.waitFor("the customer form", `!!document.querySelector('[data-testid="field-source"]')`)
	if got := s1.eval(`[...document.querySelectorAll('[data-testid="field-source"] option')].map((o) => o.value).join(',')`); !contains(got, "canton_fair") || contains(got, "website") {
		t.Errorf("source choices: %s", got)
	}
	s1.typeInto(`[data-testid="field-name"]`, "字段权限客户")
	s1.typeInto(`[data-testid="field-phone"]`, "13812341234")
	s1.setValue(`[data-testid="field-source"]`, "canton_fair")
	s1.click(`[data-testid="form-save"]`)
	s1.waitText(`[data-testid="detail-phone"]`, "138****1234")
	s1.waitText(`[data-testid="detail-source"]`, "广交会")

	// English.
	admin.click(`[data-testid="lang-switch"]`)
	admin.goTo("#/settings")
	admin.waitText(`[data-testid="settings-form"]`, "Working days")
	admin.noExceptions()
	s1.noExceptions()
}

func contains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }
