package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/apptest"
)

// addOutsider puts a person into the fake DingTalk organization who was
// never synced to the CRM (LoadOrg pushes no events, so nothing syncs them).
func addOutsider(t *testing.T, fake *dingtalktest.Server, userID string) {
	t.Helper()
	org := fake.Org()
	org.Users = append(org.Users, dingtalktest.User{UserID: userID, Name: "外部访客", DeptIDs: []int64{1}})
	if err := fake.LoadOrg(org); err != nil {
		t.Fatal(err)
	}
}

func deactivate(t *testing.T, srv *apptest.Server, userID string) {
	t.Helper()
	if _, err := srv.App.DB.Exec("UPDATE users SET active = ? WHERE userid = ?", false, userID); err != nil {
		t.Fatal(err)
	}
}

func countSessions(t *testing.T, srv *apptest.Server) int {
	t.Helper()
	var n int
	if err := srv.App.DB.Get(&n, "SELECT COUNT(*) FROM sessions"); err != nil {
		t.Fatal(err)
	}
	return n
}

func setsSession(resp *http.Response) bool {
	for _, ck := range resp.Cookies() {
		if ck.Name == "crm_session" && ck.Value != "" {
			return true
		}
	}
	return false
}

// TestDingTalkCodeLogin: the login-free code from inside DingTalk signs its
// owner in (cookie, then /me) exactly once; every refusal has its own code
// and a localized message, and starts no session.
func TestDingTalkCodeLogin(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			fake := srv.App.FakeDingTalk
			addOutsider(t, fake, "dt_outsider")
			deactivate(t, srv, "sim_s2")

			c := srv.Anonymous(t)
			code := fake.IssueLoginCode("sim_s1")
			resp := c.Raw("POST", "/api/v1/auth/dingtalk", map[string]any{"code": code}, nil)
			resp.Body.Close()
			if resp.StatusCode != 200 || !setsSession(resp) {
				t.Fatalf("login: %d, session cookie %v", resp.StatusCode, setsSession(resp))
			}
			var me map[string]any
			if st := c.Do("GET", "/api/v1/me", nil, &me); st != 200 || me["userid"] != "sim_s1" {
				t.Fatalf("/me after the code login: %d %v", st, me)
			}

			tests := []struct {
				name     string
				body     any
				headers  map[string]string
				lang     string
				status   int
				code     string
				message  string
				prepare  func()
				sessions bool
			}{
				{name: "reused code", body: map[string]any{"code": code}, status: 401, code: "auth.code_used", message: "已被使用"},
				{name: "not in the CRM", body: map[string]any{"code": fake.IssueLoginCode("dt_outsider")}, status: 403,
					code: "auth.not_in_org", message: "不在本 CRM 的组织中"},
				{name: "not in the CRM, in English", lang: "en", body: map[string]any{"code": fake.IssueLoginCode("dt_outsider")},
					status: 403, code: "auth.not_in_org", message: "not in this CRM's organization"},
				{name: "deactivated", body: map[string]any{"code": fake.IssueLoginCode("sim_s2")}, status: 403,
					code: "auth.inactive", message: "停用"},
				{name: "no code", body: map[string]any{"code": " "}, status: 400, code: "validation_failed"},
				{name: "unknown field", body: map[string]any{"code": "x", "userid": "sim_admin"}, status: 400, code: "validation_failed"},
				{name: "foreign page", body: map[string]any{"code": fake.IssueLoginCode("sim_s1")},
					headers: map[string]string{"Origin": "https://evil.example"}, status: 403, code: "csrf_failed"},
				{name: "dingtalk refuses the app", body: map[string]any{"code": fake.IssueLoginCode("sim_s1")},
					prepare: func() { fake.FailNext(dingtalk.APIGetUserInfo, 88, 1) }, status: 503, code: "auth.dingtalk_unavailable"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.prepare != nil {
						tt.prepare()
					}
					before := countSessions(t, srv)
					anon := srv.Anonymous(t)
					anon.Lang = tt.lang
					resp := anon.Raw("POST", "/api/v1/auth/dingtalk", tt.body, tt.headers)
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != tt.status || !strings.Contains(string(b), `"code":"`+tt.code+`"`) ||
						!strings.Contains(string(b), tt.message) {
						t.Fatalf("%d %s; want %d %s %q", resp.StatusCode, b, tt.status, tt.code, tt.message)
					}
					if setsSession(resp) || countSessions(t, srv) != before {
						t.Fatal("a refused login started a session")
					}
				})
			}

			admin := srv.Login(t, "sim_admin")
			var log auditJSON
			admin.Do("GET", "/api/v1/audit?action=login_failed", nil, &log)
			found := false
			for _, it := range log.Items {
				if strings.Contains(fmt.Sprint(it.Changes), "dt_outsider") {
					found = true
				}
			}
			if !found {
				t.Errorf("the outsider's attempts are not in the operation log: %+v", log.Items)
			}
		})
	}
}

// browser is a cookie-keeping client that does not follow redirects, to
// walk the OAuth flow step by step.
type browser struct {
	t    *testing.T
	http *http.Client
	lang string
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, lang: "zh-CN", http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches rawURL and returns the status, the Location, the body and
// whether a session cookie was set.
func (b *browser) get(rawURL string) (status int, location, body string, session bool) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	req.Header.Set("Accept-Language", b.lang)
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(raw), setsSession(resp)
}

// start begins an OAuth login and returns the authorize URL and its state.
func (b *browser) start(srv *apptest.Server, next string) (authorize *url.URL, state string) {
	b.t.Helper()
	st, loc, _, _ := b.get(srv.URL + "/auth/dingtalk/login?next=" + url.QueryEscape(next))
	u, err := url.Parse(loc)
	if st != http.StatusFound || err != nil {
		b.t.Fatalf("start: %d %q", st, loc)
	}
	return u, u.Query().Get("state")
}

func callbackURL(srv *apptest.Server, code, state string) string {
	q := url.Values{}
	if code != "" {
		q.Set("code", code)
		q.Set("authCode", code)
	}
	if state != "" {
		q.Set("state", state)
	}
	return srv.URL + "/auth/dingtalk/callback?" + q.Encode()
}

// TestDingTalkOAuth walks the browser flow against the fake's authorize
// page, then shows that each way a callback can be wrong — missing, forged,
// reused or foreign state, reused or expired code, someone not in the CRM,
// someone deactivated — gets a localized refusal page and no session.
func TestDingTalkOAuth(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			fake := srv.App.FakeDingTalk
			addOutsider(t, fake, "dt_outsider")
			deactivate(t, srv, "sim_s2")

			// The happy path: our redirect, the fake's page (as if sim_s1 scanned), the callback.
			b := newBrowser(t)
			authorize, state := b.start(srv, "/#/customers")
			q := authorize.Query()
			if !strings.HasPrefix(authorize.String(), fake.URL()+"/oauth2/auth?") || state == "" ||
				q.Get("redirect_uri") != srv.URL+"/auth/dingtalk/callback" || q.Get("client_id") != fake.AppKey() {
				t.Fatalf("authorize URL: %s", authorize)
			}
			st, _, page, _ := b.get(authorize.String())
			if st != 200 || !strings.Contains(page, "sim_s1") {
				t.Fatalf("the fake's authorize page should list the people: %d %.200s", st, page)
			}
			st, back, _, _ := b.get(authorize.String() + "&login_as=sim_s1")
			if st != http.StatusFound || !strings.HasPrefix(back, srv.URL+"/auth/dingtalk/callback?") {
				t.Fatalf("the fake's redirect: %d %q", st, back)
			}
			usedCallback := back
			backURL, _ := url.Parse(back)
			usedCode := backURL.Query().Get("code")
			oauthCookie := ""
			for _, ck := range b.http.Jar.Cookies(backURL) {
				if ck.Name == "crm_oauth" {
					oauthCookie = ck.Value
				}
			}
			st, into, _, session := b.get(back)
			if st != http.StatusFound || into != "/#/customers" || !session || oauthCookie == "" {
				t.Fatalf("callback: %d %q session %v oauth cookie %q", st, into, session, oauthCookie)
			}
			c := srv.Anonymous(t)
			resp := c.Raw("GET", "/api/v1/me", nil, map[string]string{"Cookie": cookieHeader(b, srv)})
			me, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(me), `"userid":"sim_s1"`) {
				t.Fatalf("/me after OAuth: %d %s", resp.StatusCode, me)
			}

			tests := []struct {
				name    string
				lang    string
				visit   func(b *browser) string // returns the callback URL to open
				status  int
				message string
			}{
				{"missing state", "zh-CN", func(b *browser) string {
					b.start(srv, "/")
					return callbackURL(srv, fake.IssueOAuthCode("sim_s1"), "")
				}, 400, "登录请求无效或已过期"},
				{"wrong state", "en", func(b *browser) string {
					b.start(srv, "/")
					return callbackURL(srv, fake.IssueOAuthCode("sim_s1"), "forged")
				}, 400, "This sign-in request is invalid or has expired"},
				{"reused state, same browser cookie", "zh-CN", func(b *browser) string {
					b.http.Jar.SetCookies(backURL, []*http.Cookie{{Name: "crm_oauth", Value: oauthCookie, Path: "/auth/dingtalk/"}})
					return usedCallback
				}, 400, "登录请求无效或已过期"},
				{"state from another browser", "zh-CN", func(b *browser) string {
					_, theirs := newBrowser(t).start(srv, "/")
					return callbackURL(srv, fake.IssueOAuthCode("sim_s1"), theirs)
				}, 400, "登录请求无效或已过期"},
				{"reused code", "zh-CN", func(b *browser) string {
					_, state := b.start(srv, "/")
					return callbackURL(srv, usedCode, state)
				}, 401, "已被使用或已过期"},
				{"expired code", "en", func(b *browser) string {
					_, state := b.start(srv, "/")
					code := fake.IssueOAuthCode("sim_s1")
					fake.Advance(dingtalktest.OAuthCodeTTL + time.Second)
					return callbackURL(srv, code, state)
				}, 401, "invalid, already used or expired"},
				{"not in the CRM", "zh-CN", func(b *browser) string {
					_, state := b.start(srv, "/")
					return callbackURL(srv, fake.IssueOAuthCode("dt_outsider"), state)
				}, 403, "不在本 CRM 的组织中"},
				{"deactivated", "en", func(b *browser) string {
					_, state := b.start(srv, "/")
					return callbackURL(srv, fake.IssueOAuthCode("sim_s2"), state)
				}, 403, "deactivated"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					b := newBrowser(t)
					b.lang = tt.lang
					target := tt.visit(b)
					before := countSessions(t, srv)
					st, loc, body, session := b.get(target)
					if st != tt.status || loc != "" || !strings.Contains(body, "<!doctype html>") ||
						!strings.Contains(body, tt.message) || !strings.Contains(body, `href="/#/login"`) {
						t.Fatalf("%d %q %.600s; want %d with %q", st, loc, body, tt.status, tt.message)
					}
					if session || countSessions(t, srv) != before {
						t.Fatal("a refused callback started a session")
					}
				})
			}
		})
	}
}

func cookieHeader(b *browser, srv *apptest.Server) string {
	u, _ := url.Parse(srv.URL + "/")
	var parts []string
	for _, ck := range b.http.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// TestOAuthStartKeepsNextLocal: the post-login destination cannot point
// at another site.
func TestOAuthStartKeepsNextLocal(t *testing.T) {
	srv := apptest.Start(t)
	fake := srv.App.FakeDingTalk
	for _, next := range []string{"//evil.example/", "https://evil.example/"} {
		b := newBrowser(t)
		_, state := b.start(srv, next)
		st, loc, _, _ := b.get(callbackURL(srv, fake.IssueOAuthCode("sim_s1"), state))
		if st != http.StatusFound || loc != "/" {
			t.Errorf("next %q: %d → %q, want a redirect to /", next, st, loc)
		}
	}
}

// TestAuthConfig: the public endpoint the login page reads first.
func TestAuthConfig(t *testing.T) {
	srv := apptest.Start(t)
	var cfg map[string]any
	if st := srv.Anonymous(t).Do("GET", "/api/v1/auth/config", nil, &cfg); st != 200 {
		t.Fatalf("status %d", st)
	}
	if cfg["simulated"] != true || cfg["corp_id"] != srv.App.FakeDingTalk.CorpID() || cfg["oauth_url"] != "/auth/dingtalk/login" ||
		cfg["client_id"] != srv.App.FakeDingTalk.AppKey() {
		t.Fatalf("config: %v", cfg)
	}
}

// TestDingTalkSettings: admins see the effective settings with every
// secret masked; the connection test reports ok, or DingTalk's error code.
func TestDingTalkSettings(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			srv := apptest.StartOn(t, engine)
			fake := srv.App.FakeDingTalk
			admin := srv.Login(t, "sim_admin")

			for _, who := range []string{"sim_s1", "sim_mgr1"} {
				c := srv.Login(t, who)
				if st := c.Do("GET", "/api/v1/dingtalk/settings", nil, nil); st != 403 {
					t.Errorf("%s reads the settings: %d", who, st)
				}
				if st := c.Do("POST", "/api/v1/dingtalk/test", nil, nil); st != 403 {
					t.Errorf("%s runs the test: %d", who, st)
				}
			}
			if st := srv.Anonymous(t).Do("GET", "/api/v1/dingtalk/settings", nil, nil); st != 401 {
				t.Errorf("anonymous reads the settings: %d", st)
			}

			resp := admin.Raw("GET", "/api/v1/dingtalk/settings", nil, nil)
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(raw)
			if resp.StatusCode != 200 || strings.Contains(body, fake.AppSecret()) {
				t.Fatalf("settings leak the secret or failed: %d %s", resp.StatusCode, body)
			}
			for _, want := range []string{`"mode":"simulated"`, `"app_key":"` + fake.AppKey() + `"`,
				`"app_secret":{"set":true,"masked":"••••••cret"}`, `"corp_id":"` + fake.CorpID() + `"`,
				`"callback_url":"` + srv.URL + `/dingtalk/events"`, `"oauth_redirect_url":"` + srv.URL + `/auth/dingtalk/callback"`,
				`"editable":false`, "CRM_DINGTALK_"} {
				if !strings.Contains(body, want) {
					t.Errorf("settings lack %s: %s", want, body)
				}
			}

			var ok map[string]any
			if st := admin.Do("POST", "/api/v1/dingtalk/test", nil, &ok); st != 200 || ok["ok"] != true ||
				ok["root_department"] != "星辰科技（模拟钉钉组织）" || ok["step"] != "department" {
				t.Fatalf("test against the fake: %d %v", st, ok)
			}
			fake.FailNext(dingtalk.APIDeptGet, 88, 1)
			var bad struct {
				OK      bool   `json:"ok"`
				Step    string `json:"step"`
				Message string `json:"message"`
				Error   struct {
					API     string `json:"api"`
					ErrCode int    `json:"errcode"`
					SubCode string `json:"sub_code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if st := admin.Do("POST", "/api/v1/dingtalk/test", nil, &bad); st != 200 || bad.OK || bad.Step != "department" ||
				bad.Error.ErrCode != 88 || bad.Error.SubCode != "60011" || bad.Error.API != dingtalk.APIDeptGet ||
				!strings.Contains(bad.Message, "鉴权异常") {
				t.Fatalf("test with DingTalk refusing: %d %+v", st, bad)
			}
		})
	}
}

// TestDingTalkTestRedactsTransportErrors: when DingTalk cannot be reached,
// the transport error names the /gettoken URL, whose query holds the app
// secret; the connection test must answer without it.
func TestDingTalkTestRedactsTransportErrors(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	fake := srv.App.FakeDingTalk
	// The app may have fetched a token at start (org sync); drop it from the
	// shared cache (key layout in docs/dingtalk.md) so /gettoken is called.
	if err := srv.App.KV.Del(context.Background(), "dingtalk:token:"+fake.AppKey()+":oapi"); err != nil {
		t.Fatal(err)
	}
	fake.Close() // nothing answers at the client's base URL any more
	resp := admin.Raw("POST", "/api/v1/dingtalk/test", nil, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok":false`) || !strings.Contains(body, `"step":"token"`) {
		t.Fatalf("unreachable DingTalk: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, fake.AppSecret()) || strings.Contains(body, "appsecret") {
		t.Fatalf("the answer leaks the secret: %s", body)
	}
	if !strings.Contains(body, "/gettoken") {
		t.Errorf("the answer should still say which call failed: %s", body)
	}
}
