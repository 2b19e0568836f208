package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/config"
)

// TestSecurityHeaders: every answer forbids sniffing, cross-site
// referrers, framing by other sites and foreign scripts; API answers
// (personal data, exports included) are never cached; HSTS is sent only
// when the CRM runs behind HTTPS (secure cookies).
func TestSecurityHeaders(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	anon := srv.Anonymous(t)
	every := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		"X-Frame-Options": "SAMEORIGIN"}
	csp := []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'self'", "base-uri 'none'"}
	tests := []struct {
		name    string
		c       *apptest.Client
		path    string
		status  int
		noStore bool
	}{
		{"the app's page", anon, "/", 200, false},
		{"a script", anon, "/assets/app.js", 200, false},
		{"a customer list", admin, "/api/v1/customers", 200, true},
		{"a customer", admin, "/api/v1/customers/1", 200, true},
		{"the signed-in person", admin, "/api/v1/me", 200, true},
		{"an export", admin, "/api/v1/customers/export", 200, true},
		{"a refusal", anon, "/api/v1/customers", 401, true},
		{"an unknown API path", anon, "/api/v1/nothing", 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.c.Raw("GET", tt.path, nil, nil)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range every {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, d := range csp {
				if !strings.Contains(resp.Header.Get("Content-Security-Policy"), d) {
					t.Errorf("CSP %q lacks %q", resp.Header.Get("Content-Security-Policy"), d)
				}
			}
			if got := resp.Header.Get("Cache-Control"); (got == "no-store") != tt.noStore {
				t.Errorf("Cache-Control = %q (no-store wanted: %v)", got, tt.noStore)
			}
			if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
				t.Errorf("HSTS %q over plain HTTP", h)
			}
		})
	}
	secure := apptest.StartWith(t, apptest.Options{Config: func(c *config.Config) { c.Session.Secure = true }})
	resp, err := http.Get(secure.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=31536000") {
		t.Errorf("behind HTTPS: HSTS %q", h)
	}
}
