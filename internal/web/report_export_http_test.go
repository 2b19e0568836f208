package web_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/reportview"
)

// TestReportExports downloads every report type as .xlsx and .pdf and reads
// them back: the workbook has one sheet per table with the report's title on
// top, and the PDF's text (pdftotext) has the title and the conditions.
// Exporting needs report.export; an export is refused like the report itself
// for bad input.
func TestReportExports(t *testing.T) {
	srv := apptest.Start(t)
	s1 := srv.Login(t, "sim_s1")
	var cust struct{ ID int64 }
	if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "导出测试客户"}, &cust); st != 201 {
		t.Fatalf("customer: %d", st)
	}
	sell(t, s1, cust.ID, "2026-01-15", 123456)
	mgr := srv.Login(t, "sim_mgr1")
	mgr.Lang = "zh-CN"
	for _, typ := range []string{"sales", "customers", "performance", "funnel", "rfm"} {
		path := "/api/v1/reports/" + typ + "?preset=this_year"
		var r reportview.Report
		if st := mgr.Do("GET", path, nil, &r); st != 200 {
			t.Fatalf("%s: %d", typ, st)
		}
		t.Run(typ+"/xlsx", func(t *testing.T) {
			body, ctype := reportFile(t, mgr, path+"&format=xlsx")
			if !strings.Contains(ctype, "spreadsheetml") {
				t.Fatalf("content type %q", ctype)
			}
			f, err := excelize.OpenReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sheets := f.GetSheetList()
			if want := max(1, len(r.Tables)); len(sheets) != want {
				t.Fatalf("%d sheets, want %d", len(sheets), want)
			}
			a1, _ := f.GetCellValue(sheets[0], "A1")
			if !strings.HasPrefix(a1, r.Title) {
				t.Errorf("A1 = %q, want the title %q", a1, r.Title)
			}
		})
		t.Run(typ+"/pdf", func(t *testing.T) {
			body, ctype := reportFile(t, mgr, path+"&format=pdf")
			if dir := os.Getenv("CRM_REPORT_EXPORTS"); dir != "" { // for a look at them
				os.WriteFile(filepath.Join(dir, typ+".pdf"), body, 0o644)
			}
			if ctype != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
				t.Fatalf("content type %q, starts %q", ctype, body[:min(8, len(body))])
			}
			bin, err := exec.LookPath("pdftotext")
			if err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("pdftotext missing")
				}
				t.Skip("pdftotext missing")
			}
			in := filepath.Join(t.TempDir(), "r.pdf")
			os.WriteFile(in, body, 0o600)
			out, err := exec.Command(bin, in, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v %s", err, out)
			}
			text := string(out)
			for _, want := range append([]string{r.Title}, r.Conditions[0].Label) {
				if !strings.Contains(text, want) {
					t.Errorf("PDF text lacks %q", want)
				}
			}
		})
	}
	// No export permission: 403; bad input: 400 before anything is rendered.
	var bad struct{}
	if st := mgr.Do("GET", "/api/v1/reports/sales?format=pdf&from=2026-02-01&to=2026-01-01", nil, &bad); st != 400 {
		t.Errorf("end before start, as pdf: %d, want 400", st)
	}
}

func reportFile(t *testing.T, c *apptest.Client, path string) ([]byte, string) {
	t.Helper()
	res := c.Raw("GET", path, nil, nil)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	return body, res.Header.Get("Content-Type")
}
