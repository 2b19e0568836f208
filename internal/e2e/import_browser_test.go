package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestCustomerImport: a manager uploads a customer file, checks it (the dry run
// lists each bad row with its number), imports it, and finds the new customers.
func TestCustomerImport(t *testing.T) {
	browserCtx := startBrowser(t)
	srv := apptest.Start(t)
	suffix := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	good1, good2 := "导入甲"+suffix, "导入乙"+suffix
	file := filepath.Join(t.TempDir(), "customers.xlsx")
	x := excelize.NewFile()
	rows := [][]any{
		{"客户名称", "联系电话", "公司名称"},
		{good1, "139" + suffix + "01", "导入公司"},
		{good2, "", "导入公司二"},
		{"坏电话" + suffix, "12345", ""},
		{good1, "139" + suffix + "01", "导入公司"}, // repeats row 2
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.SaveAs(file); err != nil {
		t.Fatal(err)
	}

	p := openPage(t, browserCtx, srv.URL, 1280, 800)
	p.login("sim_mgr1")
	p.click(`[data-testid="customer-import"]`)
	p.waitText(`.import-steps`, "下载模板")
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="import-file"]`), []string{file}))
	p.waitText(`.file-name`, "customers.xlsx")

	// 检查文件: nothing is written; the two bad rows are listed by number.
	p.click(`[data-testid="import-check"]`)
	p.waitText(`[data-testid="import-dry-result"] [data-testid="import-total"]`, "4")
	p.waitText(`[data-testid="import-dry-result"] [data-testid="import-ok"]`, "2")
	p.waitText(`[data-testid="import-dry-result"] [data-testid="import-rejected"]`, "2")
	p.waitFor("rows 4 and 5 are listed with their problems", `(() => {
		const rows = [...document.querySelectorAll('[data-testid="import-problem-row"]')].map((r) => r.cells[0].textContent + ':' + r.cells[1].textContent);
		return rows.length === 2 && rows[0].startsWith('4:') && rows[1].startsWith('5:') && rows[1].includes('2');
	})()`)

	// 开始导入: two customers added, the rejected rows downloadable.
	p.click(`[data-testid="import-start"]`)
	p.waitText(`[data-testid="import-result"] [data-testid="import-ok"]`, "2")
	p.waitText(`[data-testid="import-result"] [data-testid="import-rejected"]`, "2")
	p.waitFor("the error file is offered", `!!document.querySelector('[data-testid="import-result"] [data-testid="import-error-file"]')`)
	p.click(`[data-testid="import-done"]`)
	p.typeInto(`[data-testid="customer-search"]`, suffix)
	p.waitFor("the imported customers are listed", fmt.Sprintf(`(() => {
		const names = [...document.querySelectorAll('[data-testid="customer-name"]')].map((n) => n.textContent);
		return names.length === 2 && names.includes(%s) && names.includes(%s);
	})()`, jsString(good1), jsString(good2)))
	p.noExceptions()
}
