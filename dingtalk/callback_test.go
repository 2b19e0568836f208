package dingtalk_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

const (
	cbToken = "crmtoken123"
	appKey  = "dingappkey"
	corpID  = "dingcorp"
)

// seal encrypts like the doc says, by hand, with a chosen padding block.
func seal(t *testing.T, aesKey string, msg []byte, owner string, block int) string {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(aesKey + "=")
	plain := append(bytes.Repeat([]byte{'r'}, 16), binary.BigEndian.AppendUint32(nil, uint32(len(msg)))...)
	plain = append(append(plain, msg...), owner...)
	pad := block - len(plain)%block
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	b, _ := aes.NewCipher(key)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(b, key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

func TestCryptoRoundTrip(t *testing.T) {
	aesKey := dingtalk.GenerateAESKey()
	cr, err := dingtalk.NewCrypto(cbToken, aesKey, appKey, corpID)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"EventType":"user_add_org","userId":["u1"]}`)
	enc, err := cr.Encrypt(msg)
	if err != nil {
		t.Fatal(err)
	}
	got, owner, err := cr.Decrypt(enc)
	if err != nil || !bytes.Equal(got, msg) || owner != appKey {
		t.Fatalf("round trip: %s, %q, %v", got, owner, err)
	}
	tests := []struct {
		name    string
		enc     string
		want    error
		wantOwn string
	}{
		{"padded to 32 (Java)", seal(t, aesKey, msg, appKey, 32), nil, appKey},
		{"padded to 16 (Go sample)", seal(t, aesKey, msg, appKey, 16), nil, appKey},
		{"corpId owner (old register API)", seal(t, aesKey, msg, corpID, 32), nil, corpID},
		{"other app's key", seal(t, aesKey, msg, "otherapp", 32), dingtalk.ErrWrongOwner, ""},
		{"other aes key", seal(t, dingtalk.GenerateAESKey(), msg, appKey, 32), dingtalk.ErrBadPayload, ""},
		{"not base64", "%%%", dingtalk.ErrBadPayload, ""},
		{"not blocks", base64.StdEncoding.EncodeToString([]byte("short")), dingtalk.ErrBadPayload, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, owner, err := cr.Decrypt(tt.enc)
			if tt.want != nil {
				// A wrong AES key garbles everything: reported as a bad payload or wrong owner.
				if !errors.Is(err, tt.want) && !(tt.want == dingtalk.ErrBadPayload && errors.Is(err, dingtalk.ErrWrongOwner)) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil || !bytes.Equal(got, msg) || owner != tt.wantOwn {
				t.Errorf("got %s, %q, %v", got, owner, err)
			}
		})
	}
	if _, err := dingtalk.NewCrypto(cbToken, "short", appKey); !errors.Is(err, dingtalk.ErrBadAESKey) {
		t.Errorf("short aes key: %v", err)
	}
	// Signature: sha1 of the sorted values, lowercase hex (vector computed with Python's hashlib).
	if sig := cr.Signature("1700000000000", "nonce1", "ENC=="); sig != "587ec635b743d179b9ceb294847def10d21a82cd" {
		t.Errorf("signature %q", sig)
	}
	if !cr.Verify("587EC635B743D179B9CEB294847DEF10D21A82CD", "1700000000000", "nonce1", "ENC==") {
		t.Error("upper-case hex signature refused")
	}
	r, err := cr.Seal([]byte("success"), "1700000000000", "abc")
	if err != nil || !cr.Verify(r.MsgSignature, r.TimeStamp, r.Nonce, r.Encrypt) {
		t.Fatalf("sealed reply does not verify: %v", err)
	}
	if plain, err := cr.Open(dingtalk.CallbackRequest{Signature: r.MsgSignature, Timestamp: r.TimeStamp, Nonce: r.Nonce, Encrypt: r.Encrypt}); err != nil || string(plain) != "success" {
		t.Errorf("open = %q, %v", plain, err)
	}
}

// cbEnv is a CallbackHandler on an httptest server and a way to post to it.
type cbEnv struct {
	aesKey string
	cr     *dingtalk.Crypto
	url    string
	now    time.Time
	mu     sync.Mutex
	got    []dingtalk.Event
	fail   bool
}

func newCBEnv(t *testing.T) *cbEnv {
	e := &cbEnv{aesKey: dingtalk.GenerateAESKey(), now: time.Now()}
	var err error
	if e.cr, err = dingtalk.NewCrypto(cbToken, e.aesKey, appKey, corpID); err != nil {
		t.Fatal(err)
	}
	h := &dingtalk.CallbackHandler{
		Crypto: e.cr,
		Guard:  dingtalk.NewReplayGuard(nil, dingtalk.ReplayOptions{Window: 10 * time.Minute}),
		Handle: func(_ context.Context, ev dingtalk.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.fail {
				return errors.New("db down")
			}
			e.got = append(e.got, ev)
			return nil
		},
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

func (e *cbEnv) events() []dingtalk.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

type push struct {
	method  string
	sigKey  string // "signature" or "msg_signature"
	tsKey   string
	ts      string
	nonce   string
	encrypt string
	sig     string // "" computes the right one
}

func (e *cbEnv) post(t *testing.T, p push) *http.Response {
	t.Helper()
	if p.sig == "" {
		p.sig = e.cr.Signature(p.ts, p.nonce, p.encrypt)
	}
	q := url.Values{}
	if p.sigKey != "-" {
		q.Set(p.sigKey, p.sig)
	}
	q.Set(p.tsKey, p.ts)
	if p.nonce != "" {
		q.Set("nonce", p.nonce)
	}
	body, _ := json.Marshal(map[string]string{"encrypt": p.encrypt})
	req, _ := http.NewRequest(p.method, e.url+"?"+q.Encode(), bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *cbEnv) good(t *testing.T, payload string, nonce string) push {
	return push{method: http.MethodPost, sigKey: "signature", tsKey: "timestamp", ts: strconv.FormatInt(e.now.UnixMilli(), 10),
		nonce: nonce, encrypt: seal(t, e.aesKey, []byte(payload), appKey, 32)}
}

func TestCallbackHandlerRejects(t *testing.T) {
	e := newCBEnv(t)
	ev := func(id string) string {
		return fmt.Sprintf(`{"EventType":"user_modify_org","eventId":%q,"CorpId":"c","timeStamp":"1","userId":["sim_s1"]}`, id)
	}
	replayed := e.good(t, ev("e-replay"), "n-replay")
	tests := []struct {
		name   string
		p      push
		status int
	}{
		{"valid", e.good(t, ev("e1"), "n1"), 200},
		{"legacy spellings msg_signature and timeStamp", func() push {
			p := e.good(t, ev("e2"), "n2")
			p.sigKey, p.tsKey = "msg_signature", "timeStamp"
			return p
		}(), 200},
		{"corpId owner", func() push {
			p := e.good(t, ev("e3"), "n3")
			p.encrypt = seal(t, e.aesKey, []byte(ev("e3")), corpID, 32)
			return p
		}(), 200},
		{"first sight of a nonce", replayed, 200},
		{"same nonce again (replay)", replayed, 403},
		{"wrong signature", func() push { p := e.good(t, ev("e4"), "n4"); p.sig = "0000"; return p }(), 403},
		{"stale timestamp", func() push {
			p := e.good(t, ev("e5"), "n5")
			p.ts = strconv.FormatInt(e.now.Add(-time.Hour).UnixMilli(), 10)
			return p
		}(), 403},
		{"timestamp from the future", func() push {
			p := e.good(t, ev("e6"), "n6")
			p.ts = strconv.FormatInt(e.now.Add(time.Hour).UnixMilli(), 10)
			return p
		}(), 403},
		{"other app's key", func() push {
			p := e.good(t, ev("e7"), "n7")
			p.encrypt = seal(t, e.aesKey, []byte(ev("e7")), "otherapp", 32)
			return p
		}(), 403},
		{"garbage payload", func() push { p := e.good(t, ev("e8"), "n8"); p.encrypt = "bm90IGJsb2Nrcw=="; return p }(), 403},
		{"not an event", func() push {
			p := e.good(t, ev("e9"), "n9")
			p.encrypt = seal(t, e.aesKey, []byte(`"hello"`), appKey, 32)
			return p
		}(), 400},
		{"no signature", func() push { p := e.good(t, ev("e10"), "n10"); p.sigKey = "-"; return p }(), 400},
		{"no nonce", func() push { p := e.good(t, ev("e11"), ""); return p }(), 400},
		{"GET", func() push { p := e.good(t, ev("e12"), "n12"); p.method = http.MethodGet; return p }(), 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(t, tt.p)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			var reply dingtalk.CallbackReply
			if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
				t.Fatal(err)
			}
			if !e.cr.Verify(reply.MsgSignature, reply.TimeStamp, reply.Nonce, reply.Encrypt) {
				t.Error("reply signature does not verify")
			}
			if msg, _, err := e.cr.Decrypt(reply.Encrypt); err != nil || string(msg) != "success" {
				t.Errorf("reply = %q, %v", msg, err)
			}
		})
	}
	if n := len(e.events()); n != 4 {
		t.Errorf("handled %d events, want 4 (the valid ones)", n)
	}
}

func TestCallbackHandlerDeliveryRules(t *testing.T) {
	e := newCBEnv(t)
	payload := `{"EventType":"user_leave_org","eventId":"evt-1","userId":["sim_s2"]}`
	if r := e.post(t, e.good(t, payload, "a")); r.StatusCode != 200 {
		t.Fatalf("status %d", r.StatusCode)
	}
	// The platform delivers the same event again (new nonce): acknowledged, not handled twice.
	if r := e.post(t, e.good(t, payload, "b")); r.StatusCode != 200 {
		t.Fatalf("redelivery status %d", r.StatusCode)
	}
	if n := len(e.events()); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
	// A failing handler answers 500, and the retry is handled.
	e.fail = true
	payload2 := `{"EventType":"user_add_org","eventId":"evt-2","userId":["x"]}`
	if r := e.post(t, e.good(t, payload2, "c")); r.StatusCode != 500 {
		t.Fatalf("failing handler: status %d", r.StatusCode)
	}
	e.fail = false
	if r := e.post(t, e.good(t, payload2, "d")); r.StatusCode != 200 || len(e.events()) != 2 {
		t.Fatalf("retry: status %d, events %d", r.StatusCode, len(e.events()))
	}
	// check_url is acknowledged without reaching the handler.
	if r := e.post(t, e.good(t, `{"EventType":"check_url"}`, "e")); r.StatusCode != 200 || len(e.events()) != 2 {
		t.Errorf("check_url: status %d, events %d", r.StatusCode, len(e.events()))
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    dingtalk.Event
		err     bool
	}{
		{"current spelling", `{"EventType":"user_add_org","CorpId":"c1","eventId":"e1","timeStamp":"1700000000000","userId":["a","b"]}`,
			dingtalk.Event{Type: "user_add_org", CorpID: "c1", EventID: "e1", TimeStamp: 1700000000000, UserIDs: []string{"a", "b"}}, false},
		{"older spelling", `{"EventType":"org_dept_create","CorpId":"c1","TimeStamp":1700000000000,"DeptId":[5,6]}`,
			dingtalk.Event{Type: "org_dept_create", CorpID: "c1", TimeStamp: 1700000000000, DeptIDs: []int64{5, 6}}, false},
		{"ids as strings", `{"EventType":"org_dept_remove","deptId":["7"],"UserId":"u9"}`,
			dingtalk.Event{Type: "org_dept_remove", DeptIDs: []int64{7}, UserIDs: []string{"u9"}}, false},
		{"no type", `{"userId":["a"]}`, dingtalk.Event{}, true},
		{"not json", `success`, dingtalk.Event{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dingtalk.ParseEvent([]byte(tt.payload))
			if tt.err {
				if err == nil {
					t.Errorf("want an error, got %+v", got)
				}
				return
			}
			got.Raw = nil
			if err != nil || got.Type != tt.want.Type || got.CorpID != tt.want.CorpID || got.EventID != tt.want.EventID ||
				got.TimeStamp != tt.want.TimeStamp || !slices.Equal(got.UserIDs, tt.want.UserIDs) || !slices.Equal(got.DeptIDs, tt.want.DeptIDs) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRobotSignature(t *testing.T) {
	const secret = "SECd5c0a3e0c8a34a0e9a1f"
	// Computed independently (Python hmac/base64).
	if got := dingtalk.RobotSign(secret, 1700000000000); got != "TODMT3DSe1WKaZZp1qP148vHK9VjHxe427yLv71ZzBU=" {
		t.Errorf("RobotSign = %q", got)
	}
	now := time.UnixMilli(1700000000000)
	sign := dingtalk.RobotSign(secret, now.UnixMilli())
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	tests := []struct {
		name      string
		timestamp string
		sign      string
		now       time.Time
		want      error
	}{
		{"valid", ts, sign, now, nil},
		{"59 minutes later", ts, sign, now.Add(59 * time.Minute), nil},
		{"two hours later", ts, sign, now.Add(2 * time.Hour), dingtalk.ErrStaleTimestamp},
		{"from the future", ts, sign, now.Add(-2 * time.Hour), dingtalk.ErrStaleTimestamp},
		{"wrong sign", ts, dingtalk.RobotSign("SECother", now.UnixMilli()), now, dingtalk.ErrBadSignature},
		{"sign of another timestamp", strconv.FormatInt(now.UnixMilli()+1, 10), sign, now, dingtalk.ErrBadSignature},
		{"no timestamp", "", sign, now, dingtalk.ErrStaleTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := dingtalk.VerifyRobotRequest(secret, tt.timestamp, tt.sign, tt.now); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	u, err := dingtalk.SignWebhookURL("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, now)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	if q := pu.Query(); q.Get("access_token") != "abc" || q.Get("timestamp") != ts || q.Get("sign") != sign {
		t.Errorf("signed url %s", u)
	}
}

// TestOrgEventsPushed edits the fake's organization and checks that the
// matching events arrive encrypted at a callback server running the real
// CallbackHandler, which fetches the changed person back from the fake.
func TestOrgEventsPushed(t *testing.T) {
	variants := []struct {
		name string
		cb   func(cb *dingtalktest.Callback)
	}{
		{"current wire", func(*dingtalktest.Callback) {}},
		{"legacy query and fields, 16-byte padding, corpId owner", func(cb *dingtalktest.Callback) {
			cb.LegacyQuery, cb.LegacyFields, cb.PadTo16, cb.OwnerKey = true, true, true, "dingtest_corp"
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			srv, c := env(t, dingtalktest.Options{}, nil)
			aesKey := dingtalk.GenerateAESKey()
			cr, err := dingtalk.NewCrypto(cbToken, aesKey, srv.AppKey(), srv.CorpID())
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var got []string
			fetched := map[string]string{}
			h := &dingtalk.CallbackHandler{Crypto: cr, Guard: dingtalk.NewReplayGuard(nil, dingtalk.ReplayOptions{}),
				Handle: func(ctx context.Context, ev dingtalk.Event) error {
					if ev.Type == dingtalk.EventUserAdd {
						u, err := c.GetUser(ctx, ev.UserIDs[0]) // re-fetch, as the app will
						if err != nil {
							return err
						}
						mu.Lock()
						fetched[u.UserID] = u.Name
						mu.Unlock()
					}
					mu.Lock()
					defer mu.Unlock()
					got = append(got, fmt.Sprintf("%s %v%v", ev.Type, ev.UserIDs, ev.DeptIDs))
					return nil
				}}
			ts := httptest.NewServer(h)
			defer ts.Close()
			cb := &dingtalktest.Callback{URL: ts.URL, Token: cbToken, AESKey: aesKey}
			v.cb(cb)
			srv.SetCallback(cb)
			if err := srv.CheckCallbackURL(); err != nil {
				t.Fatalf("check_url: %v", err)
			}

			steps := []error{
				srv.AddDepartment(dingtalktest.Department{ID: 6, Name: "华南组", ParentID: 3}),
				srv.AddUser(dingtalktest.User{UserID: "new1", Name: "新人", DeptIDs: []int64{6}}),
				srv.UpdateUser(dingtalktest.User{UserID: "new1", Name: "新人甲", Title: "销售代表"}),
				srv.MoveUser("new1", 6, 2),
				srv.SetDeptManagers(6, "new1"),
				srv.UpdateDepartment(dingtalktest.Department{ID: 6, Name: "华南一组", ParentID: 3}),
				srv.SetAdmin("new1", 2),
				srv.SetAdmin("new1", 0),
				srv.SetRoles("new1", dingtalktest.Role{ID: 1, Name: "主管", GroupName: "默认"}),
				srv.ActivateUser("new1"),
				srv.RemoveUser("new1"),
				srv.RemoveDepartment(6),
			}
			for i, err := range steps {
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			want := []string{
				"org_dept_create [][6]", "user_add_org [new1][]", "user_modify_org [new1][]", "user_dept_change [new1][]",
				"org_dept_modify [][6]", "org_dept_modify [][6]", "org_admin_add [new1][]", "org_admin_remove [new1][]",
				"user_role_change [new1][]", "user_active_org [new1][]", "user_leave_org [new1][]", "org_dept_remove [][6]",
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("events:\n got %q\nwant %q", got, want)
			}
			if fetched["new1"] != "新人" {
				t.Errorf("handler re-fetched %v", fetched)
			}
			for _, pe := range srv.Events() {
				if !pe.Delivered {
					t.Errorf("event %s not delivered: %s", pe.Type, pe.Err)
				}
			}
		})
	}
}

func TestOrgEventsToAWrongKeyAreRetried(t *testing.T) {
	srv := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	defer srv.Close()
	aesKey := dingtalk.GenerateAESKey()
	cr, _ := dingtalk.NewCrypto(cbToken, aesKey, srv.AppKey())
	var handled int
	ts := httptest.NewServer(&dingtalk.CallbackHandler{Crypto: cr, Handle: func(context.Context, dingtalk.Event) error { handled++; return nil }})
	defer ts.Close()
	srv.SetCallback(&dingtalktest.Callback{URL: ts.URL, Token: cbToken, AESKey: dingtalk.GenerateAESKey()}) // the console has another key
	if err := srv.AddUser(dingtalktest.User{UserID: "x1", Name: "甲"}); err != nil {
		t.Fatal(err)
	}
	if evs := srv.Events(); len(evs) != 1 || evs[0].Delivered || evs[0].Err == "" || handled != 0 {
		t.Fatalf("events %+v, handled %d", evs, handled)
	}
	srv.SetCallback(&dingtalktest.Callback{URL: ts.URL, Token: cbToken, AESKey: aesKey})
	if n := srv.RedeliverFailed(); n != 1 || handled != 1 {
		t.Errorf("redelivered %d, handled %d", n, handled)
	}
}
