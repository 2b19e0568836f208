package excel_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/contact"
	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/excel"
	"github.com/dingcrm/crm/internal/excel/exceltest"
	"github.com/dingcrm/crm/internal/followup"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func export(t *testing.T, svc *excel.Service, a *auth.Actor, src excel.Source, lang string) (*excel.Export, [][]string) {
	t.Helper()
	exp, err := svc.Export(context.Background(), a, src, lang)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer exp.Close()
	var buf bytes.Buffer
	if err := exp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return exp, exceltest.Rows(t, buf.Bytes())
}

// TestExportSources: each source exports its list as the person sees it,
// with localized headers and labels, times in the company time zone,
// formula-like cells neutralized; more rows than the limit is refused.
func TestExportSources(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		s1, s2 := e.actor(t, "sim_s1"), e.actor(t, "sim_s2")
		c := e.create(t, s1, "=SUM(A1:A9)", "13912345670")
		contacts := contact.NewService(db, customer.NewStore(db))
		name, phones := "@联系人", []string{"13800001111", "021-68888888"}
		if _, err := contacts.Create(ctx, s1, contact.Input{CustomerID: &c.ID, Name: &name, Phones: &phones}); err != nil {
			t.Fatal(err)
		}
		followups := followup.NewService(db)
		method, content, at := "visit", "-拜访，带了样品", "2026-11-27T02:30:00Z"
		if _, err := followups.Create(ctx, s1, followup.Input{CustomerID: &c.ID, Method: &method, Content: &content, FollowedAt: &at}); err != nil {
			t.Fatal(err)
		}

		exp, rows := export(t, e.excel, s1, excel.CustomerSource(e.customers, customer.Filter{}, nil), "zh-CN")
		if exp.Rows != 1 || len(rows) != 2 || rows[0][0] != "客户名称" || rows[1][0] != "'=SUM(A1:A9)" || rows[1][7] != "潜在客户" {
			t.Fatalf("customer export: %d %q", exp.Rows, rows)
		}
		if !strings.HasPrefix(exp.FileName, "客户-") || !strings.HasSuffix(exp.FileName, ".xlsx") {
			t.Errorf("file name %q", exp.FileName)
		}
		if _, rows := export(t, e.excel, s2, excel.CustomerSource(e.customers, customer.Filter{}, nil), "zh-CN"); len(rows) != 1 {
			t.Errorf("sim_s2 exported sim_s1's customer: %q", rows)
		}

		_, rows = export(t, e.excel, s1, excel.ContactSource(contacts, contact.Filter{CustomerID: c.ID}), "en")
		if len(rows) != 2 || rows[0][0] != "Name" || rows[1][0] != "'@联系人" || rows[1][1] != "'=SUM(A1:A9)" ||
			rows[1][3] != "13800001111, 021-68888888" || rows[1][7] != "Yes" {
			t.Fatalf("contact export: %q", rows)
		}
		if _, rows := export(t, e.excel, s2, excel.ContactSource(contacts, contact.Filter{}), "en"); len(rows) != 1 {
			t.Errorf("sim_s2 exported sim_s1's contact: %q", rows)
		}

		_, rows = export(t, e.excel, s1, excel.FollowupSource(followups, followup.Filter{CustomerID: c.ID}), "zh-CN")
		if len(rows) != 2 || rows[0][0] != "跟进时间" || rows[1][0] != "2026-11-27 10:30" || rows[1][2] != "拜访" || rows[1][3] != "'-拜访，带了样品" {
			t.Fatalf("follow-up export (times in Asia/Shanghai): %q", rows)
		}

		for i := range 3 {
			e.create(t, s1, "限额客户"+string(rune('甲'+i)), "1391234599"+string(rune('0'+i)))
		}
		small := e.excel.WithLimits(excel.Limits{MaxExportRows: 3})
		_, err := small.Export(ctx, s1, excel.CustomerSource(e.customers, customer.Filter{}, nil), "zh-CN")
		var de *errs.Error
		if !errors.As(err, &de) || de.Key != "excel.export_too_large" {
			t.Errorf("export over the limit: %v", err)
		}
		var audited int
		db.Get(&audited, "SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
		if audited != 5 {
			t.Errorf("%d exports audited, want the 5 that were written", audited)
		}
	})
}
