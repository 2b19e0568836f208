package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
)

// fuzzLists are the list endpoints whose query strings carry the search,
// filters, sort and paging (params.go and each module's filter).
var fuzzLists = []string{"/api/v1/customers", "/api/v1/recycle-bin/customers", "/api/v1/pool", "/api/v1/contacts",
	"/api/v1/followups", "/api/v1/sales", "/api/v1/opportunities", "/api/v1/pipeline", "/api/v1/audit",
	"/api/v1/users", "/api/v1/reminders", "/api/v1/reports/sales", "/api/v1/reports/funnel"}

// FuzzListQuery sends arbitrary query strings to the list endpoints as an
// admin of a real CRM (SQLite): every answer is 200 with a JSON body or a
// 4xx with a stable error code, never a 5xx (an SQL error, a panic) and
// never a non-JSON body.
func FuzzListQuery(f *testing.F) {
	for _, q := range []string{"q=王&sort=-created_at&page=2&page_size=50", "q=%25_%5C&level=A&status=won",
		"created_from=2026-01-01&created_to=2025-01-01", "created_from=9999-12-31T23:59:59Z&next_follow_to=0001-01-01",
		"department_ids=1,2,,3&owner_id=-1", "page=99999999999999999999&page_size=0", "sort=name;DROP TABLE customers",
		"q=" + url.QueryEscape("\x00\x1f\uFFFD") + "&tag=%22", "rfm_segment=champions", "from=2026-11&to=2026-13&group=owner",
		"q=13800138000", "%zz=1&&=&q"} {
		for i := range fuzzLists {
			f.Add(uint8(i), q)
		}
	}
	srv := apptest.Start(f)
	token := srv.Login(f, "sim_admin").Token // the client's testing.TB is f: use the token with plain requests
	f.Fuzz(func(t *testing.T, which uint8, rawQuery string) {
		path := fuzzLists[int(which)%len(fuzzLists)]
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = wireQuery(rawQuery)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s?%s: %d %s", path, rawQuery, resp.StatusCode, b)
		}
		var body struct {
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("GET %s?%s: %d, not JSON: %q", path, rawQuery, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 && (body.Error == nil || body.Error.Code == "") {
			t.Fatalf("GET %s?%s: %d without an error code: %s", path, rawQuery, resp.StatusCode, b)
		}
	})
}

// wireQuery percent-encodes the bytes that cannot travel in a request line
// (net/http refuses such a request before the app sees it); everything
// else, malformed escapes included, goes as the fuzzer made it.
func wireQuery(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
