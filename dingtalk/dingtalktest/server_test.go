package dingtalktest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// raw talks to the fake without the client, to check its wire answers.
type raw struct {
	t   *testing.T
	srv *dingtalktest.Server
}

func newRaw(t *testing.T, o dingtalktest.Options) *raw {
	if o.Org == nil {
		o.Org = dingtalktest.SimulatedOrg()
	}
	srv := dingtalktest.New(o)
	t.Cleanup(srv.Close)
	return &raw{t: t, srv: srv}
}

func (r *raw) do(method, path string, hdr map[string]string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL()+path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (r *raw) token() string {
	_, m := r.do("GET", "/gettoken?appkey="+r.srv.AppKey()+"&appsecret="+r.srv.AppSecret(), nil, nil)
	return m["access_token"].(string)
}

// oapi posts to an old-style endpoint and returns errcode and the answer.
func (r *raw) oapi(path string, body any) (int, map[string]any) {
	r.t.Helper()
	status, m := r.do("POST", path+"?access_token="+r.token(), nil, body)
	if status != 200 {
		r.t.Fatalf("%s: HTTP %d", path, status)
	}
	code, _ := m["errcode"].(float64)
	return int(code), m
}

func (r *raw) api(path, token string, body any) (int, map[string]any) {
	return r.do("POST", path, map[string]string{"x-acs-dingtalk-access-token": token, "Content-Type": "application/json"}, body)
}

func TestWorkNoticeLimits(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{QPS: -1})
	users := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "sim_s1"
		}
		return strings.Join(ids, ",")
	}
	// A text msg of exactly n bytes once compacted.
	msgOf := func(n int) map[string]any {
		overhead := len(`{"msgtype":"text","text":{"content":""}}`)
		return map[string]any{"msgtype": "text", "text": map[string]any{"content": strings.Repeat("a", n-overhead)}}
	}
	agent := r.srv.AgentID()
	tests := []struct {
		name string
		body map[string]any
		want int
	}{
		{"100 users", map[string]any{"agent_id": agent, "userid_list": users(100), "msg": msgOf(100)}, 0},
		{"101 users", map[string]any{"agent_id": agent, "userid_list": users(101), "msg": msgOf(100)}, 40035},
		{"20 departments", map[string]any{"agent_id": agent, "dept_id_list": strings.Repeat("2,", 19) + "2", "msg": msgOf(101)}, 0},
		{"21 departments", map[string]any{"agent_id": agent, "dept_id_list": strings.Repeat("2,", 20) + "2", "msg": msgOf(100)}, 40035},
		{"msg of 2048 bytes", map[string]any{"agent_id": agent, "userid_list": "sim_s2", "msg": msgOf(2048)}, 0},
		{"msg of 2049 bytes", map[string]any{"agent_id": agent, "userid_list": "sim_s2", "msg": msgOf(2049)}, 40035},
		{"msg as a JSON string", map[string]any{"agent_id": fmt.Sprint(agent), "userid_list": "sim_s3", "msg": `{"msgtype":"text","text":{"content":"s"}}`}, 0},
		{"wrong agent", map[string]any{"agent_id": 1, "userid_list": "sim_s2", "msg": msgOf(100)}, 40056},
		{"no recipient", map[string]any{"agent_id": agent, "msg": msgOf(100)}, 40035},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := r.oapi("/topapi/message/corpconversation/asyncsend_v2", tt.body)
			if code != tt.want {
				t.Errorf("errcode %d (%v), want %d", code, m["errmsg"], tt.want)
			}
			if code == 0 && m["task_id"] == nil {
				t.Error("no task_id")
			}
			if m["request_id"] == "" {
				t.Error("no request_id")
			}
		})
	}
}

func TestDailyCap(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{QPS: -1})
	var last float64
	for i := range dingtalktest.DailyPerUser + 1 {
		_, m := r.oapi("/topapi/message/corpconversation/asyncsend_v2", map[string]any{
			"agent_id": r.srv.AgentID(), "userid_list": "sim_s1",
			"msg": map[string]any{"msgtype": "text", "text": map[string]any{"content": fmt.Sprint("提醒 #", i)}},
		})
		last = m["task_id"].(float64)
	}
	if n := len(r.srv.DeliveriesTo("sim_s1")); n != dingtalktest.DailyPerUser {
		t.Errorf("%d delivered, want %d", n, dingtalktest.DailyPerUser)
	}
	_, m := r.oapi("/topapi/message/corpconversation/getsendresult", map[string]any{"agent_id": r.srv.AgentID(), "task_id": int64(last)})
	list := m["send_result"].(map[string]any)["forbidden_list"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["code"] != dingtalk.DropDailyCap {
		t.Errorf("forbidden_list = %v", list)
	}
}

func TestQPSLimitAnswers(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	r.srv.SetQPS(dingtalk.APIListAdmin, 5)
	tok := r.token()
	var refused int
	for range 8 {
		_, m := r.do("POST", "/topapi/user/listadmin?access_token="+tok, nil, map[string]any{})
		if m["errcode"].(float64) == 90018 {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d of 8 refused at 5/s, want 3", refused)
	}
	r.srv.Advance(time.Second)
	if _, m := r.do("POST", "/topapi/user/listadmin?access_token="+tok, nil, map[string]any{}); m["errcode"].(float64) != 0 {
		t.Errorf("a second later: %v", m)
	}
	// The default is the real 20/s; the api host answers in its own style.
	_, at := r.api("/v1.0/oauth2/accessToken", "", map[string]string{"appKey": r.srv.AppKey(), "appSecret": r.srv.AppSecret()})
	apiTok := at["accessToken"].(string)
	var status int
	var body map[string]any
	for range 21 {
		status, body = r.api("/v1.0/robot/groupMessages/send", apiTok, map[string]string{
			"robotCode": r.srv.AppKey(), "openConversationId": "c", "msgKey": "sampleText", "msgParam": `{"content":"x"}`})
	}
	if status != 403 || body["code"] != "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" || body["requestid"] == "" {
		t.Errorf("21st call: %d %v", status, body)
	}
}

func TestMonthlyQuota(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{Now: func() time.Time { return time.Date(2026, 8, 31, 12, 0, 0, 0, time.UTC) }})
	r.srv.SetMonthlyQuota(2)
	send := func() int {
		code, _ := r.oapi("/topapi/message/corpconversation/asyncsend_v2", map[string]any{
			"agent_id": r.srv.AgentID(), "userid_list": "sim_s1", "msg": map[string]any{"msgtype": "text", "text": map[string]any{"content": time.Now().String()}}})
		return code
	}
	if a, b, c := send(), send(), send(); a != 0 || b != 0 || c != 90020 {
		t.Errorf("sends: %d %d %d, want 0 0 90020", a, b, c)
	}
	if code, _ := r.oapi("/topapi/v2/user/get", map[string]any{"userid": "sim_s1"}); code != 0 {
		t.Errorf("contact APIs are exempt: errcode %d", code)
	}
	if r.srv.QuotaUsed() != 2 {
		t.Errorf("quota used %d", r.srv.QuotaUsed())
	}
	r.srv.Advance(12 * time.Hour) // September in Shanghai
	if code := send(); code != 0 {
		t.Errorf("next month: errcode %d", code)
	}
}

func TestAppTokenLifetime(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{TokenTTL: time.Hour})
	a := r.token()
	r.srv.Advance(50 * time.Minute)
	if b := r.token(); b != a {
		t.Errorf("asking again while valid gave a new token")
	}
	r.srv.Advance(50 * time.Minute) // 100 min after the first ask, 50 after the renewal
	_, m := r.do("POST", "/topapi/user/listadmin?access_token="+a, nil, map[string]any{})
	if m["errcode"].(float64) != 0 {
		t.Errorf("renewed token refused: %v", m)
	}
	r.srv.Advance(61 * time.Minute)
	_, m = r.do("POST", "/topapi/user/listadmin?access_token="+a, nil, map[string]any{})
	if m["errcode"].(float64) != 42001 {
		t.Errorf("expired token: %v, want 42001", m)
	}
	if r.token() == a {
		t.Error("expired token handed out again")
	}
	_, m = r.do("GET", "/gettoken?appkey=x&appsecret=y", nil, nil)
	if m["errcode"].(float64) == 0 {
		t.Error("wrong secret accepted")
	}
}

func TestUserListPaging(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	tests := []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"dept_id": 2, "cursor": 0, "size": 100}, 0},
		{map[string]any{"dept_id": 2, "cursor": 0, "size": 101}, 40069},
		{map[string]any{"dept_id": 2, "cursor": -1, "size": 10}, 40068},
		{map[string]any{"dept_id": 42, "cursor": 0, "size": 10}, 60003},
	}
	for _, tt := range tests {
		if code, m := r.oapi("/topapi/v2/user/list", tt.body); code != tt.want {
			t.Errorf("%v: errcode %d (%v), want %d", tt.body, code, m["errmsg"], tt.want)
		}
	}
	_, m := r.oapi("/topapi/user/listsimple", map[string]any{"dept_id": 3, "cursor": 0, "size": 2})
	res := m["result"].(map[string]any)
	if res["has_more"] != true || res["next_cursor"].(float64) != 2 || len(res["list"].([]any)) != 2 {
		t.Errorf("listsimple = %v", res)
	}
}

func TestEveryEndpointIsRouted(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	for _, e := range dingtalktest.Endpoints() {
		f := strings.Fields(e)
		path := strings.ReplaceAll(f[1], "{unionId}", "me")
		req, _ := http.NewRequest(f[0], r.srv.URL()+path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && !strings.Contains(path, "/contact/") || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s: HTTP %d", e, resp.StatusCode)
		}
	}
}

func TestOAuthPageChecksParameters(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	good := url.Values{"client_id": {r.srv.AppKey()}, "response_type": {"code"}, "scope": {"openid"},
		"prompt": {"consent"}, "redirect_uri": {"https://crm.example.com/cb"}, "state": {"s"}}
	for _, drop := range []string{"", "client_id", "prompt", "redirect_uri", "response_type"} {
		q := url.Values{}
		for k, v := range good {
			if k != drop {
				q[k] = v
			}
		}
		resp, err := http.Get(r.srv.URL() + "/oauth2/auth?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if drop == "" && (resp.StatusCode != 200 || !strings.Contains(string(body), "sim_mgr1")) {
			t.Errorf("picker page: %d", resp.StatusCode)
		}
		if drop != "" && resp.StatusCode != 400 {
			t.Errorf("without %s: HTTP %d, want 400", drop, resp.StatusCode)
		}
	}
}
