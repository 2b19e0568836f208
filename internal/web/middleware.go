package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/i18n"
	"github.com/dingcrm/crm/internal/reqctx"
)

// Keys in gin.Context.
const (
	ctxRequestID = "request_id"
	ctxActor     = "actor"
	ctxToken     = "token"
	ctxViaCookie = "via_cookie"
	ctxLang      = "lang"
	ctxRawBody   = "raw_body"
)

// Cookie names.
const (
	cookieSession = "crm_session"
	cookieCSRF    = "crm_csrf"
)

var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID adopts a sane incoming X-Request-ID or makes one, and puts the
// request's facts into the context for the audit log.
func (s *Server) requestID(c *gin.Context) {
	rid := c.GetHeader("X-Request-ID")
	if !saneRequestID.MatchString(rid) {
		b := make([]byte, 12)
		rand.Read(b)
		rid = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, rid)
	c.Header("X-Request-ID", rid)
	c.Set(ctxLang, s.defaultLang(c, ""))
	s.setMeta(c)
	c.Next()
}

func (s *Server) setMeta(c *gin.Context) {
	m := reqctx.Meta{IP: c.ClientIP(), RequestID: c.GetString(ctxRequestID), UserAgent: c.Request.UserAgent(),
		Lang: c.GetString(ctxLang)}
	c.Request = c.Request.WithContext(reqctx.With(c.Request.Context(), m))
}

// accessLog logs one line per request; never bodies, cookies or tokens.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "http", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "ms", time.Since(start).Milliseconds(), "request_id", c.GetString(ctxRequestID))
}

// recoverPanic turns a panic into a logged 500.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.fail(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// limitBody caps request bodies. The uncapped body stays in the context so
// that a route with a cap of its own (withBodyLimit) can replace this one.
func (s *Server) limitBody(c *gin.Context) {
	c.Set(ctxRawBody, c.Request.Body)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody)
	c.Next()
}

// withBodyLimit gives one route (an upload) its own body cap instead of the
// global one. A declared Content-Length over the cap is answered at once
// with 413 and the message key (and args), before any of the body is read;
// otherwise reading past the cap fails with *http.MaxBytesError, which the
// handler answers the same way.
func (s *Server) withBodyLimit(n int64, key string, args map[string]any) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			s.tooLarge(c, key, args)
			return
		}
		if raw, ok := c.Get(ctxRawBody); ok {
			c.Request.Body = http.MaxBytesReader(c.Writer, raw.(io.ReadCloser), n)
		}
		c.Next()
	}
}

// tooLarge answers 413 with a message key of the route's choosing.
func (s *Server) tooLarge(c *gin.Context, key string, args map[string]any) {
	c.Header("Connection", "close") // the rest of the body is not read
	c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, errorBody{errorDetail{Code: "too_large",
		Message: s.msg.T(langOf(c), key, args)}})
}

// securityHeaders keeps the browser from sniffing types, leaking referrers,
// framing the app elsewhere or running scripts from anywhere but the app
// itself (the browser test TestCSPKept proves the pages keep to the
// policy). API answers carry personal data and are never stored by a
// browser or proxy cache; a handler may still set its own caching (the
// company logo). Behind HTTPS (secure cookies) browsers are told to stay
// on HTTPS.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	// frame-ancestors says the same to current browsers; DingTalk's older
	// webviews only know this header. The app is never framed by DingTalk
	// (the clients open it in a webview or the PC side panel).
	h.Set("X-Frame-Options", "SAMEORIGIN")
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	if s.SecureCookie {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// contentSecurityPolicy allows the app's own scripts, styles and images
// (plus data: images, inline style attributes) and nothing else.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"

func (s *Server) defaultLang(c *gin.Context, saved string) string {
	if l := i18n.Match(c.GetHeader("Accept-Language")); l != "" {
		return l
	}
	if l := i18n.Match(saved); l != "" {
		return l
	}
	return s.companyLang(c)
}

// companyLang is the company's default language (系统设置), which a
// person's own choice beats; the configured one if settings cannot be read.
func (s *Server) companyLang(c *gin.Context) string {
	if s.Settings != nil {
		if co, err := s.Settings.Company(c.Request.Context()); err == nil && co.Lang != "" {
			return co.Lang
		}
	}
	return s.lang
}

func langOf(c *gin.Context) string {
	if l := c.GetString(ctxLang); l != "" {
		return l
	}
	return "zh-CN"
}

// token finds the session token: a Bearer header beats the cookie.
func token(c *gin.Context) (tok string, viaCookie bool) {
	if h := c.GetHeader("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")), false
	}
	if ck, err := c.Cookie(cookieSession); err == nil {
		return ck, true
	}
	return "", false
}

// authenticate builds the Actor for a signed-in caller, or answers 401.
func (s *Server) authenticate(c *gin.Context) {
	tok, viaCookie := token(c)
	if tok == "" {
		s.fail(c, errs.ErrUnauthorized)
		return
	}
	ctx := c.Request.Context()
	uid, err := s.sessions.UserFor(ctx, tok)
	if err != nil {
		// Only a session that is gone signs the browser out: a database
		// outage (503) must not cost everyone their sign-in.
		if errors.Is(err, errs.ErrUnauthorized) {
			s.clearCookies(c)
		}
		s.fail(c, err)
		return
	}
	actor, err := s.loader.Load(ctx, uid)
	if err != nil {
		if errors.Is(err, auth.ErrInactive) {
			s.sessions.Revoke(ctx, tok)
			s.clearCookies(c)
		}
		s.fail(c, err)
		return
	}
	c.Set(ctxActor, actor)
	c.Set(ctxToken, tok)
	c.Set(ctxViaCookie, viaCookie)
	c.Set(ctxLang, s.defaultLang(c, actor.Lang))
	s.setMeta(c)
	c.Next()
}

// csrf protects cookie-authenticated writes: the X-CSRF-Token header must
// carry the token derived from the session, and a browser-sent Origin must
// be this site. Bearer clients are not exposed to CSRF and skip it.
func (s *Server) csrf(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if !c.GetBool(ctxViaCookie) {
		c.Next()
		return
	}
	want := auth.CSRFToken(c.GetString(ctxToken))
	got := c.GetHeader("X-CSRF-Token")
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 || !sameOrigin(c) {
		s.fail(c, errs.Forbidden("error.csrf_failed"))
		return
	}
	c.Next()
}

func sameOrigin(c *gin.Context) bool {
	origin := c.GetHeader("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == c.Request.Host
}

// rateLimit allows n requests per window per client IP for one route
// family, counted in the shared kv store so it holds across instances. If
// the store is down, requests pass: a login outage is worse than a brief gap
// in throttling.
func (s *Server) rateLimit(name string, n int64, window time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := fmt.Sprintf("rl:%s:%s:%d", name, c.ClientIP(), time.Now().Unix()/int64(window.Seconds()))
		count, err := s.kv.Incr(c.Request.Context(), key, window)
		if err == nil && count > n {
			c.Header("Retry-After", fmt.Sprint(int(window.Seconds())))
			s.fail(c, errs.New(errs.KindRateLimited, "error.rate_limited"))
			return
		}
		c.Next()
	}
}

// callbackLimit is the rate limit of DingTalk's callbacks: one budget per
// address shared by the event and robot callbacks. They are open to the
// internet (the signature is checked inside), so this bounds what a
// flood of forged pushes costs before any crypto or database work.
func (s *Server) callbackLimit() gin.HandlerFunc {
	n := s.CallbackRate
	if n <= 0 {
		n = defaultCallbackRate
	}
	return s.rateLimit("dingtalk-callback", n, time.Minute)
}

func actorOf(c *gin.Context) *auth.Actor {
	a, _ := c.MustGet(ctxActor).(*auth.Actor)
	return a
}
