package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

func counts(t *testing.T, srv *apptest.Server) (customers, audits int) {
	t.Helper()
	db := srv.App.DB
	db.Get(&customers, "SELECT COUNT(*) FROM customers")
	db.Get(&audits, "SELECT COUNT(*) FROM audit_log")
	return
}

// TestBadInputChangesNothing sends malformed and hostile bodies; each must
// get a 4xx naming the problem, and nothing may be written.
func TestBadInputChangesNothing(t *testing.T) {
	srv := apptest.Start(t)
	sales := srv.Login(t, "sim_s1")
	long := strings.Repeat("长", 101)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed json", `{"name": "x"`, 400, "bad_json", ""},
		{"not an object", `[1,2]`, 400, "bad_json", ""},
		{"two values", `{"name":"a"} {"name":"b"}`, 400, "bad_json", ""},
		{"empty body", ``, 400, "bad_json", ""},
		{"unknown field", map[string]any{"name": "x", "owner": 1}, 400, "validation_failed", "owner"},
		{"wrong type", `{"name": 5}`, 400, "validation_failed", "name"},
		{"missing name", map[string]any{"phone": "13800001111"}, 400, "validation_failed", "name"},
		{"blank name", map[string]any{"name": "   "}, 400, "validation_failed", "name"},
		{"long name", map[string]any{"name": long}, 400, "validation_failed", "name"},
		{"bad phone", map[string]any{"name": "x", "phone": "12345"}, 400, "validation_failed", "phone"},
		{"sql in phone", map[string]any{"name": "x", "phone": "1' OR '1'='1"}, 400, "validation_failed", "phone"},
		{"bad level", map[string]any{"name": "x", "level": "vip"}, 400, "validation_failed", "level"},
		{"too many tags", map[string]any{"name": "x", "tags": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, 400, "validation_failed", "tags"},
		{"control chars", map[string]any{"name": "a\u0000b"}, 400, "validation_failed", "name"},
		{"bad date", `{"name":"x","next_follow_at":"tomorrow"}`, 400, "bad_json", ""},
		{"huge body", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large", ""},
	}
	c0, a0 := counts(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errJSON
			st := sales.Do("POST", "/api/v1/customers", tt.body, &e)
			if st != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", st, e, tt.status, tt.code)
			}
			if tt.field != "" && e.Error.Fields[tt.field] == "" {
				t.Fatalf("no message for field %q: %+v", tt.field, e.Error.Fields)
			}
		})
	}
	if c1, a1 := counts(t, srv); c1 != c0 || a1 != a0 {
		t.Fatalf("bad input wrote rows: customers %d→%d, audit %d→%d", c0, c1, a0, a1)
	}
}

func TestBadListParameters(t *testing.T) {
	srv := apptest.Start(t)
	sales := srv.Login(t, "sim_s1")
	tests := []struct{ query, field string }{
		{"page_size=0", "page_size"},
		{"page_size=-5", "page_size"},
		{"page_size=100000", "page_size"},
		{"page=-1", "page"},
		{"page=abc", "page"},
		{"sort=password", "sort"},
		{"sort=name%3BDROP%20TABLE%20customers", "sort"},
		{"owner_id=x", "owner_id"},
		{"created_from=yesterday", "created_from"},
		{"created_from=2026-11-27&created_to=2026-11-01", "created_to"},
		{"status=nope", "status"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var e errJSON
			if st := sales.Do("GET", "/api/v1/customers?"+tt.query, nil, &e); st != 400 || e.Error.Fields[tt.field] == "" {
				t.Fatalf("got %d %+v, want 400 on %s", st, e, tt.field)
			}
		})
	}
}

// TestHostileTextIsLiteral stores SQL and HTML metacharacters and finds them
// again: they are data, never code.
func TestHostileTextIsLiteral(t *testing.T) {
	srv := apptest.Start(t)
	sales := srv.Login(t, "sim_s1")
	names := []string{`<script>alert(1)</script>`, `Robert'); DROP TABLE customers;--`, `100%_off\`, `"引号" & 'apostrophe'`}
	for _, n := range names {
		var c customerJSON
		if st := sales.Do("POST", "/api/v1/customers", map[string]any{"name": n, "company": n}, &c); st != 201 || c.Name != n {
			t.Fatalf("create %q: %d %q", n, st, c.Name)
		}
	}
	for _, q := range []string{"%", "_", `\`, "'", `%_`, "'); drop", "<script>", "drop table", `"引号" &`} {
		l := search(t, sales, q)
		for _, it := range l.Items {
			if !strings.Contains(strings.ToLower(it.Name+it.Company), strings.ToLower(q)) {
				t.Errorf("q=%q matched %q, which does not contain it", q, it.Name)
			}
		}
		if q == "%" || q == "_" || q == "'" {
			continue // one character: substring scan; fine as long as literal
		}
		if len(l.Items) == 0 {
			t.Errorf("q=%q found nothing; the customers containing it exist", q)
		}
	}
	if l := search(t, sales, "%%%%"); l.Total != 0 {
		t.Errorf("%%%% matched %d customers; nobody's name contains it", l.Total)
	}
	if l := search(t, sales, url.QueryEscape("x")); l.Total < 0 {
		t.Error("unreachable")
	}
}
