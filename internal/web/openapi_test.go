package web_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// TestOpenAPICoversEveryRoute fails when a route is registered but not
// documented (or documented but gone).
func TestOpenAPICoversEveryRoute(t *testing.T) {
	srv := apptest.Start(t)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if st := srv.Anonymous(t).Do("GET", "/api/v1/openapi.json", nil, &doc); st != 200 {
		t.Fatalf("openapi: %d", st)
	}
	param := regexp.MustCompile(`:(\w+)`)
	registered := map[string]bool{}
	for _, r := range srv.App.Web.Routes() {
		p := param.ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + p
		registered[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, p)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not registered", m, p)
			}
		}
	}
	b, _ := json.Marshal(doc)
	if len(b) < 1000 {
		t.Fatal("openapi document suspiciously small")
	}
}

func TestHealthAndRequestID(t *testing.T) {
	srv := apptest.Start(t)
	c := srv.Anonymous(t)
	var h map[string]string
	if st := c.Do("GET", "/healthz", nil, &h); st != 200 || h["status"] != "ok" {
		t.Fatalf("healthz: %d %v", st, h)
	}
	if st := c.Do("GET", "/readyz", nil, &h); st != 200 || h["database"] != "ok" || h["kv"] != "ok" {
		t.Fatalf("readyz: %d %v", st, h)
	}
	resp := c.Raw("GET", "/healthz", nil, map[string]string{"X-Request-ID": "trace-12345678"})
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "trace-12345678" {
		t.Fatalf("request id not echoed: %q", resp.Header.Get("X-Request-ID"))
	}
	resp = c.Raw("GET", "/healthz", nil, map[string]string{"X-Request-ID": "<bad id>"})
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); id == "<bad id>" || len(id) < 16 {
		t.Fatalf("insane request id adopted: %q", id)
	}
	var e errJSON
	if st := c.Do("GET", "/api/v1/nope", nil, &e); st != 404 || e.Error.Code != "not_found" {
		t.Fatalf("unknown api path: %d %+v", st, e)
	}
	resp = c.Raw("GET", "/", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("index: %d %v", resp.StatusCode, resp.Header)
	}
}
