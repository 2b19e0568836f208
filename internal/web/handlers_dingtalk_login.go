package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/login"
)

// DingTalkDeps is what the DingTalk login and settings routes need: the
// client, and the effective DingTalk settings.
type DingTalkDeps struct {
	Client   *dingtalk.Client
	Settings config.DingTalk
}

// NewDingTalkDeps builds DingTalkDeps. In simulated mode (fake non-nil) the
// effective credentials are the in-process fake's, not the config's.
func NewDingTalkDeps(c *dingtalk.Client, cfg config.DingTalk, fake *dingtalktest.Server) DingTalkDeps {
	if fake != nil {
		cfg.AppKey, cfg.AppSecret, cfg.CorpID = fake.AppKey(), fake.AppSecret(), fake.CorpID()
		cfg.AgentID = strconv.FormatInt(fake.AgentID(), 10)
	}
	return DingTalkDeps{Client: c, Settings: cfg}
}

// cookieOAuth binds an OAuth state to the browser that started the login.
// Path-scoped to the OAuth routes; SameSite=Lax still sends it on the
// top-level redirect back from DingTalk.
const cookieOAuth = "crm_oauth"

// Paths of the OAuth routes (outside /api/v1: browsers navigate to them).
const (
	pathOAuthLogin    = "/auth/dingtalk/login"
	pathOAuthCallback = "/auth/dingtalk/callback"
)

// maxCodeLen bounds a login-free code (DingTalk's are 32 characters).
const maxCodeLen = 128

func (s *Server) dingtalkLoginRoutes(api *gin.RouterGroup, e *gin.Engine) {
	api.GET("/auth/config", s.authConfig)
	api.POST("/auth/dingtalk", s.rateLimit("dingtalk-code", 120, time.Minute), s.dingtalkCodeLogin)
	e.GET(pathOAuthLogin, s.rateLimit("dingtalk-oauth", 120, time.Minute), s.dingtalkOAuthStart)
	e.GET(pathOAuthCallback, s.rateLimit("dingtalk-oauth", 120, time.Minute), s.dingtalkOAuthCallback)

	admin := api.Group("/dingtalk", s.authenticate, s.csrf)
	admin.GET("/settings", s.dingtalkSettings)
	admin.POST("/test", s.dingtalkTest)
}

type authConfigResponse struct {
	Simulated bool   `json:"simulated"`
	CorpID    string `json:"corp_id"`
	ClientID  string `json:"client_id"`
	OAuthURL  string `json:"oauth_url"`
}

// authConfig tells the login page how to sign in: the corpId for
// requestAuthCode inside DingTalk, and where the OAuth login starts.
func (s *Server) authConfig(c *gin.Context) {
	c.JSON(http.StatusOK, authConfigResponse{Simulated: s.Simulated, CorpID: s.DingTalk.Settings.CorpID,
		ClientID: s.DingTalk.Settings.AppKey, OAuthURL: pathOAuthLogin})
}

type dingtalkCodeInput struct {
	Code *string `json:"code"`
}

// dingtalkCodeLogin exchanges a login-free code from inside the DingTalk
// client for a session.
func (s *Server) dingtalkCodeLogin(c *gin.Context) {
	if !sameOrigin(c) { // no session yet, so no CSRF token: refuse foreign pages outright
		s.fail(c, errs.Forbidden("error.csrf_failed"))
		return
	}
	var in dingtalkCodeInput
	if !s.bind(c, &in) {
		return
	}
	code := ""
	if in.Code != nil {
		code = strings.TrimSpace(*in.Code)
	}
	switch {
	case code == "":
		s.fail(c, errs.InvalidField("code", "validation.required"))
		return
	case len(code) > maxCodeLen:
		s.fail(c, errs.InvalidField("code", "validation.too_long", "max", maxCodeLen))
		return
	}
	res, err := s.Login.LoginWithCode(c.Request.Context(), code, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.failLogin(c, err)
		return
	}
	s.setSessionCookies(c, res.Token, res.Expires)
	c.Set(ctxLang, s.defaultLang(c, res.Actor.Lang))
	c.JSON(http.StatusOK, gin.H{"user": s.meBody(c, res.Actor, res.Token), "csrf_token": auth.CSRFToken(res.Token), "token": res.Token})
}

// failLogin answers a refused login with the refusal's own key as the code
// (auth.not_in_org, auth.inactive, auth.code_used, …) so the web app can
// tell the cases apart; anything else goes through fail.
func (s *Server) failLogin(c *gin.Context, err error) {
	var de *errs.Error
	if !errors.As(err, &de) || !strings.HasPrefix(de.Key, "auth.") {
		s.fail(c, err)
		return
	}
	ks, ok := kindStatus[de.Kind]
	if !ok {
		s.fail(c, err)
		return
	}
	if de.Kind == errs.KindUnavailable {
		s.log.Warn("dingtalk login failed", "request_id", c.GetString(ctxRequestID), "err", s.redact(err))
	}
	c.AbortWithStatusJSON(ks.status, errorBody{errorDetail{Code: de.Key, Message: s.msg.T(langOf(c), de.Key, de.Args)}})
}

// dingtalkOAuthStart sends the browser to DingTalk's login page with a
// fresh one-time state, and binds that state to this browser by a cookie.
func (s *Server) dingtalkOAuthStart(c *gin.Context) {
	st, err := s.Login.StartOAuth(c.Request.Context(), s.publicBase(c)+pathOAuthCallback, c.Query("next"))
	if err != nil {
		s.refusalPage(c, err)
		return
	}
	s.setOAuthCookie(c, st.Binding, int(login.StateTTL.Seconds()))
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, st.URL)
}

// dingtalkOAuthCallback is where DingTalk sends the browser back. Success:
// the session cookies and a redirect into the app. Any refusal: a page
// that says why, and no session.
func (s *Server) dingtalkOAuthCallback(c *gin.Context) {
	binding, _ := c.Cookie(cookieOAuth)
	s.setOAuthCookie(c, "", -1) // one attempt per started login
	code := c.Query("code")
	if code == "" {
		code = c.Query("authCode") // the embedded QR login sends both, identical
	}
	res, next, err := s.Login.FinishOAuth(c.Request.Context(), code, c.Query("state"), binding,
		c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.refusalPage(c, err)
		return
	}
	s.setSessionCookies(c, res.Token, res.Expires)
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, next)
}

func (s *Server) setOAuthCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: cookieOAuth, Value: value, Path: "/auth/dingtalk/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.SecureCookie || c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// publicBase is the CRM's address as browsers and DingTalk reach it: the
// configured public URL, else this request's own host (fine for the
// simulated mode and a first try; the settings page warns when unset).
func (s *Server) publicBase(c *gin.Context) string {
	if u := strings.TrimRight(s.DingTalk.Settings.PublicURL, "/"); u != "" {
		return u
	}
	scheme := "http"
	if c.Request.TLS != nil || s.SecureCookie {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
