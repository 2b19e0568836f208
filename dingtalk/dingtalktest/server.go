// Package dingtalktest is a fake DingTalk open platform in one process: an
// httptest server that speaks the wire formats of both hosts
// (oapi.dingtalk.com and api.dingtalk.com, plus the login host's OAuth
// page) for every endpoint the CRM calls, with an editable organization
// whose changes are pushed as encrypted events, work-notification delivery
// rules, and fault injection. The tests, the benchmarks and the embedded
// default's simulated organization use it.
package dingtalktest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	AppKey    string // default "dingtest_appkey"
	AppSecret string // default "dingtest_appsecret"
	CorpID    string // default "dingtest_corp"
	AgentID   int64  // default 1000001
	RobotCode string // default AppKey

	// Org is the starting organization (loaded without events). Default:
	// only the root department.
	Org *Org

	// Callback is the event subscription; SetCallback can set it later.
	Callback *Callback

	TokenTTL time.Duration // app and user token lifetime; default 2 h
	// SeparateHostTokens makes a token from /gettoken valid on the oapi
	// host only and one from /v1.0/oauth2/accessToken on the api host only
	// (the doc leaves open whether one token works on both).
	SeparateHostTokens bool
	// QPS is every API's limit per second; default 20 (the standard
	// edition's). Negative: unlimited. SetQPS changes single APIs.
	QPS int
	// RobotBatchLimit is the most userIds one batchSend takes; default 20.
	RobotBatchLimit int

	Now    func() time.Time // default time.Now; Advance moves it further
	Logger *slog.Logger     // default: discard
}

// Callback is an HTTP event subscription (开发配置 > 事件订阅).
type Callback struct {
	URL      string
	Token    string
	AESKey   string // 43 characters
	OwnerKey string // appended to payloads; default AppKey (corpId for old-API subscriptions)
	// LegacyQuery sends msg_signature and timeStamp instead of signature
	// and timestamp in the query (both are seen in the wild).
	LegacyQuery bool
	// LegacyFields spells payload fields TimeStamp, UserId, DeptId (older docs).
	LegacyFields bool
	// PadTo16 pads payloads to 16 bytes like the official Go sample
	// instead of 32 like the Java library.
	PadTo16 bool
	Timeout time.Duration // default 5 s
}

// Server is the fake platform. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	ts   *httptest.Server
	mux  *http.ServeMux
	log  *slog.Logger

	clockMu sync.Mutex
	offset  time.Duration

	mu       sync.Mutex // everything below up to faults
	org      *orgState
	tokens   map[string]appToken // token → info
	current  map[string]string   // host kind → current token
	codes    map[string]*oneTimeCode
	oauth    map[string]*oneTimeCode
	oauthAs  string
	userTok  map[string]userToken
	refresh  map[string]string // refresh token → userid
	tasks    map[int64]*task
	nextTask int64
	delivers []Delivery
	seen     map[string]bool // day|userid|content hash
	daily    map[string]int  // day|userid → messages
	robots   []RobotMessage
	webhooks map[string]string      // custom robot token → secret ("" unsigned)
	hookSent map[string][]time.Time // custom robot token → recent sends
	sessions map[string]session
	todos    []Todo
	todoSrc  map[string]bool
	events   []PushedEvent
	callback *Callback
	stream   streamFake // Stream mode (stream.go); its own lock

	fmu        sync.Mutex // faults and counters
	faults     map[string][]fault
	latency    map[string]time.Duration
	qps        map[string]int
	window     map[string][]time.Time
	quota      int64
	monthCalls map[string]int64
	calls      map[string]int
}

type appToken struct {
	host    string // "oapi" or "api"
	expires time.Time
}

type oneTimeCode struct {
	userID  string
	expires time.Time
	used    bool
}

type userToken struct {
	userID  string
	expires time.Time
}

// New starts a fake DingTalk on a loopback port. Close it when done.
func New(opts Options) *Server {
	s := newServer(opts)
	s.ts = httptest.NewServer(s.mux)
	return s
}

func newServer(opts Options) *Server {
	setDefaults(&opts)
	s := &Server{
		opts:       opts,
		mux:        http.NewServeMux(),
		log:        opts.Logger,
		tokens:     map[string]appToken{},
		current:    map[string]string{},
		codes:      map[string]*oneTimeCode{},
		oauth:      map[string]*oneTimeCode{},
		userTok:    map[string]userToken{},
		refresh:    map[string]string{},
		tasks:      map[int64]*task{},
		nextTask:   500000000,
		seen:       map[string]bool{},
		daily:      map[string]int{},
		webhooks:   map[string]string{},
		hookSent:   map[string][]time.Time{},
		sessions:   map[string]session{},
		todoSrc:    map[string]bool{},
		callback:   opts.Callback,
		faults:     map[string][]fault{},
		latency:    map[string]time.Duration{},
		qps:        map[string]int{},
		window:     map[string][]time.Time{},
		monthCalls: map[string]int64{},
		calls:      map[string]int{},
	}
	org := opts.Org
	if org == nil {
		org = &Org{}
	}
	st, err := newOrgState(org)
	if err != nil {
		panic("dingtalktest: bad Options.Org: " + err.Error())
	}
	s.org = st
	s.routes()
	return s
}

// The fake app's default credentials (Options' zero values), exported so a
// CRM in simulated mode can talk to a fake running in another process.
const (
	DefaultAppKey    = "dingtest_appkey"
	DefaultAppSecret = "dingtest_appsecret"
	DefaultCorpID    = "dingtest_corp"
	DefaultAgentID   = 1000001
)

func setDefaults(o *Options) {
	if o.AppKey == "" {
		o.AppKey = DefaultAppKey
	}
	if o.AppSecret == "" {
		o.AppSecret = DefaultAppSecret
	}
	if o.CorpID == "" {
		o.CorpID = DefaultCorpID
	}
	if o.AgentID == 0 {
		o.AgentID = DefaultAgentID
	}
	if o.RobotCode == "" {
		o.RobotCode = o.AppKey
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 2 * time.Hour
	}
	if o.QPS == 0 {
		o.QPS = 20
	}
	if o.RobotBatchLimit <= 0 {
		o.RobotBatchLimit = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// URL is the base URL of all hosts: use it as OAPIBaseURL, APIBaseURL and
// LoginBaseURL of the client.
func (s *Server) URL() string { return s.ts.URL }

// Handler returns the fake's HTTP handler, for mounting it elsewhere.
func (s *Server) Handler() http.Handler { return s.mux }

// Close stops the server (and its Stream connections).
func (s *Server) Close() {
	s.closeStream()
	s.ts.Close()
}

// AppKey, AppSecret, CorpID and AgentID return the fake app's credentials.
func (s *Server) AppKey() string    { return s.opts.AppKey }
func (s *Server) AppSecret() string { return s.opts.AppSecret }
func (s *Server) CorpID() string    { return s.opts.CorpID }
func (s *Server) AgentID() int64    { return s.opts.AgentID }

// ClientOptions returns client options pointing at this server with its
// credentials; adjust the rest (QPS, Retry, …) before dingtalk.New.
func (s *Server) ClientOptions() dingtalk.Options {
	return dingtalk.Options{
		AppKey: s.opts.AppKey, AppSecret: s.opts.AppSecret, AgentID: s.opts.AgentID, CorpID: s.opts.CorpID,
		OAPIBaseURL: s.URL(), APIBaseURL: s.URL(), LoginBaseURL: s.URL(),
	}
}

// Now is the fake's clock: Options.Now plus every Advance.
func (s *Server) Now() time.Time {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	return s.opts.Now().Add(s.offset)
}

// Advance moves the fake's clock forward (token and code expiry, the daily
// and monthly windows).
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
}

// style is the wire style of an endpoint.
type style int

const (
	oldStyle  style = iota // oapi: HTTP 200 + errcode
	newStyle               // api: HTTP status + {code, message, requestid}
	pageStyle              // login page: plain HTTP
)

// authKind is what credential an endpoint checks.
type authKind int

const (
	authNone authKind = iota
	authApp
	authUser // users/me: a user token in the header
)

// apiErr is a refusal, written in the endpoint's style.
type apiErr struct {
	errcode int    // old style (also mapped to the new style)
	msg     string // errmsg / message
	subCode string
	status  int    // HTTP status (new style; or an HTTP-level fault)
	code    string // new-style code (overrides the mapping)
	raw     string // raw body (HTML pages, the IP ban JSON)
}

func errc(code int, msg string) *apiErr { return &apiErr{errcode: code, msg: msg} }

func errNew(status int, code, msg string) *apiErr {
	return &apiErr{status: status, code: code, msg: msg}
}

// handlerFunc answers one request whose body was read and whose auth passed.
type handlerFunc func(r *http.Request, body []byte, who caller) (any, *apiErr)

// caller is the authenticated party.
type caller struct {
	token  string
	userID string // for user tokens
}

// handle registers an endpoint: pattern like "POST /topapi/v2/user/list".
func (s *Server) handle(pattern, api string, st style, auth authKind, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, api, st, auth, h)
	})
}

// admit is what every call meets before its handler, as on DingTalk: it is
// counted, its body read (only then does the server notice a client that
// gave up, which ends an injected latency wait), an injected fault answered,
// and the per-API rate limit applied. It reports whether the call goes on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, api string, st style, reqID string, maxBody int64) ([]byte, bool) {
	s.countCall(api)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, false
	}
	f, delay := s.takeFault(api)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return nil, false
		}
	}
	if f != nil {
		s.writeErr(w, st, reqID, f)
		return nil, false
	}
	if !s.allowQPS(api) {
		s.writeErr(w, st, reqID, errc(90018, "当前应用调用该接口并发量超过限制"))
		return nil, false
	}
	return body, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, api string, st style, auth authKind, h handlerFunc) {
	reqID := newID(13)
	body, ok := s.admit(w, r, api, st, reqID, 4<<20)
	if !ok {
		return
	}
	who, aerr := s.authenticate(r, st, auth)
	if aerr != nil {
		s.writeErr(w, st, reqID, aerr)
		return
	}
	if !dingtalk.QuotaExempt(api) && !s.takeQuota() {
		s.writeErr(w, st, reqID, errc(90020, "当前企业调用API次数已达月度上限"))
		return
	}
	out, aerr := h(r, body, who)
	if aerr != nil {
		s.writeErr(w, st, reqID, aerr)
		return
	}
	s.writeOK(w, st, reqID, out)
}

func (s *Server) writeOK(w http.ResponseWriter, st style, reqID string, out any) {
	w.Header().Set("x-acs-request-id", reqID)
	switch st {
	case pageStyle:
		if rd, ok := out.(redirect); ok {
			w.Header().Set("Location", string(rd))
			w.WriteHeader(http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, out.(string))
		return
	case oldStyle:
		m, ok := out.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		m["errcode"] = 0
		m["errmsg"] = "ok"
		m["request_id"] = reqID
		out = m
	}
	writeJSON(w, http.StatusOK, out)
}

// redirect is a page answer that sends the browser on.
type redirect string

func (s *Server) writeErr(w http.ResponseWriter, st style, reqID string, e *apiErr) {
	w.Header().Set("x-acs-request-id", reqID)
	if e.raw != "" {
		ct := "application/json"
		if strings.HasPrefix(e.raw, "<") {
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(cmpOr(e.status, http.StatusOK))
		_, _ = io.WriteString(w, e.raw)
		return
	}
	switch st {
	case oldStyle, pageStyle:
		if e.status != 0 && e.status != http.StatusOK {
			// An HTTP-level failure in front of the API: no errcode.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(e.status)
			_, _ = io.WriteString(w, http.StatusText(e.status))
			return
		}
		m := map[string]any{"errcode": e.errcode, "errmsg": e.msg, "request_id": reqID}
		if e.subCode != "" {
			m["sub_code"] = e.subCode
			m["sub_msg"] = e.msg
		}
		writeJSON(w, http.StatusOK, m)
	case newStyle:
		status, code := e.status, e.code
		if code == "" {
			status, code = newStyleOf(e.errcode, status)
		}
		writeJSON(w, cmpOr(status, http.StatusBadRequest), map[string]any{
			"code": code, "message": e.msg, "requestid": reqID,
		})
	}
}

// newStyleOf maps an old-style errcode (or a bare HTTP status) to the
// api.dingtalk.com status and code (dingtalk-api.md §1, §5).
func newStyleOf(errcode, status int) (int, string) {
	switch errcode {
	case -1:
		return http.StatusTooManyRequests, "system.busy"
	case 90018:
		return http.StatusForbidden, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	case 90002:
		return http.StatusForbidden, "Forbidden.AccessDenied.QpsLimitForApi"
	case 90020:
		return http.StatusForbidden, "Forbidden.AccessDenied.ApiCountLimitForOrg"
	case 40014, 40001:
		return http.StatusBadRequest, "InvalidAuthentication"
	case 42001:
		return http.StatusBadRequest, "accesstoken.expired"
	case 0:
		switch {
		case status == http.StatusTooManyRequests:
			return status, "system.busy"
		case status >= 500:
			return status, "ServiceUnavailable"
		}
		return cmpOr(status, http.StatusBadRequest), "Unknown"
	}
	return cmpOr(status, http.StatusBadRequest), strconv.Itoa(errcode)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func newID(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func (s *Server) routes() {
	s.handle("GET /gettoken", dingtalk.APIGetToken, oldStyle, authNone, s.getToken)
	s.handle("POST /v1.0/oauth2/accessToken", dingtalk.APIAccessToken, newStyle, authNone, s.accessToken)
	s.handle("POST /v1.0/oauth2/userAccessToken", dingtalk.APIUserAccessToken, newStyle, authNone, s.userAccessToken)
	s.handle("GET /oauth2/auth", "oauth2/auth", pageStyle, authNone, s.authorize)
	s.handle("GET /v1.0/contact/users/{unionId}", dingtalk.APIContactUser, newStyle, authNone, s.contactUser)

	s.handle("POST /topapi/v2/user/getuserinfo", dingtalk.APIGetUserInfo, oldStyle, authApp, s.getUserInfo)
	s.handle("POST /topapi/user/getbyunionid", dingtalk.APIGetByUnionID, oldStyle, authApp, s.getByUnionID)
	s.handle("POST /topapi/v2/department/listsub", dingtalk.APIDeptListSub, oldStyle, authApp, s.deptListSub)
	s.handle("POST /topapi/v2/department/listsubid", dingtalk.APIDeptListSubID, oldStyle, authApp, s.deptListSubID)
	s.handle("POST /topapi/v2/department/get", dingtalk.APIDeptGet, oldStyle, authApp, s.deptGet)
	s.handle("POST /topapi/user/listsimple", dingtalk.APIUserListSimple, oldStyle, authApp, s.userListSimple)
	s.handle("POST /topapi/v2/user/list", dingtalk.APIUserList, oldStyle, authApp, s.userList)
	s.handle("POST /topapi/v2/user/get", dingtalk.APIUserGet, oldStyle, authApp, s.userGet)
	s.handle("POST /topapi/user/listadmin", dingtalk.APIListAdmin, oldStyle, authApp, s.listAdmin)

	s.handle("POST /topapi/message/corpconversation/asyncsend_v2", dingtalk.APIAsyncSend, oldStyle, authApp, s.asyncSend)
	s.handle("POST /topapi/message/corpconversation/getsendprogress", dingtalk.APISendProgress, oldStyle, authApp, s.sendProgress)
	s.handle("POST /topapi/message/corpconversation/getsendresult", dingtalk.APISendResult, oldStyle, authApp, s.sendResult)

	s.handle("POST /robot/send", dingtalk.APIRobotWebhook, oldStyle, authNone, s.robotWebhook)
	s.handle("POST /robot/sendBySession", dingtalk.APIRobotSession, oldStyle, authNone, s.robotSession)
	s.handle("POST /v1.0/robot/oToMessages/batchSend", dingtalk.APIRobotBatchSend, newStyle, authApp, s.robotBatchSend)
	s.handle("POST /v1.0/robot/groupMessages/send", dingtalk.APIRobotGroupSend, newStyle, authApp, s.robotGroupSend)

	s.handle("POST /v1.0/todo/users/{unionId}/tasks", dingtalk.APITodoCreate, newStyle, authApp, s.createTodo)
	s.streamRoutes()
}

// Endpoints lists the method and path of every endpoint the fake speaks.
func Endpoints() []string {
	return []string{
		"GET  /gettoken",
		"POST /v1.0/oauth2/accessToken",
		"POST /v1.0/oauth2/userAccessToken",
		"GET  /oauth2/auth (login.dingtalk.com)",
		"GET  /v1.0/contact/users/{unionId} (me with a user token)",
		"POST /topapi/v2/user/getuserinfo",
		"POST /topapi/user/getbyunionid",
		"POST /topapi/v2/department/listsub",
		"POST /topapi/v2/department/listsubid",
		"POST /topapi/v2/department/get",
		"POST /topapi/user/listsimple",
		"POST /topapi/v2/user/list",
		"POST /topapi/v2/user/get",
		"POST /topapi/user/listadmin",
		"POST /topapi/message/corpconversation/asyncsend_v2",
		"POST /topapi/message/corpconversation/getsendprogress",
		"POST /topapi/message/corpconversation/getsendresult",
		"POST /robot/send",
		"POST /robot/sendBySession",
		"POST /v1.0/robot/oToMessages/batchSend",
		"POST /v1.0/robot/groupMessages/send",
		"POST /v1.0/todo/users/{unionId}/tasks",
		"POST /v1.0/gateway/connections/open (Stream mode)",
		"GET  /connect?ticket= (Stream mode WebSocket)",
	}
}

// decode reads a JSON body into v, answering 40035 when it does not parse.
func decode(body []byte, v any) *apiErr {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errc(40035, "不合法的参数: "+err.Error())
	}
	return nil
}
