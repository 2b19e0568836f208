package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// ActLoginFailed is a refused sign-in (written by the login service).
const ActLoginFailed = "login_failed"

// Login results a login log can be narrowed to.
const (
	LoginSuccess = "success"
	LoginFailure = "failure"
)

// Login is one sign-in attempt (登录日志): who, when, from where, how, and
// why it was refused.
type Login struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	ActorID   int64     `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	Success   bool      `json:"success"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Method    string    `json:"method"`
	Reason    string    `json:"reason"`
}

// LoginFilter narrows the login log; Result is "", success or failure.
type LoginFilter struct {
	ActorID  int64
	Result   string
	From, To *time.Time
	Page     int
	PageSize int
}

// Logins returns sign-ins and refused attempts, newest first. Only holders
// of audit.view may read it.
func (s *Service) Logins(ctx context.Context, a *auth.Actor, f LoginFilter) ([]Login, int, error) {
	if err := a.Require(auth.AuditView); err != nil {
		return nil, 0, err
	}
	lf := Filter{ActorID: f.ActorID, From: f.From, To: f.To, Page: f.Page, PageSize: f.PageSize}
	switch f.Result {
	case "":
		lf.Actions = []string{ActLogin, ActLoginFailed}
	case LoginSuccess:
		lf.Actions = []string{ActLogin}
	case LoginFailure:
		lf.Actions = []string{ActLoginFailed}
	default:
		return nil, 0, errs.InvalidField("result", "validation.not_an_option")
	}
	items, total, err := s.list(ctx, lf)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Login, len(items))
	for i, it := range items {
		out[i] = Login{ID: it.ID, At: it.At, ActorID: it.ActorID, ActorName: it.ActorName,
			Success: it.Action == ActLogin, IP: it.IP, UserAgent: it.UserAgent,
			Method: text(it.Changes["method"].New), Reason: text(it.Changes["reason"].New)}
	}
	return out, total, nil
}

func text(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
