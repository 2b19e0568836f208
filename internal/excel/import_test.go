package excel_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/excel"
	"github.com/dingcrm/crm/internal/excel/exceltest"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/seed"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// env is a migrated database with the simulated organization.
type env struct {
	db        *store.DB
	excel     *excel.Service
	customers *customer.Service
	loader    *auth.Loader
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := seed.EnsureRoles(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.SimulatedOrg(ctx, db); err != nil {
		t.Fatal(err)
	}
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	loader := auth.NewLoader(db)
	return &env{db: db, loader: loader,
		excel:     excel.NewService(db, msgs, loc, slog.New(slog.NewTextHandler(io.Discard, nil))),
		customers: customer.NewService(db, customer.NewStore(db), loader, audit.NewService(db))}
}

// actor loads a simulated person by DingTalk userid.
func (e *env) actor(t testing.TB, userid string) *auth.Actor {
	t.Helper()
	var id int64
	if err := e.db.GetContext(context.Background(), &id, "SELECT id FROM users WHERE userid = ?", userid); err != nil {
		t.Fatal(err)
	}
	a, err := e.loader.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.db.GetContext(context.Background(), &n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) create(t testing.TB, a *auth.Actor, name, phone string) *customer.Customer {
	t.Helper()
	c, err := e.customers.Create(context.Background(), a, customer.Input{Name: &name, Phone: &phone})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var zhHeaders = []string{"客户名称", "联系电话", "公司名称", "地址", "行业", "来源", "级别", "状态", "标签", "备注", "联系人", "联系人电话"}

func importFile(t *testing.T, svc *excel.Service, a *auth.Actor, file []byte, dry bool) *excel.Job {
	t.Helper()
	j, bg, err := svc.ImportCustomers(context.Background(), a, excel.ImportRequest{FileName: "客户.xlsx",
		Body: bytes.NewReader(file), DryRun: dry, Lang: "zh-CN"})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if bg {
		t.Fatal("a small file went to the background")
	}
	return j
}

// TestImportChecksRowsThenWrites runs one file with good and bad rows as a
// dry run (every problem reported, nothing written) and for real (the good
// rows inserted, searchable and audited; the bad ones in the error file).
func TestImportChecksRowsThenWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		mgr := e.actor(t, "sim_mgr1")
		e.create(t, mgr, "老客户甲", "13700000001")
		e.create(t, e.actor(t, "sim_s5"), "别人的客户", "13700000002")
		rows := [][]string{
			{"王小明", "139 1234 0001", "杭州华信科技有限公司", "杭州市", "互联网/IT", "展会", "A 重点客户", "意向客户", "重点，展会", "备注", "李雷", "13812340001"}, // 2
			{"Alice", "+86 139-1234-0002", "ACME", "", "Internet / IT", "website", "b", "Prospect", "", "", "", ""},             // 3
			{"赵六", "12345"},                                          // 4
			{"", "13912340004"},                                      // 5
			{"孙七", "13912340001"},                                    // 6: phone of row 2
			{"王小明", "", "杭州 华信科技有限公司"},                               // 7: name and company of row 2
			{"周八", "", "", "", "", "", "Z"},                          // 8
			{"吴九", "", "", "", "", "", "", "", "", "", "韩梅梅", "abc"}, // 9
			{"", "", ""},          // 10: blank, skipped
			{"郑十", "13700000001"}, // 11: the manager's own customer
			{"=HYPERLINK(\"http://x\",\"y\")", "13912340012"},              // 12
			{"钱十三", "", "", "", "", "", "", "", "", "", "", "13812340013"}, // 13: contact phone without a name
			{"冯十四", "13700000002"},                                         // 14: another department's customer
		}
		file := exceltest.Workbook(t, zhHeaders, rows)
		wantProblems := []string{
			"第 4 行：联系电话：请输入正确的手机号或固定电话",
			"第 5 行：客户名称：必填",
			"第 6 行：与文件第 2 行重复",
			"第 7 行：与文件第 2 行重复",
			"第 8 行：级别：不是可选的值",
			"第 9 行：联系人电话：请输入正确的手机号或固定电话",
			"第 11 行：与系统中的客户 老客户甲 重复",
			"第 13 行：联系人：必填",
			"第 14 行：与系统中 黄丽 负责的客户重复",
		}
		customersBefore, auditBefore, contactsBefore := e.count(t, "customers"), e.count(t, "audit_log"), e.count(t, "contacts")

		dry := importFile(t, e.excel, mgr, file, true)
		if dry.Status != excel.StatusDone || dry.Total != 12 || dry.Rejected != 9 || dry.Inserted != 0 || dry.Processed != 12 {
			t.Fatalf("dry run: %+v", dry)
		}
		if got := strings.Join(dry.Problems, "\n"); got != strings.Join(wantProblems, "\n") {
			t.Fatalf("dry run problems:\n%s\nwant:\n%s", got, strings.Join(wantProblems, "\n"))
		}
		if e.count(t, "customers") != customersBefore || e.count(t, "audit_log") != auditBefore || e.count(t, "contacts") != contactsBefore {
			t.Fatal("the dry run wrote something")
		}

		real := importFile(t, e.excel, mgr, file, false)
		if real.Status != excel.StatusDone || real.Inserted != 3 || real.Rejected != 9 || real.Processed != 12 {
			t.Fatalf("import: %+v", real)
		}
		if n := e.count(t, "customers"); n != customersBefore+3 {
			t.Fatalf("customers %d, want %d", n, customersBefore+3)
		}
		if n := e.count(t, "contacts"); n != contactsBefore+1 {
			t.Fatalf("contacts %d, want %d", n, contactsBefore+1)
		}
		checkInserted(t, e, mgr, real.ID)

		got, _, err := e.excel.ErrorFile(ctx, mgr, real.ID)
		if err != nil {
			t.Fatal(err)
		}
		errRows := exceltest.Rows(t, got)
		if len(errRows) != 10 || errRows[0][12] != "原行号" || errRows[0][13] != "错误原因" {
			t.Fatalf("error file header: %v (%d rows)", errRows[0], len(errRows))
		}
		if errRows[1][1] != "12345" || errRows[1][12] != "4" || errRows[1][13] != "联系电话：请输入正确的手机号或固定电话" {
			t.Errorf("error file row: %v", errRows[1])
		}
		if errRows[9][12] != "14" || !strings.Contains(errRows[9][13], "黄丽") {
			t.Errorf("error file last row: %v", errRows[9])
		}
		if _, _, err := e.excel.ErrorFile(ctx, mgr, 999999); !errors.Is(err, excel.ErrJobNotFound) {
			t.Errorf("unknown job: %v", err)
		}
		if _, err := e.excel.Job(ctx, e.actor(t, "sim_mgr2"), real.ID); !errors.Is(err, excel.ErrJobNotFound) {
			t.Errorf("another department's manager read the job: %v", err)
		}
		if _, err := e.excel.Job(ctx, e.actor(t, "sim_admin"), real.ID); err != nil {
			t.Errorf("the admin could not read the job: %v", err)
		}
	})
}

// checkInserted checks the imported customers: stored as the form would
// store them, found by search (also by their contact), and each with an
// audit entry on its timeline naming the job.
func checkInserted(t *testing.T, e *env, a *auth.Actor, jobID int64) {
	t.Helper()
	ctx := context.Background()
	find := func(q string) []customer.Customer {
		items, _, err := e.customers.List(ctx, a, customer.Filter{Q: q})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	wang := find("王小明")
	if len(wang) != 1 || wang[0].Phone != "13912340001" || wang[0].Industry != "it" || wang[0].Source != "exhibition" ||
		wang[0].Level != "a" || wang[0].Status != "intent" || strings.Join(wang[0].Tags, ",") != "重点,展会" || wang[0].OwnerID != a.UserID {
		t.Fatalf("imported 王小明: %+v", wang)
	}
	if c := find("李雷"); len(c) != 1 || c[0].ID != wang[0].ID {
		t.Errorf("customer not found by its imported contact: %+v", c)
	}
	alice := find("alice")
	if len(alice) != 1 || alice[0].Phone != "13912340002" || alice[0].Industry != "it" || alice[0].Status != "potential" {
		t.Errorf("imported Alice: %+v", alice)
	}
	if f := find("HYPERLINK"); len(f) != 1 || f[0].Name != `=HYPERLINK("http://x","y")` {
		t.Errorf("formula-like name: %+v", f)
	}
	tl, total, err := e.customers.Timeline(ctx, a, wang[0].ID, 1, 20)
	if err != nil || total != 2 {
		t.Fatalf("timeline: %d entries, %v", total, err)
	}
	byEntity := map[string]audit.Item{}
	for _, it := range tl {
		byEntity[it.Entity] = it
	}
	if c := byEntity["customer"]; c.Action != "create" || c.Changes["import_job"].New != float64(jobID) {
		t.Errorf("customer audit entry: %+v", c)
	}
	if c := byEntity["contact"]; c.Action != "create" || c.EntityName != "李雷" {
		t.Errorf("contact audit entry: %+v", c)
	}
	var summary int
	e.db.GetContext(ctx, &summary, "SELECT COUNT(*) FROM audit_log WHERE action = 'import' AND entity = 'customer' AND entity_name = '客户.xlsx'")
	if summary != 1 {
		t.Errorf("import summary entries: %d", summary)
	}
}

// TestImportRefusesBadFiles: a file refused as a whole is a 400 with the
// reason under "file", and leaves no job and no customer behind.
func TestImportRefusesBadFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.actor(t, "sim_mgr1")
		small := e.excel.WithLimits(excel.Limits{MaxFileBytes: 1 << 20, MaxUnzippedBytes: 1 << 20, MaxRows: 3,
			BackgroundRows: 100, BatchRows: 10, MaxExportRows: 10})
		row := []string{"张三", "13912345678"}
		tests := []struct {
			name string
			file []byte
			key  string
			text string // part of the message
		}{
			{"text renamed", exceltest.NotXLSX(), "excel.not_xlsx", ".xlsx"},
			{"a zip that is no workbook", zipOf(t, "hello.txt"), "excel.not_xlsx", ""},
			{"empty", nil, "excel.file_required", ""},
			{"unknown header", exceltest.Workbook(t, []string{"客户名称", "手机", "微信"}, [][]string{row}), "excel.unknown_headers", "手机、微信"},
			{"missing name", exceltest.Workbook(t, []string{"联系电话"}, [][]string{{"13912345678"}}), "excel.missing_headers", "客户名称"},
			{"repeated header", exceltest.Workbook(t, []string{"客户名称", "Customer name"}, [][]string{row}), "excel.duplicate_headers", "Customer name"},
			{"no rows", exceltest.Workbook(t, zhHeaders, nil), "excel.no_rows", ""},
			{"too many rows", exceltest.Workbook(t, zhHeaders, [][]string{row, row, row, row}), "excel.too_many_rows", "3"},
			{"zip bomb", exceltest.ZipBomb(t, zhHeaders, 2<<20), "excel.unzipped_too_large", "1 MB"},
			{"too large", append(exceltest.Workbook(t, zhHeaders, [][]string{row}), make([]byte, 1<<20)...), "excel.file_too_large", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				jobs, customers := e.count(t, "import_jobs"), e.count(t, "customers")
				_, _, err := small.ImportCustomers(context.Background(), mgr, excel.ImportRequest{Body: bytes.NewReader(tt.file), Lang: "zh-CN"})
				var de *errs.Error
				if !errors.As(err, &de) || de.Kind != errs.KindInvalid || de.Key != tt.key {
					t.Fatalf("err = %v, want %s", err, tt.key)
				}
				msgs, _ := i18n.Load()
				if msg := msgs.T("zh-CN", de.Key, de.Args); !strings.Contains(msg, tt.text) {
					t.Errorf("message %q lacks %q", msg, tt.text)
				}
				if tt.key != "excel.file_too_large" && de.Fields["file"].Key != tt.key {
					t.Errorf("no problem under file: %+v", de.Fields)
				}
				if e.count(t, "import_jobs") != jobs || e.count(t, "customers") != customers {
					t.Error("a refused file left a job or customers")
				}
			})
		}
		_, _, err := e.excel.ImportCustomers(context.Background(), e.actor(t, "sim_s1"), excel.ImportRequest{Body: bytes.NewReader(nil)})
		if !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("a salesperson without customer.import: %v", err)
		}
	})
}

func zipOf(t *testing.T, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(name)
	w.Write([]byte("hello"))
	zw.Close()
	return buf.Bytes()
}

// TestImportInBackground: above BackgroundRows the import answers at once
// with a running job, which then reaches done with every row written.
func TestImportInBackground(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mgr := e.actor(t, "sim_mgr1")
		svc := e.excel.WithLimits(excel.Limits{MaxFileBytes: 1 << 20, MaxUnzippedBytes: 10 << 20, MaxRows: 100,
			BackgroundRows: 4, BatchRows: 2, MaxExportRows: 10})
		var rows [][]string
		for i := range 9 {
			rows = append(rows, []string{"后台客户" + string(rune('甲'+i)), "1391234560" + string(rune('0'+i))})
		}
		j, bg, err := svc.ImportCustomers(context.Background(), mgr, excel.ImportRequest{
			Body: bytes.NewReader(exceltest.Workbook(t, zhHeaders, rows)), Lang: "zh-CN"})
		if err != nil || !bg || j.Status != excel.StatusRunning || j.Total != 9 {
			t.Fatalf("background import: %+v %v %v", j, bg, err)
		}
		done := waitJob(t, svc, mgr, j.ID)
		if done.Status != excel.StatusDone || done.Inserted != 9 || done.Processed != 9 || done.Rejected != 0 || done.FinishedAt == nil {
			t.Fatalf("finished job: %+v", done)
		}
		items, total, _ := e.customers.List(context.Background(), mgr, customer.Filter{Q: "后台客户"})
		if total != 9 || len(items) != 9 {
			t.Fatalf("imported in the background: %d", total)
		}
		// Five batches, written two at a time on MySQL; without a background
		// indexer the import wrote their search index itself.
		st := customer.NewStore(db)
		if n, err := st.QueueLength(context.Background()); err != nil || n != 0 {
			t.Errorf("left on the index queue: %d %v", n, err)
		}
		if err := st.CheckIndex(context.Background()); err != nil {
			t.Error(err)
		}
		// A job left running by a process that ended reads as interrupted.
		_, err = db.Exec("UPDATE import_jobs SET status = 'running', updated_at = ? WHERE id = ?",
			store.Now().Add(-10*time.Minute), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if lost, _ := svc.Job(context.Background(), mgr, j.ID); lost.Status != excel.StatusInterrupted || !strings.Contains(lost.Error, "中断") {
			t.Errorf("stale running job: %+v", lost)
		}
	})
}

func waitJob(t *testing.T, svc *excel.Service, a *auth.Actor, id int64) *excel.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := svc.Job(context.Background(), a, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != excel.StatusRunning || time.Now().After(deadline) {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
}
