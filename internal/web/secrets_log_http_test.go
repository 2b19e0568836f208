package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/config"
)

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretsAbsentFromLogs runs a full flow through a real CRM with known
// secrets configured and every log line kept at DEBUG level: start-up
// (the configuration logged as crm serve logs it), a simulated login and
// a DingTalk code login, a signed event callback and a signed robot
// message, outbound DingTalk calls (access tokens from the fake), failed
// logins, a metrics scrape and an export. No secret, session token, CSRF
// token, access token, login code or cookie value may appear in the logs.
func TestSecretsAbsentFromLogs(t *testing.T) {
	const (
		callbackToken = "cbtoken-S3CRET-7d1e"
		aesKey        = "S3CRETaeskeyS3CRETaeskeyS3CRETaeskeyS3CRETx"
		redisPassword = "redis-S3CRET-pw"
		dsnPassword   = "dsn-S3CRET-pw"
		metricsToken  = "metrics-S3CRET-token"
	)
	if len(aesKey) != 43 {
		t.Fatal("the AES key must have 43 characters")
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := apptest.StartWith(t, apptest.Options{Log: log, Config: func(c *config.Config) {
		c.DingTalk.CallbackToken, c.DingTalk.AESKey = callbackToken, aesKey
		c.Metrics.Token = metricsToken
		c.Log.Level = "debug"
	}})
	fake := srv.App.FakeDingTalk
	ctx := context.Background()

	// Start-up: crm serve logs the configuration with this very call. The
	// test database has no password and no Redis, so a copy carries them.
	shown := srv.Config()
	shown.Database.DSN = "crm:" + dsnPassword + "@tcp(db.internal:3306)/crm?parseTime=true"
	shown.Redis.Addr, shown.Redis.Password = "redis.internal:6379", redisPassword
	shown.DingTalk.AppSecret = fake.AppSecret() // real mode configures it; simulated mode uses the fake's
	log.Info("starting", "version", "test", "config", shown)

	secrets := map[string]string{"app secret": fake.AppSecret(), "callback token": callbackToken, "aes key": aesKey,
		"redis password": redisPassword, "dsn password": dsnPassword, "metrics token": metricsToken}

	// Logins: simulated, a DingTalk code, and failures of both.
	admin := srv.Login(t, "sim_admin")
	secrets["session token (dev login)"], secrets["csrf token"] = admin.Token, admin.CSRF
	code := fake.IssueLoginCode("sim_s1")
	secrets["login code"] = code
	s1 := srv.Anonymous(t)
	resp := s1.Raw("POST", "/api/v1/auth/dingtalk", map[string]any{"code": code}, nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("DingTalk code login: %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		secrets["cookie "+c.Name] = c.Value
	}
	if st := s1.Do("GET", "/api/v1/me", nil, nil); st != 200 {
		t.Fatalf("/me after the code login: %d", st)
	}
	for _, body := range []map[string]any{{"code": code}, {"code": "forged-S3CRET-code"}} { // reused, unknown
		if resp := srv.Anonymous(t).Raw("POST", "/api/v1/auth/dingtalk", body, nil); resp.StatusCode < 400 {
			t.Fatalf("a bad code logged in: %d", resp.StatusCode)
		} else {
			resp.Body.Close()
		}
	}
	secrets["forged code"] = "forged-S3CRET-code"
	if st := srv.Anonymous(t).Do("POST", "/api/v1/auth/dev-login", map[string]any{"userid": "nobody-S3CRET"}, nil); st < 400 {
		t.Fatalf("dev login of nobody: %d", st)
	}
	if st := srv.Anonymous(t).Do("GET", "/api/v1/me", nil, nil); st != 401 {
		t.Fatalf("anonymous /me: %d", st)
	}
	bad := srv.Anonymous(t)
	bad.Raw("GET", "/api/v1/me", nil, map[string]string{"Authorization": "Bearer stolen-S3CRET-session"}).Body.Close()
	secrets["forged bearer token"] = "stolen-S3CRET-session"

	// A signed event callback (it makes the CRM fetch the person from
	// DingTalk) and a signed robot message (answered through the fake).
	cr, err := dingtalk.NewCrypto(callbackToken, aesKey, fake.AppKey())
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sealed, err := cr.Seal([]byte(`{"EventType":"user_modify_org","eventId":"ev-secrets-1","CorpId":"`+fake.CorpID()+`","userId":["sim_s2"],"timeStamp":"`+ts+`"}`), ts, "nonce-secrets")
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"signature": {sealed.MsgSignature}, "timestamp": {ts}, "nonce": {"nonce-secrets"}}
	body, _ := json.Marshal(map[string]string{"encrypt": sealed.Encrypt})
	cb, err := http.Post(srv.URL+"/dingtalk/events?"+q.Encode(), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(cb.Body)
	cb.Body.Close()
	if cb.StatusCode != 200 {
		t.Fatalf("signed event callback: %d %s", cb.StatusCode, reply)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.App.OrgSync.WaitIdle(wait); err != nil {
		t.Fatal(err)
	}
	secrets["event signature"] = sealed.MsgSignature
	if out := newBotEnv(t, srv).say("sim_s1", "帮助"); out == "" {
		t.Fatal("the robot did not answer")
	}
	secrets["robot sign"] = dingtalk.RobotSign(fake.AppSecret(), time.Now().UnixMilli())[:20]

	// Outbound calls used the app's access tokens; read them now.
	tok, err := srv.App.DingTalk.GetAccessToken(ctx)
	if err != nil || tok == "" {
		t.Fatalf("access token: %q %v", tok, err)
	}
	secrets["access token (oapi)"] = tok
	if raw, ok, _ := srv.App.KV.Get(ctx, "dingtalk:token:"+fake.AppKey()+":api"); ok {
		var c struct {
			Token string `json:"token"`
		}
		json.Unmarshal([]byte(raw), &c)
		secrets["access token (api)"] = c.Token
	}

	// A metrics scrape with its token, one with a wrong token, and an export.
	for _, tok := range []string{metricsToken, "wrong-S3CRET-metrics"} {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	secrets["wrong metrics token"] = "wrong-S3CRET-metrics"
	exp := admin.Raw("GET", "/api/v1/customers/export", nil, nil)
	n, _ := io.Copy(io.Discard, exp.Body)
	exp.Body.Close()
	if exp.StatusCode != 200 || n == 0 {
		t.Fatalf("export: %d, %d bytes", exp.StatusCode, n)
	}
	// The access log line is written once the handler returns, which can
	// be just after the client has the last byte.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "path=/api/v1/customers/export"); {
		if time.Now().After(deadline) {
			t.Fatal("the export's access log line never came")
		}
		time.Sleep(10 * time.Millisecond)
	}

	out := logs.String()
	for _, want := range []string{"msg=starting", "config.database.dsn=", "path=/dingtalk/events status=200",
		"path=/dingtalk/robot status=200", "orgsync: event applied", "path=/api/v1/auth/dingtalk status=401"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %q: the flow did not run as meant", want)
		}
	}
	for what, s := range secrets {
		if s == "" {
			t.Errorf("%s: empty, so not checked", what)
			continue
		}
		if i := strings.Index(out, s); i >= 0 {
			line := out[strings.LastIndex(out[:i], "\n")+1:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			t.Errorf("the %s is in the logs: %s", what, line)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%d bytes of logs checked:\n%s", len(out), out)
	}
}
