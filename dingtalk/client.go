package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Default base URLs of the three DingTalk hosts.
const (
	DefaultOAPIBaseURL  = "https://oapi.dingtalk.com"
	DefaultAPIBaseURL   = "https://api.dingtalk.com"
	DefaultLoginBaseURL = "https://login.dingtalk.com"
)

// Options configure a Client. Zero values take the defaults noted.
type Options struct {
	AppKey    string // also called Client ID
	AppSecret string
	AgentID   int64  // the micro-app's agent id, for work notifications
	CorpID    string // optional; informational
	RobotCode string // robot code for 1:1 robot sends; default AppKey (UNCONFIRMED that they are equal)

	OAPIBaseURL  string // default DefaultOAPIBaseURL
	APIBaseURL   string // default DefaultAPIBaseURL (used by the SDK)
	LoginBaseURL string // default DefaultLoginBaseURL (OAuth authorize page)
	Language     string // zh_CN (default) or en_US, for org lists

	HTTPClient *http.Client  // for oapi calls; default a plain client
	Timeout    time.Duration // one attempt's time limit; default 10 s

	// KV caches the app token for all instances (Redis in production).
	// Default: an in-process map.
	KV        KV
	KeyPrefix string // prefix of KV keys; default "dingtalk:"
	// TokenRefreshBefore is how long before expiry the token is refreshed;
	// default 5 minutes.
	TokenRefreshBefore time.Duration

	// QPS is each API's token-bucket rate on this instance; default 15/s
	// (the platform allows 20/s per app and API).
	QPS float64
	// APIQPS overrides QPS for single APIs.
	APIQPS map[string]float64
	// Burst is the bucket size; default 1, so no 1-second window ever sees
	// more than QPS+1 calls.
	Burst int

	Retry RetryPolicy

	// Counter persists the per-API, per-month call counts; default an
	// in-memory MemoryCounter.
	Counter CallCounter
	// MonthlyQuota is the organization's monthly quota reported by Usage;
	// default 5000 (standard edition). It does not block calls.
	MonthlyQuota int64

	// OnAlert is told about conditions an admin must see (monthly quota
	// spent, IP banned). It must not block.
	OnAlert func(ctx context.Context, a Alert)

	// Observe, when set, is told about every attempt sent to DingTalk: the
	// API, its result code ("0" for success, the errcode or new-style code
	// of a refusal, "http_NNN", "timeout" or "transport") and how long it
	// took. The app feeds it to its metrics; it must not block.
	Observe func(api, code string, d time.Duration)

	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default time.Now; tests move time
}

// RetryPolicy is the backoff for retryable answers (-1, 90018, 90002, HTTP
// 429/5xx, timeouts and network errors). Delays double from Base up to Max,
// each drawn at random between half and all of its value.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, first included; default 4
	Base        time.Duration // first delay; default 300 ms
	Max         time.Duration // longest delay; default 8 s
	// QPSWait is the least delay after a QPS answer (the doc: sleep ≥ 1 s);
	// default 1 s.
	QPSWait time.Duration
}

// AlertKind names an admin alert.
type AlertKind string

// Alert kinds.
const (
	AlertQuotaExhausted AlertKind = "quota_exhausted"
	AlertIPBlocked      AlertKind = "ip_blocked"
)

// Alert is raised once per failing call when DingTalk refuses service in a
// way only an admin can fix or wait out.
type Alert struct {
	Kind AlertKind
	API  string
	Err  *Error
	At   time.Time
}

// Client calls DingTalk. It is safe for concurrent use; build one per app.
type Client struct {
	opts    Options
	http    *http.Client
	kv      KV
	counter CallCounter
	log     *slog.Logger
	now     func() time.Time
	sdk     *sdkClients

	limMu    sync.Mutex
	limiters map[string]*limiter

	tokens      singleflight.Group
	tokenFetchN atomic.Int64 // token fetches made by this client (for stats)

	blockedUntil atomic.Int64 // unix ms; calls refused until then (IP ban)

	sleep func(ctx context.Context, d time.Duration) error // tests record backoff
}

// New builds a Client. It checks the options but makes no call.
func New(opts Options) (*Client, error) {
	if opts.AppKey == "" || opts.AppSecret == "" {
		return nil, errors.New("dingtalk: AppKey and AppSecret are required")
	}
	setDefaults(&opts)
	c := &Client{
		opts:     opts,
		http:     opts.HTTPClient,
		kv:       opts.KV,
		counter:  opts.Counter,
		log:      opts.Logger,
		now:      opts.Now,
		limiters: map[string]*limiter{},
		sleep:    sleepCtx,
	}
	if c.kv == nil {
		c.kv = newMemKV(c.now)
	}
	sdk, err := newSDKClients(opts.APIBaseURL, opts.Timeout)
	if err != nil {
		return nil, err
	}
	c.sdk = sdk
	return c, nil
}

func setDefaults(o *Options) {
	if o.RobotCode == "" {
		o.RobotCode = o.AppKey
	}
	o.OAPIBaseURL = strings.TrimRight(orDefault(o.OAPIBaseURL, DefaultOAPIBaseURL), "/")
	o.APIBaseURL = strings.TrimRight(orDefault(o.APIBaseURL, DefaultAPIBaseURL), "/")
	o.LoginBaseURL = strings.TrimRight(orDefault(o.LoginBaseURL, DefaultLoginBaseURL), "/")
	o.Language = orDefault(o.Language, "zh_CN")
	o.KeyPrefix = orDefault(o.KeyPrefix, "dingtalk:")
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.TokenRefreshBefore <= 0 {
		o.TokenRefreshBefore = 5 * time.Minute
	}
	if o.QPS <= 0 {
		o.QPS = 15
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = 4
	}
	if o.Retry.Base <= 0 {
		o.Retry.Base = 300 * time.Millisecond
	}
	if o.Retry.Max <= 0 {
		o.Retry.Max = 8 * time.Second
	}
	if o.Retry.QPSWait <= 0 {
		o.Retry.QPSWait = time.Second
	}
	if o.Counter == nil {
		o.Counter = NewMemoryCounter()
	}
	if o.MonthlyQuota <= 0 {
		o.MonthlyQuota = 5000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// AgentID returns the configured agent id.
func (c *Client) AgentID() int64 { return c.opts.AgentID }

// AppKey returns the configured AppKey.
func (c *Client) AppKey() string { return c.opts.AppKey }

// host tells which token an attempt needs.
type host int

const (
	hostNone host = iota // no app token (token endpoints, user-token calls, webhooks)
	hostOAPI             // app token from gettoken, as ?access_token=
	hostAPI              // app token from /v1.0/oauth2/accessToken, as a header
)

// attemptFunc performs one HTTP exchange with the given app token.
type attemptFunc func(ctx context.Context, token string) error

// do runs one API call: rate limit, token, attempt, retries, counting.
func (c *Client) do(ctx context.Context, api string, h host, attempt attemptFunc) error {
	if until := c.blockedUntil.Load(); until > 0 && c.now().UnixMilli() < until {
		return &Error{API: api, Code: ipBlockedCode, Message: "calls paused until " + time.UnixMilli(until).Format(time.RFC3339)}
	}
	tokenRetried := false
	for n := 1; ; n++ {
		if err := c.limiter(api).wait(ctx); err != nil {
			return fmt.Errorf("dingtalk %s: rate limit wait: %w", api, err)
		}
		token := ""
		if h != hostNone {
			var err error
			if token, err = c.token(ctx, h); err != nil {
				return err
			}
		}
		c.count(ctx, api)
		actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		began := time.Now()
		err := attempt(actx, token)
		cancel()
		if c.opts.Observe != nil {
			c.opts.Observe(api, resultCode(err), time.Since(began))
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("dingtalk %s: %w", api, ctx.Err())
		}
		var de *Error
		if errors.As(err, &de) {
			de.API = api
			switch de.kind() {
			case kindToken:
				if h != hostNone && !tokenRetried {
					tokenRetried = true
					c.dropToken(ctx, h, token)
					n-- // a token retry is not a backoff attempt
					continue
				}
			case kindQuota:
				c.alert(ctx, Alert{Kind: AlertQuotaExhausted, API: api, Err: de, At: c.now()})
				return de
			case kindIPBlocked:
				c.blockedUntil.Store(c.now().Add(ipBanPause).UnixMilli())
				c.alert(ctx, Alert{Kind: AlertIPBlocked, API: api, Err: de, At: c.now()})
				return de
			}
		}
		if !retryable(err) || n >= c.opts.Retry.MaxAttempts {
			return err
		}
		d := c.backoff(n, err)
		c.log.WarnContext(ctx, "dingtalk: retrying", "api", api, "attempt", n, "delay", d, "err", err)
		if err := c.sleep(ctx, d); err != nil {
			return fmt.Errorf("dingtalk %s: %w", api, err)
		}
	}
}

// resultCode names an attempt's outcome for metrics: a small, fixed set of
// values per API (never a message or an id).
func resultCode(err error) string {
	var de *Error
	switch {
	case err == nil:
		return "0"
	case errors.As(err, &de) && de.ErrCode != 0:
		return strconv.Itoa(de.ErrCode)
	case errors.As(err, &de) && de.Code != "":
		return de.Code
	case errors.As(err, &de) && de.HTTPStatus != 0:
		return "http_" + strconv.Itoa(de.HTTPStatus)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "transport"
}

// ipBanPause is how long calls stop after a per-IP ban (doc §5: 5 minutes).
const ipBanPause = 5 * time.Minute

func (c *Client) alert(ctx context.Context, a Alert) {
	c.log.ErrorContext(ctx, "dingtalk: admin alert", "kind", a.Kind, "api", a.API, "err", a.Err)
	if c.opts.OnAlert != nil {
		c.opts.OnAlert(ctx, a)
	}
}

// retryable: platform busy/QPS/5xx answers, timeouts and network errors.
func retryable(err error) bool {
	var de *Error
	if errors.As(err, &de) {
		return de.retryable()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // the attempt's own timeout (the caller's was checked before)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var te *transportError
	return errors.As(err, &te)
}

// transportError wraps failures of the HTTP exchange itself (connection
// refused or reset, truncated bodies); they are retried.
type transportError struct {
	api string
	err error
}

func (e *transportError) Error() string { return fmt.Sprintf("dingtalk %s: %v", e.api, e.err) }
func (e *transportError) Unwrap() error { return e.err }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
