package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/config"
)

// postCallback posts an unsigned body to a callback path and returns the
// status, the Retry-After header and the error message of a JSON answer.
func postCallback(t *testing.T, base, path, lang string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path+"?signature=x&timestamp=1&nonce=n", strings.NewReader(`{"encrypt":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", lang)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(b, &body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body.Error.Message
}

// awayFromMinuteEdge waits out the last seconds of a minute: the limit
// counts in fixed one-minute windows, and a test straddling two would see
// its count reset half-way.
func awayFromMinuteEdge() {
	if s := time.Now().Second(); s >= 50 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
}

// TestCallbackRateLimit: DingTalk's event and robot callbacks share one
// per-address budget. Under it requests reach the callbacks (a signed
// robot message is answered); over it they get 429 with Retry-After and a
// localized message before any crypto or database work. With Redis the
// count is shared by every instance.
func TestCallbackRateLimit(t *testing.T) {
	const limit = 6
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartWith(t, apptest.Options{Engine: engine,
				Config: func(c *config.Config) { c.HTTP.CallbackRatePerMinute = limit }})
			shared := srv.Config().Redis.Addr != ""
			other := srv
			if shared {
				other = srv.Another(t) // the budget holds across instances only through Redis
			}
			awayFromMinuteEdge()
			// Under the limit: served by the callbacks themselves.
			if reply := newBotEnv(t, srv).say("sim_s1", "帮助"); !strings.Contains(reply, "客户") {
				t.Errorf("robot under the limit answered %q", reply)
			}
			for i := 1; i < limit; i++ {
				s, path := srv, "/dingtalk/events"
				if i%2 == 0 {
					s, path = other, "/dingtalk/robot"
				}
				if st, _, _ := postCallback(t, s.URL, path, "en"); st == http.StatusTooManyRequests || st >= 500 {
					t.Fatalf("request %d to %s under the limit: %d", i+1, path, st)
				}
			}
			for _, tc := range []struct {
				s                *apptest.Server
				path, lang, want string
			}{
				{other, "/dingtalk/events", "en", "Too many attempts"},
				{srv, "/dingtalk/robot", "zh-CN", "操作太频繁"},
			} {
				st, retry, msg := postCallback(t, tc.s.URL, tc.path, tc.lang)
				if st != http.StatusTooManyRequests || retry == "" || !strings.Contains(msg, tc.want) {
					t.Errorf("%s over the limit: %d, Retry-After %q, message %q", tc.path, st, retry, msg)
				}
			}
		})
	}
}
