package web

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dingcrm/crm/internal/errs"
)

// refusalTemplate is the page a browser sees when a DingTalk OAuth login is
// refused. Server-rendered (the callback is a navigation, not an API call),
// escaped by html/template, no script, styles inline (the CSP allows them).
var refusalTemplate = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font:15px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f7;color:#1f2329}
main{max-width:420px;margin:12vh auto 0;padding:28px 24px;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 12px}
p{margin:0 0 16px}
a.btn{display:inline-block;padding:8px 18px;border-radius:8px;background:#1677ff;color:#fff;text-decoration:none}
.muted{color:#8f959e;font-size:12px;margin:20px 0 0}
</style>
</head>
<body>
<main data-testid="login-refused" data-code="{{.Code}}">
<h1>{{.Title}}</h1>
<p data-testid="refusal-message">{{.Message}}</p>
<a class="btn" href="/#/login" data-testid="back-to-login">{{.Back}}</a>
<p class="muted">{{.RequestLabel}}: {{.RequestID}}</p>
</main>
</body>
</html>
`))

type refusalData struct {
	Lang, Title, Message, Back, RequestLabel, RequestID, Code string
}

// refusalPage answers a refused or failed OAuth login with a localized
// HTML page and the refusal's status (4xx for a refusal, 5xx when DingTalk
// or the CRM failed). It never sets a session.
func (s *Server) refusalPage(c *gin.Context, err error) {
	lang := langOf(c)
	rid := c.GetString(ctxRequestID)
	status, key, args := http.StatusInternalServerError, "error.internal", map[string]any{"request_id": rid}
	var de *errs.Error
	if ks, ok := kindStatus[errs.KindOf(err)]; ok && errors.As(err, &de) {
		status, key, args = ks.status, de.Key, de.Args
	} else if unavailable(err) {
		status, key = http.StatusServiceUnavailable, "error.unavailable"
	}
	if status >= 500 {
		s.log.Error("dingtalk oauth login failed", "request_id", rid, "err", s.redact(err))
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	data := refusalData{Lang: lang, Title: s.msg.T(lang, "auth.page.title", nil), Message: s.msg.T(lang, key, args),
		Back: s.msg.T(lang, "auth.page.back", nil), RequestLabel: s.msg.T(lang, "auth.page.request_id", nil),
		RequestID: rid, Code: key}
	if err := refusalTemplate.Execute(c.Writer, data); err != nil {
		s.log.Error("render refusal page", "request_id", rid, "err", err)
	}
	c.Abort()
}
