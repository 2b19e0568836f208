package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/excel/exceltest"
)

var zhImportHeaders = []string{"客户名称", "联系电话", "公司名称", "地址", "行业", "来源", "级别", "状态", "标签", "备注", "联系人", "联系人电话"}

type importJSON struct {
	ID           int64    `json:"id"`
	Status       string   `json:"status"`
	DryRun       bool     `json:"dry_run"`
	Total        int      `json:"total"`
	Processed    int      `json:"processed"`
	Inserted     int      `json:"inserted"`
	Rejected     int      `json:"rejected"`
	Problems     []string `json:"problems"`
	ErrorFileURL *string  `json:"error_file_url"`
}

// multipartBody wraps a file as the form field "file".
func multipartBody(t *testing.T, name string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// upload posts a file to the import and decodes the answer (a job or an error).
func upload(t *testing.T, c *apptest.Client, file []byte, dry bool, out any) int {
	t.Helper()
	body, ctype := multipartBody(t, "客户.xlsx", file)
	resp := c.Raw("POST", fmt.Sprintf("/api/v1/customers/import?dry_run=%v", dry), body, map[string]string{"Content-Type": ctype})
	return decode(t, resp, out)
}

func decode(t *testing.T, resp *http.Response, out any) int {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode %q: %v", b, err)
		}
	}
	return resp.StatusCode
}

// download GETs a file and returns its status, bytes and headers.
func download(t *testing.T, c *apptest.Client, path string) (int, []byte, http.Header) {
	t.Helper()
	resp := c.Raw("GET", path, nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func total(t *testing.T, c *apptest.Client, query string) int {
	t.Helper()
	var l listJSON
	if st := c.Do("GET", "/api/v1/customers?"+query, nil, &l); st != 200 {
		t.Fatalf("list %s: %d", query, st)
	}
	return l.Total
}

// TestImportTemplateRoundTrip: the template downloads in the caller's
// language, with its drop-downs and example, and imports back cleanly.
func TestImportTemplateRoundTrip(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			mgr := srv.Login(t, "sim_mgr1")
			st, zh, h := download(t, mgr, "/api/v1/customers/import/template")
			if st != 200 || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
				t.Fatalf("template: %d %v", st, h)
			}
			rows := exceltest.Rows(t, zh)
			if strings.Join(rows[0], ",") != strings.Join(zhImportHeaders, ",") || len(rows) != 2 || rows[1][0] != "张三" || rows[1][6] != "A 重点客户" {
				t.Fatalf("zh template rows: %q", rows)
			}
			if sheets := exceltest.Sheets(t, zh); strings.Join(sheets, ",") != "客户,填写说明" {
				t.Errorf("zh template sheets: %v", sheets)
			}
			mgr.Lang = "en"
			_, en, _ := download(t, mgr, "/api/v1/customers/import/template")
			enRows := exceltest.Rows(t, en)
			if enRows[0][0] != "Customer name" || enRows[0][11] != "Contact phone" || enRows[1][6] != "A – key account" {
				t.Fatalf("en template rows: %q", enRows)
			}
			var dry importJSON
			if st := upload(t, mgr, en, true, &dry); st != 200 || dry.Total != 1 || dry.Rejected != 0 || !dry.DryRun {
				t.Fatalf("en template dry run: %d %+v", st, dry)
			}
			mgr.Lang = ""
			before := total(t, mgr, "")
			var job importJSON
			if st := upload(t, mgr, zh, false, &job); st != 200 || job.Status != "done" || job.Inserted != 1 || job.ErrorFileURL != nil {
				t.Fatalf("template import: %d %+v", st, job)
			}
			if total(t, mgr, "") != before+1 || total(t, mgr, "q=张三&level=a&status=intent&industry=it&source=exhibition") != 1 {
				t.Fatal("the template's example customer is not listed as imported")
			}
			if total(t, mgr, "q="+url.QueryEscape("李四")) != 1 {
				t.Error("the example's contact does not find the customer")
			}
			sales := srv.Login(t, "sim_s1")
			if st, _, _ := download(t, sales, "/api/v1/customers/import/template"); st != 403 {
				t.Errorf("template for a salesperson without customer.import: %d", st)
			}
			if st := upload(t, sales, zh, true, nil); st != 403 {
				t.Errorf("import by a salesperson without customer.import: %d", st)
			}
		})
	}
}

// TestImportDryRunThenReal: the dry run reports the bad rows and writes
// nothing; the real run inserts the good rows, rejects the bad ones into a
// downloadable error file, and each inserted customer is found by search.
func TestImportDryRunThenReal(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			mgr := srv.Login(t, "sim_mgr1")
			admin := srv.Login(t, "sim_admin")
			file := exceltest.Workbook(t, zhImportHeaders, [][]string{
				{"导入甲", "13911110001", "甲公司"},
				{"导入乙", "13911110002", "乙公司", "", "制造业", "官网", "b", "洽谈中"},
				{"导入丙", "1391111"},
				{"导入丁", "13911110001"},
				{"导入戊", "13911110005", "", "", "", "", "", "", "", "", "王五", "13811110005"},
				{"导入己", "", "", "", "", "", "", "unknown"},
			})
			before := total(t, admin, "")
			var dry importJSON
			if st := upload(t, mgr, file, true, &dry); st != 200 || dry.Total != 6 || dry.Rejected != 3 || dry.Inserted != 0 {
				t.Fatalf("dry run: %d %+v", st, dry)
			}
			want := []string{"第 4 行：联系电话：请输入正确的手机号或固定电话", "第 5 行：与文件第 2 行重复", "第 7 行：状态：不是可选的值"}
			if strings.Join(dry.Problems, "|") != strings.Join(want, "|") {
				t.Fatalf("dry run problems: %q", dry.Problems)
			}
			if total(t, admin, "") != before {
				t.Fatal("the dry run wrote customers")
			}
			var job importJSON
			if st := upload(t, mgr, file, false, &job); st != 200 || job.Inserted != 3 || job.Rejected != 3 || job.ErrorFileURL == nil {
				t.Fatalf("import: %d %+v", st, job)
			}
			if total(t, admin, "") != before+3 {
				t.Fatalf("after the import: %d customers, want %d", total(t, admin, ""), before+3)
			}
			for _, q := range []string{"导入甲", "导入乙", "导入戊", "13911110002", "王五"} {
				if total(t, mgr, "q="+url.QueryEscape(q)) != 1 {
					t.Errorf("imported customer not found by %q", q)
				}
			}
			var again importJSON
			if st := mgr.Do("GET", fmt.Sprintf("/api/v1/imports/%d", job.ID), nil, &again); st != 200 || again.Status != "done" || again.Inserted != 3 || again.Processed != 6 {
				t.Fatalf("GET import: %d %+v", st, again)
			}
			st, b, _ := download(t, mgr, *job.ErrorFileURL)
			if st != 200 {
				t.Fatalf("error file: %d", st)
			}
			rows := exceltest.Rows(t, b)
			got := []string{}
			for _, r := range rows[1:] {
				got = append(got, r[0]+"@"+r[12]+":"+r[13])
			}
			wantRows := "导入丙@4:联系电话：请输入正确的手机号或固定电话|导入丁@5:与文件第 2 行重复|导入己@7:状态：不是可选的值"
			if len(rows) != 4 || strings.Join(got, "|") != wantRows {
				t.Fatalf("error file rows: %q", got)
			}
			if st := srv.Login(t, "sim_mgr2").Do("GET", fmt.Sprintf("/api/v1/imports/%d", job.ID), nil, nil); st != 404 {
				t.Errorf("another department's manager read the import: %d", st)
			}
			if st, _, _ := download(t, srv.Login(t, "sim_mgr2"), *job.ErrorFileURL); st != 404 {
				t.Errorf("another department's manager downloaded the rejected rows: %d", st)
			}
			// The file of rejected rows, fixed, imports back.
			rows[1][1] = "13911110003"
			rows[2][1] = "13911110004"
			rows[3][7] = "意向客户"
			var fixed importJSON
			if st := upload(t, mgr, exceltest.Workbook(t, rows[0], rows[1:]), false, &fixed); st != 200 || fixed.Inserted != 3 || fixed.Rejected != 0 {
				t.Fatalf("fixed rejected rows: %d %+v", st, fixed)
			}
		})
	}
}

// TestImportRefusesBadFiles: files refused as a whole, with a clear,
// localized reason and nothing written.
func TestImportRefusesBadFilesHTTP(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			mgr := srv.Login(t, "sim_mgr1")
			many := make([][]string, 50001)
			for i := range many {
				many[i] = []string{fmt.Sprintf("客户%d", i)}
			}
			tests := []struct {
				name   string
				file   []byte
				status int
				text   string
			}{
				{"text renamed .xlsx", exceltest.NotXLSX(), 400, "不是有效的 Excel"},
				{"wrong headers", exceltest.Workbook(t, []string{"客户名称", "手机号码"}, [][]string{{"张三", "13912345678"}}), 400, "手机号码"},
				{"missing headers", exceltest.Workbook(t, []string{"公司名称"}, [][]string{{"某公司"}}), 400, "客户名称"},
				{"too many rows", exceltest.Workbook(t, []string{"客户名称"}, many), 400, "50000"},
				{"zip bomb", exceltest.ZipBomb(t, zhImportHeaders, 110<<20), 400, "解压后超过 100 MB"},
				{"over 20 MB", bytes.Repeat([]byte("PK\x03\x04"), 21<<18), 413, "20 MB"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := total(t, mgr, "")
					var e errJSON
					if st := upload(t, mgr, tt.file, false, &e); st != tt.status || !strings.Contains(e.Error.Message, tt.text) {
						t.Fatalf("%d %+v, want %d with %q", st, e, tt.status, tt.text)
					}
					if tt.status == 400 && e.Error.Fields["file"] == "" {
						t.Errorf("no problem under file: %+v", e)
					}
					if total(t, mgr, "") != before {
						t.Error("a refused file wrote customers")
					}
				})
			}
			// Without a Content-Length the cap stops the read at 20 MB.
			body, ctype := multipartBody(t, "big.xlsx", make([]byte, 21<<20))
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/customers/import", io.MultiReader(bytes.NewReader(body)))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Authorization", "Bearer "+mgr.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var e errJSON
			if st := decode(t, resp, &e); st != 413 || e.Error.Code != "too_large" {
				t.Errorf("chunked upload over 20 MB: %d %+v", st, e)
			}
			if st := mgr.Do("POST", "/api/v1/customers/import", map[string]any{"file": "x"}, &e); st != 400 || e.Error.Fields["file"] == "" {
				t.Errorf("not multipart: %d %+v", st, e)
			}
			mgr.Lang = "en"
			if st := upload(t, mgr, exceltest.NotXLSX(), true, &e); st != 400 || !strings.Contains(e.Error.Message, "not a valid Excel") {
				t.Errorf("English refusal: %d %+v", st, e)
			}
		})
	}
}

// TestImportBackgroundJob: a file of more than 2,000 rows answers 202 with
// a job whose progress reaches done.
func TestImportBackgroundJob(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			mgr := srv.Login(t, "sim_mgr1")
			rows := make([][]string, 2001)
			for i := range rows {
				rows[i] = []string{fmt.Sprintf("批量客户%04d", i), fmt.Sprintf("1361234%04d", i)}
			}
			rows[10][1] = "bad"
			body, ctype := multipartBody(t, "big.xlsx", exceltest.Workbook(t, zhImportHeaders, rows))
			resp := mgr.Raw("POST", "/api/v1/customers/import", body, map[string]string{"Content-Type": ctype})
			var job importJSON
			if st := decode(t, resp, &job); st != 202 || job.Status != "running" || job.Total != 2001 {
				t.Fatalf("big import: %d %+v", st, job)
			}
			if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/imports/%d", job.ID) {
				t.Errorf("Location: %q", loc)
			}
			deadline := time.Now().Add(60 * time.Second)
			seen := map[int]bool{}
			for job.Status == "running" && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				if st := mgr.Do("GET", fmt.Sprintf("/api/v1/imports/%d", job.ID), nil, &job); st != 200 {
					t.Fatalf("poll: %d", st)
				}
				seen[job.Processed] = true
			}
			if job.Status != "done" || job.Inserted != 2000 || job.Rejected != 1 || job.Processed != 2001 || job.ErrorFileURL == nil {
				t.Fatalf("finished job: %+v", job)
			}
			if len(job.Problems) != 1 || job.Problems[0] != "第 12 行：联系电话：请输入正确的手机号或固定电话" {
				t.Errorf("problems: %q", job.Problems)
			}
			if total(t, mgr, "q="+url.QueryEscape("批量客户")) != 2000 {
				t.Error("not every row was imported")
			}
			t.Logf("progress values seen while polling: %d", len(seen))
		})
	}
}

// exportRows downloads an export and returns its rows (headers first).
func exportRows(t *testing.T, c *apptest.Client, query string) (int, [][]string) {
	t.Helper()
	st, b, h := download(t, c, "/api/v1/customers/export?"+query)
	if st != 200 {
		return st, nil
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/vnd.openxmlformats") {
		t.Fatalf("export content type %q", h.Get("Content-Type"))
	}
	return st, exceltest.Rows(t, b)
}

// names are an export's customer names (a neutralized formula without its quote).
func names(rows [][]string) []string {
	var out []string
	for _, r := range rows[1:] {
		out = append(out, strings.TrimPrefix(r[0], "'"))
	}
	sort.Strings(out)
	return out
}

func listNames(t *testing.T, c *apptest.Client, query string) []string {
	t.Helper()
	var out []string
	for page := 1; ; page++ {
		var l listJSON
		c.Do("GET", fmt.Sprintf("/api/v1/customers?page_size=100&page=%d&%s", page, query), nil, &l)
		for _, it := range l.Items {
			out = append(out, it.Name)
		}
		if len(l.Items) == 0 || len(out) >= l.Total {
			break
		}
	}
	sort.Strings(out)
	return out
}

// TestExportCustomers: an export holds exactly what the person's list
// holds (scope and filters), needs customer.export, neutralizes formulas,
// speaks the caller's language and is audited.
func TestExportCustomers(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1 := srv.Login(t, "sim_s1")
			admin := srv.Login(t, "sim_admin")
			formula := `=HYPERLINK("http://x","y")`
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": formula, "phone": "13912341234",
				"level": "a", "tags": []string{"重点", "展会"}}, nil); st != 201 {
				t.Fatalf("create: %d", st)
			}
			for _, who := range []*apptest.Client{s1, admin} {
				st, rows := exportRows(t, who, "format=xlsx")
				if st != 200 || strings.Join(names(rows), "|") != strings.Join(listNames(t, who, ""), "|") {
					t.Fatalf("export of %v differs from the list: %d, %d rows", who.Me["name"], st, len(rows))
				}
			}
			_, s1Rows := exportRows(t, s1, "")
			_, adminRows := exportRows(t, admin, "")
			if len(s1Rows) >= len(adminRows) || len(s1Rows) < 2 {
				t.Fatalf("sim_s1 exported %d rows, the admin %d", len(s1Rows)-1, len(adminRows)-1)
			}
			for _, r := range s1Rows[1:] {
				if r[10] != "王芳" {
					t.Errorf("sim_s1's export holds a customer of %s", r[10])
				}
			}
			_, filtered := exportRows(t, admin, "level=a&sort=name")
			if strings.Join(names(filtered), "|") != strings.Join(listNames(t, admin, "level=a"), "|") {
				t.Error("filtered export differs from the filtered list")
			}
			for _, r := range filtered[1:] {
				if r[6] != "A 重点客户" {
					t.Errorf("level=a export holds level %q", r[6])
				}
			}
			var row []string
			for _, r := range s1Rows {
				if strings.Contains(r[0], "HYPERLINK") {
					row = r
				}
			}
			if row == nil || row[0] != "'"+formula || row[8] != "重点、展会" || row[1] != "13912341234" {
				t.Fatalf("formula row: %q", row)
			}
			if _, err := time.ParseInLocation("2006-01-02 15:04", row[15], time.UTC); err != nil {
				t.Errorf("created_at %q: %v", row[15], err)
			}
			s1.Lang = "en"
			_, en := exportRows(t, s1, "")
			if en[0][0] != "Customer name" || en[0][10] != "Owner" || !contains(en, "A – key account") {
				t.Errorf("English export: %q", en[0])
			}
			var e errJSON
			if st := s1.Do("GET", "/api/v1/customers/export?format=csv", nil, &e); st != 400 || e.Error.Fields["format"] == "" {
				t.Errorf("format=csv: %d %+v", st, e)
			}
			if st := s1.Do("GET", "/api/v1/customers/export?level=z", nil, &e); st != 400 || e.Error.Fields["level"] == "" {
				t.Errorf("bad filter: %d %+v", st, e)
			}
			var log auditJSON
			admin.Do("GET", "/api/v1/audit?action=export&entity=customer", nil, &log)
			if log.Total != 6 || log.Items[len(log.Items)-1].ActorName != "王芳" {
				t.Fatalf("export audit entries: %+v", log)
			}
			found := false
			for _, it := range log.Items {
				if it.ActorName == "陈静" && it.Changes["filter"]["new"] == "level=a sort=name" {
					found = it.Changes["rows"]["new"] == float64(len(filtered)-1)
				}
			}
			if !found {
				t.Errorf("no audit entry for the filtered export with its row count: %+v", log.Items)
			}
			// Without customer.export: 403, and nothing audited.
			if _, err := srv.App.DB.Exec("UPDATE roles SET permissions = REPLACE(permissions, 'customer.export', '') WHERE code = 'sales'"); err != nil {
				t.Fatal(err)
			}
			if st := s1.Do("GET", "/api/v1/customers/export", nil, &e); st != 403 {
				t.Errorf("export without customer.export: %d", st)
			}
			var after auditJSON
			admin.Do("GET", "/api/v1/audit?action=export&entity=customer", nil, &after)
			if after.Total != log.Total {
				t.Error("a refused export was audited")
			}
		})
	}
}

func contains(rows [][]string, cell string) bool {
	for _, r := range rows {
		for _, c := range r {
			if c == cell {
				return true
			}
		}
	}
	return false
}

// TestExportRecords: the sales and opportunity exports read their own
// lists: the caller's scope, the list's filters, their own permission,
// localized stage names, amounts in yuan, formulas neutralized.
func TestExportRecords(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s5, admin := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s5"), srv.Login(t, "sim_admin")
			var c1, c5 customerJSON
			s1.Do("POST", "/api/v1/customers", map[string]any{"name": "导出记录甲"}, &c1)
			s5.Do("POST", "/api/v1/customers", map[string]any{"name": "导出记录戊"}, &c5)
			var opp struct {
				ID int64 `json:"id"`
			}
			if st := s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": c1.ID, "title": "导出商机",
				"amount_fen": 1234567}, &opp); st != 201 {
				t.Fatalf("opportunity: %d", st)
			}
			for _, sl := range []struct {
				c    *apptest.Client
				body map[string]any
			}{
				{s1, map[string]any{"customer_id": c1.ID, "amount_fen": 12345, "sale_date": "2026-11-01", "notes": "=1+1"}},
				{s5, map[string]any{"customer_id": c5.ID, "amount_fen": 500, "sale_date": "2026-11-02"}},
			} {
				if st := sl.c.Do("POST", "/api/v1/sales", sl.body, nil); st != 201 {
					t.Fatalf("sale: %d", st)
				}
			}
			exp := func(c *apptest.Client, path string) (int, [][]string) {
				st, b, _ := download(t, c, path)
				if st != 200 {
					return st, nil
				}
				return st, exceltest.Rows(t, b)
			}
			_, mine := exp(s1, "/api/v1/sales/export")
			if len(mine) != 2 || mine[1][0] != "2026-11-01" || mine[1][1] != "导出记录甲" || mine[1][2] != "123.45" || mine[1][6] != "'=1+1" {
				t.Fatalf("sim_s1's sales export: %q", mine)
			}
			_, all := exp(admin, "/api/v1/sales/export")
			var sales struct {
				Total int `json:"total"`
			}
			admin.Do("GET", "/api/v1/sales?page_size=100", nil, &sales)
			if len(all)-1 != sales.Total || sales.Total < 2 {
				t.Errorf("admin's sales export: %d rows, list total %d", len(all)-1, sales.Total)
			}
			_, one := exp(admin, fmt.Sprintf("/api/v1/sales/export?customer_id=%d", c5.ID))
			if len(one) != 2 || one[1][1] != "导出记录戊" || one[1][2] != "5.00" {
				t.Errorf("filtered sales export: %q", one)
			}
			s1.Lang = "en"
			_, opps := exp(s1, "/api/v1/opportunities/export")
			if len(opps) != 2 || opps[0][0] != "Opportunity" || opps[1][0] != "导出商机" || opps[1][2] != "12345.67" || opps[1][3] == "" {
				t.Fatalf("opportunity export: %q", opps)
			}
			var stages struct {
				Items []struct {
					ID   int64  `json:"id"`
					Name string `json:"name"`
				} `json:"items"`
			}
			s1.Do("GET", "/api/v1/opportunity-stages", nil, &stages)
			if len(stages.Items) == 0 || opps[1][3] != stages.Items[0].Name {
				t.Errorf("stage %q, want the list's English name %+v", opps[1][3], stages.Items)
			}
			if _, theirs := exp(s5, "/api/v1/opportunities/export"); len(theirs) != 1 {
				t.Errorf("sim_s5 exported another's opportunity: %q", theirs)
			}
			if _, err := srv.App.DB.Exec("UPDATE roles SET permissions = REPLACE(REPLACE(permissions, 'opportunity.export', ''), 'sale.export', '') WHERE code = 'sales'"); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/api/v1/sales/export", "/api/v1/opportunities/export"} {
				if st, _ := exp(s1, path); st != 403 {
					t.Errorf("%s without its export permission: %d", path, st)
				}
			}
		})
	}
}

// TestExportContactsAndFollowups: the contact and follow-up exports hold
// what their lists show to the caller, nothing of other people's customers.
func TestExportContactsAndFollowups(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			s1, s5 := srv.Login(t, "sim_s1"), srv.Login(t, "sim_s5")
			var c1 customerJSON
			s1.Do("POST", "/api/v1/customers", map[string]any{"name": "导出联系人客户"}, &c1)
			if st := s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": c1.ID, "name": "联系人导出甲", "title": "@采购"}, nil); st != 201 {
				t.Fatalf("contact: %d", st)
			}
			if st := s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": c1.ID, "followed_at": "2026-11-20T02:00:00Z",
				"method": "phone", "content": "跟进导出内容"}, nil); st != 201 {
				t.Fatalf("followup: %d", st)
			}
			for _, tt := range []struct{ path, cell string }{
				{"/api/v1/contacts/export", "联系人导出甲"},
				{"/api/v1/followups/export", "跟进导出内容"},
			} {
				st, b, _ := download(t, s1, tt.path)
				if st != 200 || !contains(exceltest.Rows(t, b), tt.cell) {
					t.Errorf("%s for the owner: %d, %q missing", tt.path, st, tt.cell)
				}
				st, b, _ = download(t, s5, tt.path)
				if st != 200 || contains(exceltest.Rows(t, b), tt.cell) {
					t.Errorf("%s for another department: %d, leaks %q", tt.path, st, tt.cell)
				}
			}
			// A cell starting with @ is neutralized, not a formula.
			_, b, _ := download(t, s1, "/api/v1/contacts/export")
			if contains(exceltest.Rows(t, b), "@采购") {
				t.Error("a title beginning with @ was exported raw")
			}
		})
	}
}
