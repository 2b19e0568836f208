package web_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/excel/exceltest"
)

type loginLogJSON struct {
	Items []struct {
		ActorID   int64  `json:"actor_id"`
		ActorName string `json:"actor_name"`
		Success   bool   `json:"success"`
		IP        string `json:"ip"`
		UserAgent string `json:"user_agent"`
		Method    string `json:"method"`
		Reason    string `json:"reason"`
	} `json:"items"`
	Total int `json:"total"`
}

const testUA = "LoginLogTest/1.0 (DingTalk)"

// fetchExport fetches an export and returns its status and body.
func fetchExport(t *testing.T, c *apptest.Client, path string) (int, []byte) {
	t.Helper()
	resp := c.Raw("GET", path, nil, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestLoginLog: a sign-in and a deactivated person's refused attempt are
// listed with IP, client and method (and the refusal's reason); the
// filters narrow it; only audit.view reads it; exports hold the rows.
func TestLoginLog(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			admin := srv.Login(t, "sim_admin")
			s8 := srv.Login(t, "sim_s8")
			s8ID := int64(s8.Me["id"].(float64))
			if st := admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", s8ID), nil, nil); st != 204 {
				t.Fatalf("deactivate: %d", st)
			}
			resp := srv.Anonymous(t).Raw("POST", "/api/v1/auth/dev-login", map[string]any{"userid": "sim_s8"},
				map[string]string{"User-Agent": testUA})
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("deactivated login: %d", resp.StatusCode)
			}
			var all loginLogJSON
			if st := admin.Do("GET", fmt.Sprintf("/api/v1/audit/logins?actor_id=%d", s8ID), nil, &all); st != 200 || all.Total != 2 {
				t.Fatalf("login log of s8: %d %+v", st, all)
			}
			fail, ok := all.Items[0], all.Items[1]
			if fail.Success || fail.Reason != "inactive" || fail.UserAgent != testUA || fail.IP == "" || fail.Method != "simulated" {
				t.Errorf("failure: %+v", fail)
			}
			if !ok.Success || ok.ActorName == "" || ok.IP == "" || ok.UserAgent == "" || ok.Method != "simulated" || ok.Reason != "" {
				t.Errorf("success: %+v", ok)
			}
			for q, want := range map[string]int{"result=failure": 1, "result=success": 1, "from=2000-01-01&to=2000-01-02": 0} {
				var l loginLogJSON
				if st := admin.Do("GET", fmt.Sprintf("/api/v1/audit/logins?actor_id=%d&%s", s8ID, q), nil, &l); st != 200 || l.Total != want {
					t.Errorf("filter %s: %d total %d, want %d", q, st, l.Total, want)
				}
			}
			var everyone loginLogJSON
			admin.Do("GET", "/api/v1/audit/logins?result=success", nil, &everyone)
			if everyone.Total != 2 { // sim_admin and sim_s8
				t.Errorf("all successes: %+v", everyone)
			}
			for _, q := range []string{"result=maybe", "from=notadate", "page_size=1000"} {
				if st := admin.Do("GET", "/api/v1/audit/logins?"+q, nil, nil); st != 400 {
					t.Errorf("bad filter %s: %d", q, st)
				}
			}
			mgr := srv.Login(t, "sim_mgr1")
			for _, path := range []string{"/api/v1/audit/logins", "/api/v1/audit/export", "/api/v1/audit/logins/export"} {
				if st := mgr.Do("GET", path, nil, nil); st != 403 {
					t.Errorf("manager GET %s: %d, want 403", path, st)
				}
			}

			st, b := fetchExport(t, admin, fmt.Sprintf("/api/v1/audit/logins/export?actor_id=%d", s8ID))
			if st != 200 {
				t.Fatalf("login export: %d %s", st, b)
			}
			rows := exceltest.Rows(t, b)
			if len(rows) != 3 || rows[0][0] != "时间" || rows[1][2] != "失败" || rows[1][4] != testUA ||
				rows[1][6] != "inactive" || rows[2][2] != "成功" {
				t.Errorf("login export rows: %q", rows)
			}
			st, b = fetchExport(t, admin, fmt.Sprintf("/api/v1/audit/export?entity=user&entity_id=%d", s8ID))
			if st != 200 {
				t.Fatalf("audit export: %d %s", st, b)
			}
			rows = exceltest.Rows(t, b)
			if len(rows) != 3 || rows[1][2] != "deactivate" || rows[2][2] != "create" || rows[1][3] != "user" || rows[1][8] == "" {
				t.Errorf("audit export rows: %q", rows)
			}
			if st, _ := fetchExport(t, admin, "/api/v1/audit/export?format=csv"); st != 400 {
				t.Errorf("csv export: %d", st)
			}
			var exports auditJSON
			admin.Do("GET", "/api/v1/audit?action=export", nil, &exports)
			if exports.Total != 2 || exports.Items[0].Entity != "audit_log" || exports.Items[1].Entity != "login_log" {
				t.Errorf("exports not audited: %+v", exports)
			}
		})
	}
}
