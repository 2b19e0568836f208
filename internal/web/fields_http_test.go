package web_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/excel/exceltest"
)

// setPolicy sets a role's field visibility through the API.
func setPolicy(t *testing.T, admin *apptest.Client, roleID int64, policy map[string]string) {
	t.Helper()
	var e errJSON
	if st := admin.Do("PATCH", fmt.Sprintf("/api/v1/roles/%d", roleID), map[string]any{"field_policy": policy}, &e); st != 200 {
		t.Fatalf("set field policy: %d %+v", st, e)
	}
}

// TestFieldVisibility: with the sales role set to mask or hide fields, a
// salesperson sees them masked or not at all in lists, details, search,
// exports and the timeline, cannot find a customer by a hidden phone, and
// re-saving a form does not overwrite the real value with its mask. The
// admin keeps seeing everything; a change applies on the next request.
func TestFieldVisibility(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin, s1 := srv.Login(t, "sim_admin"), srv.Login(t, "sim_s1")
			ids := roleIDs(t, admin)
			setPolicy(t, admin, ids["sales"], map[string]string{"customer.phone": "masked", "customer.address": "hidden",
				"contact.phone": "hidden", "contact.email": "masked", "contact.wechat": "visible", "sale.amount": "masked"})
			var r roleJSON
			var rp struct {
				FieldPolicy map[string]string `json:"field_policy"`
			}
			admin.Do("GET", fmt.Sprintf("/api/v1/roles/%d", ids["sales"]), nil, &rp)
			if len(rp.FieldPolicy) != 5 || rp.FieldPolicy["customer.address"] != "hidden" {
				t.Fatalf("stored policy: %+v", rp.FieldPolicy)
			}
			_ = r

			var c struct {
				customerJSON
				Address string `json:"address"`
			}
			if st := s1.Do("POST", "/api/v1/customers", map[string]any{"name": "字段客户", "phone": "13812341234", "address": "杭州市文三路 1 号"}, &c); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if c.Phone != "138****1234" || c.Address != "" {
				t.Errorf("create answer: phone %q address %q", c.Phone, c.Address)
			}
			var d struct {
				Phone, Address string
				Version        int
			}
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &d)
			if d.Phone != "138****1234" || d.Address != "" {
				t.Errorf("detail: %+v", d)
			}
			var list listJSON
			s1.Do("GET", "/api/v1/customers?q="+url.QueryEscape("字段客户"), nil, &list)
			if list.Total != 1 || list.Items[0].Phone != "138****1234" {
				t.Errorf("list/search by name: %+v", list)
			}
			// Searching by the phone finds nothing for the salesperson, the
			// customer for the admin.
			for _, q := range []string{"13812341234", "1234", "138 1234 1234"} {
				s1.Do("GET", "/api/v1/customers?q="+url.QueryEscape(q), nil, &list)
				if list.Total != 0 {
					t.Errorf("salesperson found a customer by masked phone %q: %d", q, list.Total)
				}
			}
			admin.Do("GET", "/api/v1/customers?q=13812341234", nil, &list)
			if list.Total != 1 || list.Items[0].Phone != "13812341234" {
				t.Errorf("admin search by phone: %+v", list)
			}
			// Export.
			_, rows := exportRows(t, s1, "q="+url.QueryEscape("字段客户"))
			if len(rows) != 2 || rows[1][1] != "138****1234" || rows[1][3] != "" {
				t.Errorf("export: %q", rows)
			}
			_, rows = exportRows(t, admin, "q="+url.QueryEscape("字段客户"))
			if len(rows) != 2 || rows[1][1] != "13812341234" || rows[1][3] == "" {
				t.Errorf("admin export: %q", rows)
			}
			// Re-saving the form with what was shown keeps the real values.
			if st := s1.Do("PATCH", fmt.Sprintf("/api/v1/customers/%d", c.ID), map[string]any{"name": "字段客户改", "phone": "138****1234",
				"address": "", "version": d.Version}, nil); st != 200 {
				t.Fatalf("re-save: %d", st)
			}
			var full struct{ Phone, Address string }
			admin.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &full)
			if full.Phone != "13812341234" || full.Address != "杭州市文三路 1 号" {
				t.Errorf("re-save overwrote the real values: %+v", full)
			}
			// Timeline: the create entry's phone is masked, address hidden.
			var tl auditJSON
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d/timeline", c.ID), nil, &tl)
			var sawCreate bool
			for _, it := range tl.Items {
				if it.Entity == "customer" && it.Action == "create" {
					sawCreate = true
					if it.Changes["phone"]["new"] != "138****1234" || it.Changes["address"]["new"] != "" {
						t.Errorf("timeline changes: %+v", it.Changes)
					}
				}
			}
			if !sawCreate {
				t.Errorf("timeline: %+v", tl.Items)
			}

			// Contacts: phones hidden, e-mail masked, WeChat visible.
			var ct struct {
				ID     int64    `json:"id"`
				Phones []string `json:"phones"`
				Email  string   `json:"email"`
				WeChat string   `json:"wechat"`
			}
			if st := s1.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": c.ID, "name": "联系人甲", "phones": []string{"13900001111"},
				"email": "alice@example.com", "wechat": "alice_wx"}, &ct); st != 201 {
				t.Fatalf("contact: %d", st)
			}
			if len(ct.Phones) != 0 || ct.Email != "a***@example.com" || ct.WeChat != "alice_wx" {
				t.Errorf("contact answer: %+v", ct)
			}
			var cl struct {
				Items []struct {
					Phones []string `json:"phones"`
					Email  string   `json:"email"`
				} `json:"items"`
				Total int `json:"total"`
			}
			s1.Do("GET", fmt.Sprintf("/api/v1/contacts?customer_id=%d", c.ID), nil, &cl)
			if cl.Total != 1 || len(cl.Items[0].Phones) != 0 || cl.Items[0].Email != "a***@example.com" {
				t.Errorf("contact list: %+v", cl)
			}
			for _, q := range []string{"13900001111", "alice@"} {
				s1.Do("GET", "/api/v1/contacts?q="+url.QueryEscape(q), nil, &cl)
				if cl.Total != 0 {
					t.Errorf("contact found by hidden/masked %q", q)
				}
			}
			s1.Do("GET", "/api/v1/contacts?q=alice_wx", nil, &cl)
			if cl.Total != 1 {
				t.Errorf("contact search by a visible field: %d", cl.Total)
			}
			// A customer found through a hidden contact phone is not found either.
			s1.Do("GET", "/api/v1/customers?q=13900001111", nil, &list)
			if list.Total != 0 {
				t.Errorf("customer found by a hidden contact phone")
			}
			st, b, _ := download(t, s1, fmt.Sprintf("/api/v1/contacts/export?customer_id=%d", c.ID))
			if st != 200 {
				t.Fatalf("contact export: %d", st)
			}
			crow := exceltest.Rows(t, b)
			if len(crow) != 2 || slices.Contains(crow[1], "13900001111") || slices.Contains(crow[1], "alice@example.com") ||
				!slices.Contains(crow[1], "a***@example.com") {
				t.Errorf("contact export: %q", crow)
			}

			// Sales: the amount masked everywhere, totals too.
			var sl struct {
				ID           int64  `json:"id"`
				AmountFen    int64  `json:"amount_fen"`
				Amount       string `json:"amount"`
				AmountHidden bool   `json:"amount_hidden"`
				Version      int    `json:"version"`
			}
			if st := s1.Do("POST", "/api/v1/sales", map[string]any{"customer_id": c.ID, "amount_fen": 1234567, "sale_date": "2026-11-01"}, &sl); st != 201 {
				t.Fatalf("sale: %d", st)
			}
			if sl.AmountFen != 0 || sl.Amount != "***" || !sl.AmountHidden {
				t.Errorf("sale answer: %+v", sl)
			}
			var sales struct {
				Items  []map[string]any `json:"items"`
				Totals struct {
					AmountFen    int64  `json:"amount_fen"`
					Amount       string `json:"amount"`
					AmountHidden bool   `json:"amount_hidden"`
				} `json:"totals"`
			}
			s1.Do("GET", fmt.Sprintf("/api/v1/sales?customer_id=%d", c.ID), nil, &sales)
			if len(sales.Items) != 1 || sales.Items[0]["amount"] != "***" || sales.Totals.Amount != "***" || sales.Totals.AmountFen != 0 {
				t.Errorf("sale list: %+v", sales)
			}
			st, b, _ = download(t, s1, fmt.Sprintf("/api/v1/sales/export?customer_id=%d", c.ID))
			if srow := exceltest.Rows(t, b); st != 200 || len(srow) != 2 || srow[1][2] != "***" {
				t.Errorf("sale export: %d %q", st, srow)
			}
			// Editing a sale without seeing its amount keeps the amount.
			s1.Do("PATCH", fmt.Sprintf("/api/v1/sales/%d", sl.ID), map[string]any{"amount_fen": 0, "notes": "改备注", "version": sl.Version}, nil)
			var real struct {
				AmountFen int64 `json:"amount_fen"`
			}
			admin.Do("GET", fmt.Sprintf("/api/v1/sales/%d", sl.ID), nil, &real)
			if real.AmountFen != 1234567 {
				t.Errorf("amount after a masked edit: %d", real.AmountFen)
			}

			// The audit log shown to a role with audit.view masks too: give the
			// manager role a hidden phone and read the log as sim_mgr1.
			mgr := srv.Login(t, "sim_mgr1")
			setPolicy(t, admin, ids["manager"], map[string]string{"customer.phone": "hidden"})
			var mc struct{ Phone string }
			mgr.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &mc)
			if mc.Phone != "" {
				t.Errorf("manager with a hidden phone sees %q", mc.Phone)
			}

			// Most permissive role wins: sim_s1 also gets the manager role
			// (hidden phone) → the sales role's masked still applies, and
			// with a role that shows phones, the full number.
			uid := int64(s1.Me["id"].(float64))
			admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", uid), map[string]any{"role_ids": []int64{ids["sales"], ids["manager"]}}, nil)
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &d)
			if d.Phone != "138****1234" {
				t.Errorf("masked + hidden → masked, got %q", d.Phone)
			}
			setPolicy(t, admin, ids["manager"], map[string]string{})
			s1.Do("GET", fmt.Sprintf("/api/v1/customers/%d", c.ID), nil, &d)
			if d.Phone != "13812341234" {
				t.Errorf("masked + visible → visible on the next request, got %q", d.Phone)
			}
			// Back to the sales role only, policy cleared: everything visible.
			admin.Do("PUT", fmt.Sprintf("/api/v1/users/%d/roles", uid), map[string]any{"role_ids": []int64{ids["sales"]}}, nil)
			setPolicy(t, admin, ids["sales"], map[string]string{})
			s1.Do("GET", "/api/v1/customers?q=13812341234", nil, &list)
			if list.Total != 1 || list.Items[0].Phone != "13812341234" {
				t.Errorf("after clearing the policy: %+v", list)
			}
			if !strings.Contains(fmt.Sprint(rp.FieldPolicy), "masked") {
				t.Errorf("policy read back: %+v", rp.FieldPolicy)
			}
		})
	}
}
