package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/auth"
)

// secretView shows whether a secret is set without showing it: at most its
// last four characters, and only when it is long enough that they give
// little away.
type secretView struct {
	Set    bool   `json:"set"`
	Masked string `json:"masked"`
}

func maskSecret(v string) secretView {
	switch {
	case v == "":
		return secretView{}
	case len(v) >= 16:
		return secretView{Set: true, Masked: "••••••" + v[len(v)-4:]}
	}
	return secretView{Set: true, Masked: "••••••"}
}

type dingtalkSettingsResponse struct {
	Mode          string     `json:"mode"`
	AppKey        string     `json:"app_key"`
	AppSecret     secretView `json:"app_secret"`
	AgentID       string     `json:"agent_id"`
	CorpID        string     `json:"corp_id"`
	CallbackToken secretView `json:"callback_token"`
	AESKey        secretView `json:"aes_key"`
	Transport     string     `json:"transport"`
	PublicURL     string     `json:"public_url"`
	// The addresses to paste into the DingTalk developer console.
	CallbackURL      string `json:"callback_url"`       // 事件订阅 > 请求网址 (HTTP transport)
	OAuthRedirectURL string `json:"oauth_redirect_url"` // 安全设置 > 重定向URL
	HomepageURL      string `json:"homepage_url"`       // 应用首页 / 端内免登地址
	// Editable is false: the settings come from the config file and
	// CRM_DINGTALK_* variables until a later settings issue; Note says so.
	Editable bool     `json:"editable"`
	Note     string   `json:"note"`
	Warnings []string `json:"warnings"`
}

// dingtalkSettings shows the effective DingTalk settings, secrets masked
// (needs user.manage).
func (s *Server) dingtalkSettings(c *gin.Context) {
	if err := actorOf(c).Require(auth.UserManage); err != nil {
		s.fail(c, err)
		return
	}
	d := s.DingTalk.Settings
	lang := langOf(c)
	base := s.publicBase(c)
	out := dingtalkSettingsResponse{Mode: d.Mode, AppKey: d.AppKey, AppSecret: maskSecret(d.AppSecret),
		AgentID: d.AgentID, CorpID: d.CorpID, CallbackToken: maskSecret(d.CallbackToken), AESKey: maskSecret(d.AESKey),
		Transport: d.Transport, PublicURL: d.PublicURL, CallbackURL: base + "/dingtalk/events",
		OAuthRedirectURL: base + pathOAuthCallback, HomepageURL: base + "/?corpid=$CORPID$",
		Note: s.msg.T(lang, "dingtalk_settings.note", nil), Warnings: []string{}}
	warn := func(key string) { out.Warnings = append(out.Warnings, s.msg.T(lang, key, nil)) }
	if !s.Simulated {
		if d.PublicURL == "" {
			warn("dingtalk_settings.warn_public_url")
		}
		if d.CorpID == "" {
			warn("dingtalk_settings.warn_corp_id")
		}
		if d.Transport == "http" && (d.CallbackToken == "" || d.AESKey == "") {
			warn("dingtalk_settings.warn_callback")
		}
	}
	c.JSON(http.StatusOK, out)
}

type dingtalkTestError struct {
	API        string `json:"api"`
	HTTPStatus int    `json:"http_status,omitempty"`
	ErrCode    int    `json:"errcode,omitempty"`
	Code       string `json:"code,omitempty"`
	SubCode    string `json:"sub_code,omitempty"`
	Message    string `json:"message"`
	RequestID  string `json:"request_id,omitempty"`
}

type dingtalkTestResponse struct {
	OK             bool               `json:"ok"`
	Mode           string             `json:"mode"`
	Step           string             `json:"step"` // token | department: how far it got
	RootDepartment string             `json:"root_department,omitempty"`
	ElapsedMS      int64              `json:"elapsed_ms"`
	Message        string             `json:"message"`
	Error          *dingtalkTestError `json:"error,omitempty"`
}

// connectionTestTimeout bounds the test, retries included.
const connectionTestTimeout = 20 * time.Second

// dingtalkTest checks the connection: an app token, then the root
// department (needs user.manage). The answer is 200 either way; ok and
// error say what DingTalk answered.
func (s *Server) dingtalkTest(c *gin.Context) {
	if err := actorOf(c).Require(auth.UserManage); err != nil {
		s.fail(c, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), connectionTestTimeout)
	defer cancel()
	start := time.Now()
	out := dingtalkTestResponse{Mode: s.DingTalk.Settings.Mode, Step: "token"}
	_, err := s.DingTalk.Client.GetAccessToken(ctx)
	if err == nil {
		out.Step = "department"
		var root *dingtalk.DepartmentDetail
		if root, err = s.DingTalk.Client.GetDepartment(ctx, dingtalk.RootDeptID); err == nil {
			out.OK, out.RootDepartment = true, root.Name
		}
	}
	out.ElapsedMS = time.Since(start).Milliseconds()
	lang := langOf(c)
	if out.OK {
		out.Message = s.msg.T(lang, "dingtalk_settings.test_ok", map[string]any{"name": out.RootDepartment})
		c.JSON(http.StatusOK, out)
		return
	}
	out.Error = s.testError(err)
	out.Message = s.msg.T(lang, "dingtalk_settings.test_failed", map[string]any{"detail": out.Error.Message})
	s.log.Warn("dingtalk connection test failed", "request_id", c.GetString(ctxRequestID), "err", s.redact(err))
	c.JSON(http.StatusOK, out)
}

// testError exposes what DingTalk answered (codes and message, never
// credentials); a transport failure has only a redacted message.
func (s *Server) testError(err error) *dingtalkTestError {
	var de *dingtalk.Error
	if errors.As(err, &de) {
		return &dingtalkTestError{API: de.API, HTTPStatus: de.HTTPStatus, ErrCode: de.ErrCode, Code: de.Code,
			SubCode: de.SubCode, Message: de.Message, RequestID: de.RequestID}
	}
	return &dingtalkTestError{Message: s.redact(err)}
}

// redact renders a DingTalk call's error for a log or an admin without the
// request URL: a transport failure's *url.Error carries the whole URL, and
// for /gettoken that URL holds the app secret (and other calls' hold the
// access token). Any configured secret left in the text is masked too.
func (s *Server) redact(err error) string {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Op + " " + redactedURL(ue.URL) + ": " + ue.Err.Error()
	}
	d := s.DingTalk.Settings
	for _, secret := range []string{d.AppSecret, d.CallbackToken, d.AESKey} {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "***")
		}
	}
	return msg
}

// redactedURL drops the query and anything after it.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
