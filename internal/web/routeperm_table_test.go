package web_test

import (
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/auth"
)

// rpTable says, for every route the router has, who may call it: the
// permission, the record kind its :id names (so out-of-scope records answer
// 404), and how to call it safely. TestEveryRoutePermission fails for a
// route missing here.
var rpTable = map[string]rpRoute{
	// Public by design.
	"GET /healthz":                {public: "load balancer liveness; answers status only"},
	"GET /api/v1/openapi.json":    {public: "the API description; no data"},
	"GET /api/v1/meta/options":    {public: "option labels the login page and app shell need; no records"},
	"GET /api/v1/auth/config":     {public: "tells the login page which sign-in methods exist"},
	"GET /api/v1/auth/dev-users":  {public: "simulated mode only: the fake organization's people for the dev login"},
	"POST /api/v1/auth/dev-login": {public: "sign-in (simulated mode only); rate limited"},
	"POST /api/v1/auth/dingtalk":  {public: "sign-in with a DingTalk code; rate limited"},
	"GET /auth/dingtalk/login":    {public: "redirects to DingTalk's OAuth page"},
	"GET /auth/dingtalk/callback": {public: "DingTalk OAuth redirect; state-checked (TestDingTalkLogin*)"},
	"GET /api/v1/settings/logo":   {public: "the login page shows the company logo"},
	"POST /dingtalk/events":       {public: "DingTalk event callbacks, signature-verified (dingtalk_events_http_test)"},

	// Any signed-in person.
	"POST /api/v1/auth/logout":           {ownSession: true},
	"GET /api/v1/me":                     {},
	"PATCH /api/v1/me":                   {body: bodyOf(map[string]any{"lang": "zh-CN"})},
	"GET /api/v1/settings":               {},
	"GET /api/v1/settings/options":       {},
	"GET /api/v1/settings/options/:list": {path: func(*rpFixture, *rpPersona) string { return "/api/v1/settings/options/industries" }},
	"GET /api/v1/followups/methods":      {},
	"GET /api/v1/opportunity-stages":     {},

	// Customers.
	"GET /api/v1/customers":              {perms: P(pCustView), queries: rpListNoCustomer},
	"GET /api/v1/customers/:id":          {perms: P(pCustView), kind: "customer"},
	"GET /api/v1/customers/:id/timeline": {perms: P(pCustView), kind: "customer"},
	"POST /api/v1/customers":             {perms: P(pCustCreate), body: bodyOf(map[string]any{"name": "FRESH新客户"})},
	"PATCH /api/v1/customers/:id": {perms: P(pCustEdit), kind: "customer", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("customers", id), "note": "FRESH改"}
	}},
	"DELETE /api/v1/customers/:id":       {perms: P(pCustDelete), kind: "customer", fresh: true},
	"POST /api/v1/customers/:id/restore": {perms: P(pCustManage), kind: "deleted-customer", fresh: true},
	"GET /api/v1/recycle-bin/customers":  {perms: P(pCustManage)},
	"GET /api/v1/customers/duplicates": {perms: P(pCustView), path: func(f *rpFixture, _ *rpPersona) string {
		return "/api/v1/customers/duplicates?phone=" + f.phones[ownC]
	}},
	"POST /api/v1/customers/:id/release": {perms: P(pCustView), kind: "customer", fresh: true, body: bodyOf(map[string]any{"reason": "测试"})},
	"POST /api/v1/customers/:id/transfer": {perms: P(pCustTrans), kind: "customer", fresh: true, body: func(f *rpFixture, p *rpPersona, _ string, _ int64) any {
		return map[string]any{"to_user_id": f.transferTarget(p)}
	}},
	"POST /api/v1/customers/transfer": {perms: P(pCustTrans), body: func(f *rpFixture, p *rpPersona, _ string, _ int64) any {
		owner := ownA
		if p.sees[ownC] && !p.sees[ownA] {
			owner = ownC
		}
		return map[string]any{"customer_ids": []int64{f.fresh("customer", owner)}, "to_user_id": f.transferTarget(p)}
	}},
	"POST /api/v1/customers/:id/merge": {perms: P(pCustManage), kind: "customer", fresh: true, body: func(f *rpFixture, _ *rpPersona, owner string, _ int64) any {
		return map[string]any{"from_id": f.fresh("customer", owner)}
	}},

	// Contacts, follow-ups, sales, opportunities.
	"GET /api/v1/contacts":     {perms: P("contact.view"), queries: rpList},
	"GET /api/v1/contacts/:id": {perms: P("contact.view"), kind: "contact"},
	"POST /api/v1/contacts": {perms: P("contact.create"), kind: "customer", outOfScope: []int{400}, body: func(f *rpFixture, p *rpPersona, _ string, id int64) any {
		return map[string]any{"customer_id": id, "name": "FRESH联系人"}
	}},
	"PATCH /api/v1/contacts/:id": {perms: P("contact.edit"), kind: "contact", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("contacts", id), "name": "FRESH改"}
	}},
	"DELETE /api/v1/contacts/:id": {perms: P("contact.delete"), kind: "contact", fresh: true},
	"GET /api/v1/followups":       {perms: P("followup.view"), queries: rpList},
	"GET /api/v1/followups/:id":   {perms: P("followup.view"), kind: "followup"},
	"POST /api/v1/followups": {perms: P("followup.create"), kind: "customer", outOfScope: []int{400}, body: func(f *rpFixture, p *rpPersona, _ string, id int64) any {
		return map[string]any{"customer_id": id, "followed_at": "2026-11-20T02:00:00Z", "method": "phone", "content": "FRESH跟进"}
	}},
	"PATCH /api/v1/followups/:id": {perms: P("followup.edit"), kind: "followup", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("followups", id), "content": "FRESH改"}
	}},
	"DELETE /api/v1/followups/:id": {perms: P("followup.delete"), kind: "followup", fresh: true},
	"GET /api/v1/sales":            {perms: P("sale.view"), queries: rpList},
	"GET /api/v1/sales/:id":        {perms: P("sale.view"), kind: "sale"},
	"POST /api/v1/sales": {perms: P("sale.create"), kind: "customer", outOfScope: []int{400}, body: func(f *rpFixture, p *rpPersona, _ string, id int64) any {
		return map[string]any{"customer_id": id, "amount_fen": 100, "sale_date": "2026-11-02"}
	}},
	"PATCH /api/v1/sales/:id": {perms: P("sale.edit"), kind: "sale", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("sales", id), "notes": "FRESH改"}
	}},
	"DELETE /api/v1/sales/:id":              {perms: P("sale.delete"), kind: "sale", fresh: true},
	"POST /api/v1/sales/:id/restore":        {perms: P("sale.manage"), kind: "deleted-sale", fresh: true},
	"GET /api/v1/recycle-bin/sales":         {perms: P("sale.manage")},
	"GET /api/v1/opportunities":             {perms: P("opportunity.view"), queries: rpList},
	"GET /api/v1/opportunities/:id":         {perms: P("opportunity.view"), kind: "opportunity"},
	"GET /api/v1/opportunities/:id/history": {perms: P("opportunity.view"), kind: "opportunity"},
	"POST /api/v1/opportunities": {perms: P("opportunity.create"), kind: "customer", outOfScope: []int{400}, body: func(f *rpFixture, p *rpPersona, _ string, id int64) any {
		return map[string]any{"customer_id": id, "title": "FRESH商机"}
	}},
	"PATCH /api/v1/opportunities/:id": {perms: P("opportunity.edit"), kind: "opportunity", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("opportunities", id), "notes": "FRESH改"}
	}},
	"DELETE /api/v1/opportunities/:id": {perms: P("opportunity.delete"), kind: "opportunity", fresh: true},
	"POST /api/v1/opportunities/:id/stage": {perms: P("opportunity.edit"), kind: "opportunity", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"stage_id": f.stages["proposal"], "version": f.version("opportunities", id)}
	}},
	"POST /api/v1/opportunities/:id/sale":    {perms: P("sale.create"), kind: "won-opportunity", fresh: true, body: bodyOf(map[string]any{"sale_date": "2026-11-27"})},
	"POST /api/v1/opportunities/:id/restore": {perms: P("opportunity.manage"), kind: "deleted-opportunity", fresh: true},
	"GET /api/v1/recycle-bin/opportunities":  {perms: P("opportunity.manage")},
	"PUT /api/v1/opportunity-stages": {perms: P("opportunity.manage"), body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
		return map[string]any{"stages": f.currentStages()}
	}},
	"GET /api/v1/pipeline": {perms: P("opportunity.view"), queries: rpListNoCustomer},
	"GET /api/v1/pipeline/:stage_id": {perms: P("opportunity.view"), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/pipeline/%d", f.stages["initial"])
	}},

	// Products.
	"GET /api/v1/products":     {perms: P("product.view")},
	"GET /api/v1/products/:id": {perms: P("product.view"), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/products/%d", f.product()) }},
	"POST /api/v1/products": {perms: P("product.manage"), body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
		f.seq++
		return map[string]any{"name": fmt.Sprint("产品", f.seq)}
	}},
	"PATCH /api/v1/products/:id": {perms: P("product.manage"), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/products/%d", f.product()) },
		body: bodyOf(map[string]any{"version": 1, "unit": "套"})},

	// Pool.
	"GET /api/v1/pool":            {perms: P("pool.view"), queries: rpList},
	"GET /api/v1/pool/rules":      {perms: P("pool.manage")},
	"PUT /api/v1/pool/rules":      {perms: P("pool.manage"), body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any { return f.poolRules() }},
	"GET /api/v1/pool/:id":        {perms: P("pool.view"), kind: "pool"},
	"POST /api/v1/pool/:id/claim": {perms: P("pool.create"), kind: "pool", fresh: true},
	"POST /api/v1/pool/:id/assign": {perms: P("pool.assign"), kind: "pool", fresh: true, body: func(f *rpFixture, p *rpPersona, _ string, _ int64) any {
		return map[string]any{"user_id": f.transferTarget(p)}
	}},

	// Imports and exports.
	"GET /api/v1/customers/import/template": {perms: P(pCustImport)},
	"POST /api/v1/customers/import":         {perms: P(pCustImport), body: bodyOf(map[string]any{"file": "x"}), allowed: []int{400}},
	"GET /api/v1/imports/:id":               {perms: P(pCustImport), path: func(*rpFixture, *rpPersona) string { return "/api/v1/imports/999999" }, allowed: []int{404}},
	"GET /api/v1/imports/:id/errors.xlsx":   {perms: P(pCustImport), path: func(*rpFixture, *rpPersona) string { return "/api/v1/imports/999999/errors.xlsx" }, allowed: []int{404}},
	"GET /api/v1/customers/export":          {perms: P(pCustExport), queries: rpListNoCustomer},
	"GET /api/v1/contacts/export":           {perms: P("contact.export"), queries: rpList},
	"GET /api/v1/followups/export":          {perms: P("followup.export"), queries: rpList},
	"GET /api/v1/sales/export":              {perms: P("sale.export"), queries: rpList},
	"GET /api/v1/opportunities/export":      {perms: P("opportunity.export"), queries: rpList},
	"GET /api/v1/audit/export":              {perms: P("audit.export")},
	"GET /api/v1/audit/logins/export":       {perms: P("audit.export")},

	// People, roles, organization, audit.
	"GET /api/v1/users":     {perms: P(auth.UserView)},
	"GET /api/v1/users/:id": {perms: P(auth.UserView), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/users/%d", f.userIDs["sim_s4"]) }},
	"POST /api/v1/users": {perms: P(auth.UserManage), body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
		return f.newUserBody("新人")
	}},
	"PATCH /api/v1/users/:id": {perms: P(auth.UserManage), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/users/%d", f.userIDs["sim_s4"]) },
		body: bodyOf(map[string]any{"title": "销售代表"})},
	"DELETE /api/v1/users/:id": {perms: P(auth.UserManage), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/users/%d", f.newUser(false)) }},
	"POST /api/v1/users/:id/activate": {perms: P(auth.UserManage), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/users/%d/activate", f.newUser(true))
	}},
	"PUT /api/v1/users/:id/roles": {perms: P(auth.UserManage), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/users/%d/roles", f.userIDs["sim_s4"])
	},
		body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
			return map[string]any{"role_ids": []int64{f.roleID("sales")}}
		}},
	"GET /api/v1/departments":   {},                                       // names only; every list's department filter needs them
	"GET /api/v1/roles":         {perms: P(auth.UserView, auth.RoleView)}, // the people page picks roles too
	"GET /api/v1/roles/catalog": {perms: P(auth.RoleView)},
	"GET /api/v1/roles/:id":     {perms: P(auth.RoleView), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/roles/%d", f.roleID("sales")) }},
	"POST /api/v1/roles": {perms: P("role.manage"), body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
		f.seq++
		return map[string]any{"name": fmt.Sprint("角色", f.seq), "data_scope": "self"}
	}},
	"PATCH /api/v1/roles/:id": {perms: P("role.manage"), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/roles/%d", f.newRole()) },
		body: bodyOf(map[string]any{"data_scope": "dept"})},
	"DELETE /api/v1/roles/:id": {perms: P("role.manage"), path: func(f *rpFixture, _ *rpPersona) string { return fmt.Sprintf("/api/v1/roles/%d", f.newRole()) }},
	"POST /api/v1/roles/:id/copy": {perms: P("role.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/roles/%d/copy", f.roleID("sales"))
	},
		body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
			f.seq++
			return map[string]any{"name": fmt.Sprint("副本", f.seq)}
		}},
	"GET /api/v1/audit":        {perms: P(auth.AuditView), queries: []string{"page_size=100"}},
	"GET /api/v1/audit/logins": {perms: P(auth.AuditView)},
	"POST /api/v1/org/sync":    {perms: P(auth.UserManage), allowed: []int{409}},
	"GET /api/v1/org/sync/:id": {perms: P(auth.UserView), path: func(*rpFixture, *rpPersona) string { return "/api/v1/org/sync/1" }, allowed: []int{404}},
	"GET /api/v1/org/syncs":    {perms: P(auth.UserView)},
	"GET /api/v1/org/tree":     {perms: P(auth.UserView)},
	"POST /api/v1/org/users/:id/auto-roles": {perms: P(auth.UserManage), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/org/users/%d/auto-roles", f.userIDs["sim_s4"])
	}},
	"GET /api/v1/dingtalk/usage":    {perms: P(auth.UserView)},
	"GET /api/v1/dingtalk/settings": {perms: P(auth.UserManage)},
	"POST /api/v1/dingtalk/test":    {perms: P(auth.UserManage)},

	// Company settings.
	"PUT /api/v1/settings":         {perms: P("setting.manage"), body: bodyOf(map[string]any{"currency_symbol": "¥"})},
	"PUT /api/v1/settings/logo":    {perms: P("setting.manage"), allowed: []int{400}},
	"DELETE /api/v1/settings/logo": {perms: P("setting.manage"), allowed: []int{404}},
	"PUT /api/v1/settings/options/:list": {perms: P("setting.manage"), path: func(*rpFixture, *rpPersona) string { return "/api/v1/settings/options/tags" },
		body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
			return map[string]any{"items": f.optionList("tags")}
		}},
	"POST /api/v1/settings/options/:list": {perms: P("setting.manage"), path: func(*rpFixture, *rpPersona) string { return "/api/v1/settings/options/tags" },
		body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any {
			f.seq++
			return map[string]any{"code": fmt.Sprint("t", f.seq), "label_zh": fmt.Sprint("标签", f.seq), "label_en": fmt.Sprint("tag", f.seq)}
		}},
	"PATCH /api/v1/settings/options/:list/:code": {perms: P("setting.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		return "/api/v1/settings/options/tags/" + f.optionList("tags")[0]["code"].(string)
	}, body: bodyOf(map[string]any{"active": true})},

	// Reminders (提醒) and the inbox (消息).
	"GET /api/v1/reminders":            {perms: P("reminder.view"), queries: []string{"", "when=all", "when=all&customer_id={custC}", "when=all&customer_id={custA}"}},
	"GET /api/v1/reminders/:id":        {perms: P("reminder.view"), kind: "reminder"},
	"GET /api/v1/reminders/recipients": {perms: P("reminder.create")}, // people one may remind: oneself, or one's scope with reminder.assign
	"POST /api/v1/reminders": {perms: P("reminder.create"), kind: "customer", outOfScope: []int{400}, body: func(f *rpFixture, p *rpPersona, _ string, id int64) any {
		return map[string]any{"customer_id": id, "remind_at": time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339), "content": "FRESH提醒"}
	}},
	"PATCH /api/v1/reminders/:id": {perms: P("reminder.edit"), kind: "reminder", fresh: true, body: func(f *rpFixture, _ *rpPersona, _ string, id int64) any {
		return map[string]any{"version": f.version("reminders", id), "content": "FRESH改"}
	}},
	"POST /api/v1/reminders/:id/done":   {perms: P("reminder.edit"), kind: "reminder", fresh: true},
	"POST /api/v1/reminders/:id/snooze": {perms: P("reminder.edit"), kind: "reminder", fresh: true, body: bodyOf(map[string]any{"minutes": 60})},
	"POST /api/v1/reminders/:id/cancel": {perms: P("reminder.delete"), kind: "reminder", fresh: true},
	"GET /api/v1/inbox":                 {queries: []string{"", "unread=true"}}, // one's own messages only
	"GET /api/v1/inbox/unread":          {},
	"POST /api/v1/inbox/:id/read":       {kind: "inbox"},
	"POST /api/v1/inbox/read-all":       {},

	// Scheduled jobs (定时任务) and the sales teams' group robots.
	"GET /api/v1/jobs":            {perms: P("job.view")},
	"GET /api/v1/jobs/:name/runs": {perms: P("job.view"), path: func(*rpFixture, *rpPersona) string { return "/api/v1/jobs/cleanup/runs" }},
	"PATCH /api/v1/jobs/:name": {perms: P("job.manage"), path: func(*rpFixture, *rpPersona) string { return "/api/v1/jobs/cleanup" },
		body: bodyOf(map[string]any{"schedule": "15 3 * * *"})},
	"POST /api/v1/jobs/:name/run": {perms: P("job.manage"), path: func(*rpFixture, *rpPersona) string { return "/api/v1/jobs/cleanup/run" },
		allowed: []int{409}}, // already running from the previous caller
	"GET /api/v1/robots": {perms: P("setting.view")},
	"PUT /api/v1/robots/:department_id": {perms: P("setting.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/robots/%d", f.deptIDs["销售一部"])
	}, body: func(f *rpFixture, _ *rpPersona, _ string, _ int64) any { return f.robotBody() }},
	"POST /api/v1/robots/:department_id/test": {perms: P("setting.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		path := fmt.Sprintf("/api/v1/robots/%d", f.deptIDs["销售一部"])
		if st := f.admin.Do("PUT", path, f.robotBody(), nil); st != 200 {
			f.t.Fatalf("put robot: %d", st)
		}
		return path + "/test"
	}},
	"DELETE /api/v1/robots/:department_id": {perms: P("setting.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		return fmt.Sprintf("/api/v1/robots/%d", f.deptIDs["销售二部"])
	}, allowed: []int{404}}, // no robot there: refused only after the permission check
	"POST /dingtalk/robot": {public: "DingTalk chat bot callback, signature-checked; answers are scanned by checkBot"},
	// Reports and targets.
	"GET /api/v1/reports/:type": {perms: P("report.view"), kind: "filter",
		paths: []string{"/api/v1/reports/sales", "/api/v1/reports/customers", "/api/v1/reports/performance", "/api/v1/reports/funnel", "/api/v1/reports/rfm",
			"/api/v1/reports/sales?user_id={userO}", "/api/v1/reports/customers?user_id={userO}", "/api/v1/reports/performance?user_id={userO}",
			"/api/v1/reports/funnel?user_id={userO}", "/api/v1/reports/rfm?user_id={userO}",
			"/api/v1/reports/sales?customer_id={custO}", "/api/v1/reports/customers?customer_id={custO}",
			"/api/v1/reports/funnel?customer_id={custO}", "/api/v1/reports/rfm?customer_id={custO}",
			"/api/v1/reports/sales?format=xlsx", "/api/v1/reports/customers?format=xlsx", "/api/v1/reports/rfm?format=xlsx",
			"/api/v1/reports/performance?format=xlsx", "/api/v1/reports/funnel?format=xlsx",
			"/api/v1/reports/customers?format=xlsx&user_id={userO}", "/api/v1/reports/rfm?format=xlsx&customer_id={custO}",
			"/api/v1/reports/customers?format=pdf", "/api/v1/reports/rfm?format=pdf&user_id={userO}"}},
	"GET /api/v1/reports/rfm/settings": {perms: P("report.view")},
	"PUT /api/v1/reports/rfm/settings": {perms: P("report.manage", "setting.manage"), body: bodyOf(map[string]any{"window_days": 365, "recency_days": 30, "frequency": 2, "monetary_fen": 100000})},
	"GET /api/v1/targets":              {perms: P("target.view"), queries: []string{"year=2026"}},
	"GET /api/v1/targets/attainment":   {perms: P("target.view"), queries: []string{"period=month"}},
	"PUT /api/v1/targets": {perms: P("target.edit"), body: func(f *rpFixture, p *rpPersona, _ string, _ int64) any {
		subject := f.userIDs["sim_s1"]
		if p.userid == "sim_mgr2" {
			subject = f.userIDs["sim_s5"]
		}
		return map[string]any{"items": []map[string]any{{"kind": "user", "subject_id": subject, "month": "2026-12", "amount_fen": 1000000}}}
	}},
	// Probes, metrics and 系统维护.
	"GET /readyz":                         {public: "readiness probe for the load balancer; answers ok/unavailable only"},
	"GET /metrics":                        {public: "Prometheus; answers loopback callers or a bearer token only (TestMetrics*); no records"},
	"GET /api/v1/system/info":             {perms: P("system.view")},
	"GET /api/v1/system/settings":         {perms: P("system.view")},
	"PATCH /api/v1/system/settings":       {perms: P("system.manage"), body: bodyOf(map[string]any{"login_log_days": 180})},
	"GET /api/v1/system/backups":          {perms: P("system.view")},
	"GET /api/v1/system/backups/progress": {perms: P("system.view")},
	"POST /api/v1/system/backups":         {perms: P("system.manage"), allowed: []int{409}}, // one backup at a time
	"POST /api/v1/system/backups/upload":  {perms: P("system.manage"), body: bodyOf("not an archive"), allowed: []int{400}},
	"GET /api/v1/system/backups/:name": {perms: P("system.manage"), path: func(f *rpFixture, _ *rpPersona) string {
		return "/api/v1/system/backups/" + f.backup()
	}},
}

func (f *rpFixture) robotBody() map[string]any {
	const secret = "SEC0123456789abcdef0123456789abcdef"
	return map[string]any{"name": "一部群", "webhook": f.srv.App.FakeDingTalk.AddWebhookRobot("tok-routeperm-abcdefgh", secret), "secret": secret}
}

// backup makes one backup (once) and returns its name: the archive holds
// every record, so only system.manage may download it.
func (f *rpFixture) backup() string {
	if f.backupName != "" {
		return f.backupName
	}
	if st := f.admin.Do("POST", "/api/v1/system/backups", nil, nil); st != 202 && st != 409 {
		f.t.Fatalf("start backup: %d", st)
	}
	var list struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
		Progress struct {
			Running bool `json:"running"`
		} `json:"progress"`
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f.admin.Do("GET", "/api/v1/system/backups", nil, &list)
		if !list.Progress.Running && len(list.Items) > 0 {
			f.backupName = list.Items[0].Name
			return f.backupName
		}
	}
	f.t.Fatal("no backup after 30 s")
	return ""
}
