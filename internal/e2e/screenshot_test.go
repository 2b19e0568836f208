package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/outbox"
)

// TestScreenshots saves screenshots of the app's pages at the phone and the
// desktop size, for a person to look at. It runs only with CRM_SCREENSHOTS set
// to a directory; CRM_SCREENSHOTS_URL points it at a running server (for
// example one started with CRM_WEB_DIR, so front-end edits need no rebuild),
// else it starts its own. CRM_SCREENSHOTS_ONLY limits it to shots whose name
// contains one of its comma-separated words.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("CRM_SCREENSHOTS")
	if dir == "" {
		t.Skip("set CRM_SCREENSHOTS to a directory to take screenshots")
	}
	if _, err := os.Stat(chromium()); err != nil {
		t.Skipf("no browser: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := os.Getenv("CRM_SCREENSHOTS_URL")
	var srv *apptest.Server
	if base == "" {
		srv = apptest.Start(t)
		base = srv.URL
	} else {
		srv = &apptest.Server{URL: base}
	}
	demo := seedDemo(t, srv)
	if srv.App != nil {
		seedInbox(t, srv, demo["customer"])
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium()), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatal(err)
	}

	type shot struct {
		name, user, hash, before string
		full                     bool
	}
	c, o, s := demo["customer"], demo["opportunity"], demo["sale"]
	shots := []shot{
		{name: "customers", user: "sim_s1", hash: "#/customers"},
		{name: "customer-info", user: "sim_s1", hash: "#/customers/" + c},
		{name: "customer-contacts", user: "sim_s1", hash: "#/customers/" + c + "?tab=contacts"},
		{name: "customer-followups", user: "sim_s1", hash: "#/customers/" + c + "?tab=followups"},
		{name: "customer-followup-form", user: "sim_s1", hash: "#/customers/" + c + "?tab=followups", before: `document.querySelector('[data-testid="followup-add"]').click()`},
		{name: "customer-opportunities", user: "sim_s1", hash: "#/customers/" + c + "?tab=opportunities"},
		{name: "customer-sales", user: "sim_s1", hash: "#/customers/" + c + "?tab=sales"},
		{name: "customer-timeline", user: "sim_s1", hash: "#/customers/" + c + "?tab=timeline", full: true},
		{name: "customer-release", user: "sim_s1", hash: "#/customers/" + c, before: `document.querySelector('[data-testid="customer-release"]').click()`},
		{name: "customer-dup", user: "sim_s1", hash: "#/customers/new", before: `(() => { const i = document.querySelector('[data-testid="field-name"]'); i.value = '重复的客户'; const p = document.querySelector('[data-testid="field-phone"]'); p.value = '` + demo["phone"] + `'; document.querySelector('[data-testid="form-save"]').click(); })()`},
		{name: "sales", user: "sim_s1", hash: "#/sales"},
		{name: "sale-detail", user: "sim_s1", hash: "#/sales/" + s},
		{name: "sale-form", user: "sim_s1", hash: "#/sales/new?customer_id=" + c, before: `(() => { document.querySelector('[data-testid="line-add"]').click(); const sel = document.querySelector('[data-testid="line-product"]'); sel.value = sel.options[1].value; sel.dispatchEvent(new Event('change')); const q = document.querySelector('[data-testid="line-quantity"]'); q.value = '3'; q.dispatchEvent(new Event('input')); })()`, full: true},
		{name: "pipeline", user: "sim_s1", hash: "#/pipeline"},
		{name: "pipeline-move", user: "sim_s1", hash: "#/pipeline", before: `document.querySelector('[data-testid="card-move"]').click()`},
		{name: "opportunities", user: "sim_s1", hash: "#/opportunities"},
		{name: "opportunity-detail", user: "sim_s1", hash: "#/opportunities/" + o, full: true},
		{name: "opportunity-form", user: "sim_s1", hash: "#/opportunities/new?customer_id=" + c, full: true},
		{name: "pool", user: "sim_s2", hash: "#/pool"},
		{name: "duplicates", user: "sim_s1", hash: "#/duplicates?phone=" + demo["phone"]},
		{name: "more-menu", user: "sim_mgr1", hash: "#/customers", before: `document.querySelector('[data-testid="nav-more"]')?.click()`},
		{name: "pool-mgr", user: "sim_mgr1", hash: "#/pool"},
		{name: "customer-admin", user: "sim_admin", hash: "#/customers/" + c},
		{name: "pool-rules", user: "sim_admin", hash: "#/pool/rules", full: true},
		{name: "import", user: "sim_admin", hash: "#/customers/import"},
		{name: "settings", user: "sim_admin", hash: "#/settings"},
		{name: "settings-days", user: "sim_admin", hash: "#/settings", before: `document.getElementById('settings-locale').scrollIntoView()`},
		{name: "settings-options", user: "sim_admin", hash: "#/settings", before: `document.getElementById('settings-options').scrollIntoView()`},
		{name: "settings-stages", user: "sim_admin", hash: "#/settings", before: `document.getElementById('settings-stages').scrollIntoView()`},
		{name: "roles-fields", user: "sim_admin", hash: "#/roles", before: `document.querySelector('[data-testid="role-item-sales"]').click()`},
		{name: "roles-fields-2", user: "sim_admin", hash: "#/roles", before: `(() => { document.querySelector('[data-testid="role-item-sales"]').click(); setTimeout(() => document.querySelector('[data-testid="role-fields"]').scrollIntoView(), 300); })()`},
		{name: "reminders", user: "sim_s1", hash: "#/reminders?when=upcoming"},
		{name: "reminders-overdue", user: "sim_s1", hash: "#/reminders?when=overdue"},
		{name: "reminder-form-mgr", user: "sim_mgr1", hash: "#/reminders", before: `document.querySelector('[data-testid="reminder-add"]').click()`, full: true},
		{name: "inbox", user: "sim_s1", hash: "#/inbox", full: true},
		{name: "en-pipeline", user: "sim_s1", hash: "#/pipeline", before: `document.querySelector('[data-testid="lang-switch"]').click()`},
		{name: "en-customer-timeline", user: "sim_s1", hash: "#/customers/" + c + "?tab=timeline"},
	}
	only := strings.Split(os.Getenv("CRM_SCREENSHOTS_ONLY"), ",")
	want := func(name string) bool {
		for _, w := range only {
			if w == "" || strings.Contains(name, w) {
				return true
			}
		}
		return false
	}
	for _, vp := range viewports {
		pages := map[string]*page{}
		for _, sh := range shots {
			if !want(sh.name) {
				continue
			}
			p := pages[sh.user]
			if p == nil {
				p = openPage(t, browserCtx, base, vp.width, vp.height)
				p.login(sh.user)
				pages[sh.user] = p
			}
			p.do("open "+sh.hash, chromedp.Navigate(base+"/"+sh.hash))
			time.Sleep(700 * time.Millisecond)
			p.eval(`String(document.getElementById('toast')?.classList.remove('show'))`)
			if sh.before != "" {
				p.eval(`String(` + sh.before + `)`)
				time.Sleep(700 * time.Millisecond)
			}
			var img []byte
			var err error
			ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
			if sh.full {
				img, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			} else {
				img, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
			}
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", sh.name, err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-%s.png", vp.name, sh.name))
			if err := os.WriteFile(file, img, 0o644); err != nil {
				t.Fatal(err)
			}
			// a modal left open would cover the next page
			p.eval(`String(document.querySelectorAll('.overlay').forEach((o) => o.remove()))`)
			p.mu.Lock()
			if len(p.exceptions) > 0 {
				t.Errorf("%s: the page threw: %s", sh.name, strings.Join(p.exceptions, "\n"))
				p.exceptions = nil
			}
			p.mu.Unlock()
		}
	}
}

// seedInbox gives sim_s1 two reminders that fell due a few minutes ago and
// dispatches them (one card for both, in 消息 and in the fake DingTalk) and
// a digest.
func seedInbox(t *testing.T, srv *apptest.Server, customer string) {
	t.Helper()
	s1 := srv.Login(t, "sim_s1")
	id, _ := strconv.ParseInt(customer, 10, 64)
	for _, text := range []string{"给周总回电，确认 20 个账号的报价", "准备钉钉集成演示环境"} {
		var e map[string]any
		if st := s1.Do("POST", "/api/v1/reminders", map[string]any{"customer_id": id, "content": text,
			"remind_at": time.Now().Add(-3 * time.Minute).Format(time.RFC3339)}, &e); st != 201 {
			t.Fatalf("seed reminder: %d %v", st, e)
		}
	}
	a := srv.App
	if _, err := a.Reminders.MorningDigest(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	d := outbox.NewDispatcher(outbox.Options{DB: a.DB, DingTalk: a.DingTalk, Quiet: outbox.Never, Location: sh,
		Now: func() time.Time { return time.Now().Add(time.Minute) }})
	if _, err := d.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// seedDemo gives the salesperson sim_s1 a customer with contacts, follow-ups,
// opportunities in several stages and a sale, and puts a customer in the pool.
func seedDemo(t *testing.T, srv *apptest.Server) map[string]string {
	t.Helper()
	s1 := srv.Login(t, "sim_s1")
	s1.Lang = "zh-CN"
	n := time.Now().UnixNano() % 100_000_000
	phone := fmt.Sprintf("139%08d", n)
	var c struct{ ID int64 }
	if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("杭州云帆科技%04d", n%10000), "phone": phone,
		"company": "杭州云帆科技有限公司", "level": "a", "status": "intent", "industry": "it", "source": "exhibition", "tags": []string{"重点", "华东"}}, &c); st != 201 {
		t.Fatalf("seed customer: %d", st)
	}
	cid := fmt.Sprint(c.ID)
	s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": c.ID, "name": "周建国", "title": "采购总监", "phones": []string{"13812345678", "0571-88886666"}, "email": "zhou@yunfan.example"}, nil)
	s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": c.ID, "name": "林晓", "title": "IT 经理", "wechat": "linxiao_it"}, nil)
	now := time.Now()
	s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": c.ID, "followed_at": now.Add(-48 * time.Hour).Format(time.RFC3339), "method": "visit",
		"content": "上门拜访，演示了专业版的审批流和钉钉集成，客户对移动端很满意。", "result": "有明确采购意向", "next_step": "发送正式报价"}, nil)
	s1.Do("POST", "/api/v1/followups", map[string]any{"customer_id": c.ID, "followed_at": now.Add(-2 * time.Hour).Format(time.RFC3339), "method": "phone",
		"content": "电话确认报价细节，需要 20 个账号。", "result": "等待内部审批", "next_step": "周五前回电", "next_follow_at": now.Add(72 * time.Hour).Format(time.RFC3339)}, nil)
	var opp struct {
		ID      int64
		Version int64
	}
	titles := []struct {
		title string
		stage int
		qty   int
		prod  int
	}{{"专业版年费 20 账号", 3, 20, 2}, {"钉钉集成模块", 2, 1, 3}, {"实施服务 10 人天", 1, 10, 4}, {"标准版续费", 4, 5, 1}, {"培训服务", 1, 2, 5}}
	var first int64
	for _, x := range titles {
		s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": c.ID, "title": x.title, "stage_id": x.stage,
			"expected_close_date": now.Add(30 * 24 * time.Hour).Format("2006-01-02"),
			"lines":               []map[string]any{{"product_id": x.prod, "quantity": x.qty}}}, &opp)
		if first == 0 {
			first = opp.ID
		}
	}
	var won struct {
		ID      int64
		Version int64
	}
	s1.Do("POST", "/api/v1/opportunities", map[string]any{"customer_id": c.ID, "title": "数据迁移", "lines": []map[string]any{{"product_id": 6, "quantity": 1}}}, &won)
	s1.Do("POST", "/api/v1/opportunities/"+fmt.Sprint(won.ID)+"/stage", map[string]any{"stage_id": 5, "version": won.Version}, nil)
	var sale struct{ ID int64 }
	s1.Do("POST", "/api/v1/opportunities/"+fmt.Sprint(won.ID)+"/sale", map[string]any{}, &sale)
	s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": c.ID, "amount_fen": 1234567, "notes": "老客户追加", "lines": []map[string]any{{"product_id": 5, "quantity": 4}}}, nil)
	s1.Do("PATCH", "/api/v1/customers/"+cid, map[string]any{"version": 1, "address": "杭州市西湖区文三路 100 号"}, nil)
	// a customer in the pool, released by sim_s1
	var pc struct{ ID int64 }
	s1.Do("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("宁波海星贸易%04d", n%10000), "phone": fmt.Sprintf("137%08d", n), "company": "宁波海星贸易", "level": "b"}, &pc)
	s1.Do("POST", "/api/v1/customers/"+fmt.Sprint(pc.ID)+"/release", map[string]any{"reason": "客户预算冻结，明年再联系"}, nil)
	return map[string]string{"customer": cid, "opportunity": fmt.Sprint(first), "sale": fmt.Sprint(sale.ID), "phone": phone}
}
