package e2e

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestSystemPage: on a 375 px phone the admin opens 系统维护, sees the
// version and that no migration is pending, backs up now and follows the
// progress to a listed, downloadable backup, uploads it back (verified),
// and changes the login-log
// retention; nothing overflows the screen. A salesperson has no such page.
func TestSystemPage(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	admin := openPage(t, browserCtx, srv.URL, 375, 740)
	admin.login("sim_admin")
	admin.nav("system")
	admin.waitText(`[data-testid="system-version"]`, "dev")
	admin.waitText(`[data-testid="system-pending"]`, "无，已是最新")
	admin.click(`[data-testid="backup-now"]`)
	admin.waitFor("the backup listed", `document.querySelectorAll('[data-testid="backup-item"]').length === 1 && !!document.querySelector('[data-testid="backup-download"]')`)
	admin.waitText(`[data-testid="backup-progress"]`, "完成于")

	// Upload that archive again: verified and listed as an upload.
	files, err := filepath.Glob(filepath.Join(srv.App.System.Dir(), "crm-*.crmbak"))
	if err != nil || len(files) != 1 {
		t.Fatalf("backup files: %v %v", files, err)
	}
	admin.do("choose the archive", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="backup-file"]`), files))
	admin.click(`[data-testid="backup-upload"]`)
	admin.waitText(`[data-testid="upload-result"]`, "已校验并保存为 uploaded-")
	admin.waitFor("two archives listed", `document.querySelectorAll('[data-testid="backup-item"]').length === 2`)
	admin.setValue(`[data-testid="field-login_log_days"]`, "90")
	admin.click(`[data-testid="retention-form"] [data-testid="form-save"]`)
	admin.waitText(`[data-testid="toast"]`, "已保存")
	admin.waitFor("the saved value", `document.querySelector('[data-testid="field-login_log_days"]')?.value === '90'`)
	if got := admin.eval(`String(document.documentElement.scrollWidth <= window.innerWidth + 1)`); got != "true" {
		t.Errorf("the page overflows 375 px sideways")
	}
	admin.noExceptions()

	s1 := openPage(t, browserCtx, srv.URL, 1280, 800)
	s1.login("sim_s1")
	if got := s1.eval(`String(!!document.querySelector('[data-testid="nav-system"]'))`); got != "false" {
		t.Errorf("a salesperson sees 系统维护 in the navigation")
	}
	s1.noExceptions()
}
