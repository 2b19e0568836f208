package summary_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/grouprobot"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/sale"
	"github.com/dingcrm/crm/internal/sale/saletest"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
	"github.com/dingcrm/crm/internal/summary"
)

// notices records what would go to the outbox.
type notices struct {
	mu   sync.Mutex
	sent []summary.Notice
}

func (n *notices) Notify(_ context.Context, ns []summary.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, ns...)
	return nil
}

func (n *notices) byUser() map[int64]summary.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[int64]summary.Notice{}
	for _, x := range n.sent {
		out[x.UserID] = x
	}
	return out
}

// TestTeamAndWeeklySummary: each manager's notice counts the day's records
// of the departments they manage and those below (销售一部 includes 华东组),
// with one dedup key per (manager, day); the admins' weekly notice has the
// company's totals and a line per team.
func TestTeamAndWeeklySummary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		loc, _ := time.LoadLocation("Asia/Shanghai")
		org := saletest.NewOrg(t, db)
		a := org.Customer(t, "sim_s1", "一部客户") // 销售一部
		org.Customer(t, "sim_s3", "华东客户")      // 华东组, under 销售一部
		c := org.Customer(t, "sim_s5", "二部客户") // 销售二部
		when := time.Now().UTC().Format(time.RFC3339)
		method, content := "phone", "电话"
		if _, err := followup.NewService(db).Create(ctx, org.As(t, "sim_s1"),
			followup.Input{CustomerID: &a, FollowedAt: &when, Method: &method, Content: &content}); err != nil {
			t.Fatal(err)
		}
		amount := int64(123456)
		sales := sale.NewService(db, customer.NewStore(db), org.Loader, loc)
		if _, err := sales.Create(ctx, org.As(t, "sim_s5"), sale.Input{CustomerID: &c, AmountFen: &amount}); err != nil {
			t.Fatal(err)
		}
		// Monthly targets: 销售二部 ¥10000; 销售一部 ¥5000 and its 华东组
		// ¥2000, which sim_mgr1 (who manages both) must not see added.
		month := time.Now().In(loc).Format("2006-01")
		for name, fen := range map[string]int64{"销售二部": 1000000, "销售一部": 500000, "华东组": 200000} {
			if _, err := db.Exec(`INSERT INTO sales_targets (subject_kind, subject_id, month, amount_fen, updated_by, updated_at)
				SELECT 'department', id, ?, ?, 0, ? FROM departments WHERE name = ?`, month+"-01", fen, time.Now().UTC(), name); err != nil {
				t.Fatal(err)
			}
		}
		rec := &notices{}
		svc := summary.New(db, org.Loader, grouprobot.NewService(db, nil), rec, i18n.MustLoad(), "zh-CN", loc, nil)
		now := time.Now().In(loc)
		res, err := svc.TeamSummary(ctx, now)
		if err != nil || res.Counts["managers"] != 2 || res.Counts["notices"] != 2 {
			t.Fatalf("team summary: %v %+v", err, res)
		}
		got := rec.byUser()
		date := now.Format(time.DateOnly)
		mgr1, mgr2 := got[org.ID("sim_mgr1")], got[org.ID("sim_mgr2")]
		if mgr1.DedupKey != fmt.Sprintf("team-summary:%d:%s", org.ID("sim_mgr1"), date) || mgr1.Kind != "team_summary" {
			t.Errorf("mgr1 notice: %+v", mgr1)
		}
		for _, want := range []string{"团队日报 " + date, "新增客户：2", "跟进记录：1", "销售数据：0 笔",
			"本月（" + month + "）销售 ¥0.00，目标 ¥5000.00，完成 0.0%"} {
			if !strings.Contains(mgr1.Body, want) {
				t.Errorf("mgr1 body lacks %q:\n%s", want, mgr1.Body)
			}
		}
		for _, want := range []string{"新增客户：1", "跟进记录：0", "销售数据：1 笔，¥1234.56",
			"本月（" + month + "）销售 ¥1234.56，目标 ¥10000.00，完成 12.3%"} {
			if !strings.Contains(mgr2.Body, want) {
				t.Errorf("mgr2 body lacks %q:\n%s", want, mgr2.Body)
			}
		}

		// 字段权限: with the manager role's sale amounts hidden, the same
		// summary keeps the counts and drops every sales amount — the
		// month-to-date line is all amounts, so it goes too.
		if _, err := db.Exec("UPDATE roles SET field_policy = ? WHERE code = 'manager'", `{"sale.amount":"hidden"}`); err != nil {
			t.Fatal(err)
		}
		rec.sent = nil
		if _, err := svc.TeamSummary(ctx, now); err != nil {
			t.Fatal(err)
		}
		masked := rec.byUser()[org.ID("sim_mgr2")].Body
		if !strings.Contains(masked, "销售数据：1 笔") || strings.Contains(masked, "1234.56") || strings.Contains(masked, "本月（") ||
			!strings.Contains(masked, "赢单：0 个，¥0.00") {
			t.Errorf("mgr2 body with sale amounts hidden:\n%s", masked)
		}
		if _, err := db.Exec("UPDATE roles SET field_policy = '{}' WHERE code = 'manager'"); err != nil {
			t.Fatal(err)
		}

		// A week later, last week is this one.
		rec.sent = nil
		if _, err := svc.WeeklySummary(ctx, now.AddDate(0, 0, 7)); err != nil {
			t.Fatal(err)
		}
		admin := rec.byUser()[org.ID("sim_admin")]
		if !strings.HasPrefix(admin.DedupKey, fmt.Sprintf("weekly-summary:%d:", org.ID("sim_admin"))) {
			t.Errorf("admin notice: %+v", admin)
		}
		for _, want := range []string{"销售周报", "新增客户：3", "**销售一部**", "**销售二部**", "**市场部**"} {
			if !strings.Contains(admin.Body, want) {
				t.Errorf("weekly body lacks %q:\n%s", want, admin.Body)
			}
		}
		if n := strings.Count(admin.Body, "本月（"); n != 3 {
			t.Errorf("weekly body has %d month-to-date lines, want one per team:\n%s", n, admin.Body)
		}
		if len(rec.sent) != 1 {
			t.Errorf("%d weekly notices, want the one admin's", len(rec.sent))
		}
	})
}

// TestPeriods: a day and last week (Monday to Sunday) in the company's zone.
func TestPeriods(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 25, 1, 30, 0, 0, loc) // Wednesday, 17:30 UTC the day before
	d := summary.Day(at.UTC(), loc)
	if !d.From.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, loc)) || !d.To.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, loc)) {
		t.Errorf("day %v – %v", d.From, d.To)
	}
	w := summary.LastWeek(at, loc)
	if !w.From.Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, loc)) || !w.To.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, loc)) {
		t.Errorf("last week %v – %v", w.From, w.To)
	}
	if w := summary.LastWeek(time.Date(2026, 11, 23, 9, 0, 0, 0, loc), loc); !w.From.Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, loc)) {
		t.Errorf("on a Monday last week starts %v", w.From)
	}
}
