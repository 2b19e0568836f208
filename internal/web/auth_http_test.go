package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

func TestSessionsAndCSRF(t *testing.T) {
	srv := apptest.Start(t)
	anon := srv.Anonymous(t)
	var e errJSON
	if st := anon.Do("GET", "/api/v1/me", nil, &e); st != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("anonymous /me: %d %+v", st, e)
	}
	if st := anon.Do("POST", "/api/v1/auth/dev-login", map[string]any{"userid": "nobody"}, nil); st != 401 {
		t.Fatalf("unknown user login: %d", st)
	}
	sales := srv.Login(t, "sim_s1")

	// The session cookie is HttpOnly and SameSite=Lax; the CSRF cookie is readable.
	resp := srv.Anonymous(t).Raw("POST", "/api/v1/auth/dev-login", map[string]any{"userid": "sim_s2"}, nil)
	resp.Body.Close()
	var sawSession bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "crm_session" {
			sawSession = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || len(ck.Value) < 22 {
				t.Errorf("session cookie flags: %+v", ck)
			}
		}
		if ck.Name == "crm_csrf" && ck.HttpOnly {
			t.Error("csrf cookie must be readable by the app")
		}
	}
	if !sawSession {
		t.Fatal("no session cookie")
	}

	var me map[string]any
	if st := sales.Do("GET", "/api/v1/me", nil, &me); st != 200 || me["name"] != "王芳" || me["data_scope"] != "self" {
		t.Fatalf("/me: %d %v", st, me)
	}
	body := map[string]any{"name": "CSRF 测试"}
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no csrf header", map[string]string{"X-CSRF-Token": ""}, 403},
		{"wrong csrf header", map[string]string{"X-CSRF-Token": "forged"}, 403},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"same origin", map[string]string{"Origin": srv.URL}, 201},
		{"bearer needs no csrf", map[string]string{"X-CSRF-Token": "", "Authorization": "Bearer " + sales.Token, "Cookie": ""}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := sales.Raw("POST", "/api/v1/customers", body, tt.headers)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if st := sales.Do("POST", "/api/v1/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	bearer := srv.Anonymous(t)
	resp = bearer.Raw("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer " + sales.Token})
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("token still valid after logout: %d", resp.StatusCode)
	}
}

// TestDeactivationEndsSessions: 删除用户 deactivates; the person's live
// session stops working at once and they cannot sign in again.
func TestDeactivationEndsSessions(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			victim := srv.Login(t, "sim_s2")
			admin := srv.Login(t, "sim_admin")
			id := int64(victim.Me["id"].(float64))
			if st := admin.Do("DELETE", fmt.Sprintf("/api/v1/users/%d", id), nil, nil); st != 204 {
				t.Fatalf("deactivate: %d", st)
			}
			if st := victim.Do("GET", "/api/v1/me", nil, nil); st != 401 {
				t.Fatalf("deactivated person's session: %d", st)
			}
			var e errJSON
			if st := srv.Anonymous(t).Do("POST", "/api/v1/auth/dev-login", map[string]any{"userid": "sim_s2"}, &e); st != 401 || !strings.Contains(e.Error.Message, "停用") {
				t.Fatalf("deactivated login: %d %+v", st, e)
			}
			// Their customers stay.
			var n int
			srv.App.DB.Get(&n, "SELECT COUNT(*) FROM customers WHERE owner_id = ?", id)
			if n == 0 {
				t.Fatal("a deactivated person's customers vanished")
			}
			if st := admin.Do("POST", fmt.Sprintf("/api/v1/users/%d/activate", id), nil, nil); st != 200 {
				t.Fatalf("activate: %d", st)
			}
			srv.Login(t, "sim_s2")
		})
	}
}

func TestLanguage(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Login(t, "sim_s1")
	var e errJSON
	c.Do("POST", "/api/v1/customers", map[string]any{"phone": "1"}, &e)
	if e.Error.Fields["name"] != "必填" {
		t.Fatalf("default language should be zh-CN: %+v", e)
	}
	c.Lang = "en"
	c.Do("POST", "/api/v1/customers", map[string]any{"phone": "1"}, &e)
	if e.Error.Fields["name"] != "Required" || e.Error.Message != "Some fields need attention" {
		t.Fatalf("Accept-Language en ignored: %+v", e)
	}
	// A saved preference applies when the request names no language.
	c.Lang = ""
	if st := c.Do("PATCH", "/api/v1/me", map[string]any{"lang": "en"}, nil); st != 200 {
		t.Fatalf("save lang: %d", st)
	}
	c.Do("POST", "/api/v1/customers", map[string]any{"phone": "1"}, &e)
	if e.Error.Fields["phone"] != "Enter a valid mobile or landline number" {
		t.Fatalf("saved preference ignored: %+v", e)
	}
	var opts map[string][]map[string]string
	c.Lang = "zh-CN"
	c.Do("GET", "/api/v1/meta/options", nil, &opts)
	if opts["levels"][0]["label"] != "A 重点客户" {
		t.Fatalf("options: %v", opts["levels"])
	}
}
