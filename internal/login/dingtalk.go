package login

import (
	"context"
	"errors"
	"fmt"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
)

// Why a DingTalk login was refused. Each key is also the stable error code
// the web layer answers with, so the web app and the refusal page can say
// exactly what happened.
var (
	// ErrNotInOrg: DingTalk vouched for the person, but the CRM does not
	// know them (not in the organization, an external contact, or not
	// synced yet).
	ErrNotInOrg = errs.Forbidden("auth.not_in_org")
	// ErrInactive: the person is known but deactivated in the CRM. The same
	// message as auth.ErrInactive, but a refusal (403) rather than a
	// missing login: DingTalk did prove who they are.
	ErrInactive = errs.Forbidden("auth.inactive")
	// ErrCodeUsed: the login-free or OAuth code is unknown, used or expired
	// (DingTalk does not tell which).
	ErrCodeUsed = errs.New(errs.KindUnauthorized, "auth.code_used")
	// ErrCodeMissing: the OAuth callback came back without a code (the
	// person declined, or the link was tampered with).
	ErrCodeMissing = errs.New(errs.KindInvalid, "auth.code_missing")
	// ErrBadState: the OAuth state is missing, unknown, expired, already
	// used, or was issued to another browser.
	ErrBadState = errs.New(errs.KindInvalid, "auth.bad_state")
	// ErrDingTalkUnavailable: DingTalk did not answer usefully (down, busy,
	// the app lacks a permission, quota spent). Wrapped with the cause.
	ErrDingTalkUnavailable = errs.New(errs.KindUnavailable, "auth.dingtalk_unavailable")
)

// Login methods, as the audit log records them.
const (
	MethodCode  = "dingtalk_code"  // login-free code inside the DingTalk client
	MethodOAuth = "dingtalk_oauth" // web OAuth in a browser
)

// LoginWithCode signs in the owner of a login-free code from
// dd.runtime.permission.requestAuthCode (topapi/v2/user/getuserinfo).
func (l *Service) LoginWithCode(ctx context.Context, code, ip, ua string) (*Result, error) {
	u, err := l.dt.GetUserInfoByCode(ctx, code)
	if err != nil {
		return nil, dingTalkRefusal("getuserinfo", err)
	}
	return l.loginVouched(ctx, u.UserID, u.Name, MethodCode, ip, ua)
}

// loginVouched signs in a userid DingTalk has vouched for, turning "unknown"
// and "deactivated" into refusals that say so. Someone DingTalk knows but
// the CRM does not is audited too, so admins see who tried.
func (l *Service) loginVouched(ctx context.Context, userID, name, method, ip, ua string) (*Result, error) {
	if userID == "" {
		l.recordOutsider(ctx, userID, name, method)
		return nil, ErrNotInOrg
	}
	res, err := l.LoginDingTalkUserID(ctx, userID, method, ip, ua)
	switch {
	case errors.Is(err, ErrUnknownLogin):
		l.recordOutsider(ctx, userID, name, method)
		return nil, ErrNotInOrg
	case errors.Is(err, auth.ErrInactive):
		return nil, ErrInactive
	}
	return res, err
}

// recordOutsider logs a refused login by someone the CRM does not know
// (actor 0, the name DingTalk gave). Like recordFailure, best effort.
func (l *Service) recordOutsider(ctx context.Context, userID, name, method string) {
	_ = audit.Record(ctx, l.db, audit.Who{Name: name}, audit.Entry{
		Action: audit.ActLoginFailed, Entity: "session", EntityName: name,
		Changes: map[string]audit.Change{"method": {New: method}, "reason": {New: "not_in_org"},
			"dingtalk_userid": {New: userID}},
	})
}

// dingTalkRefusal turns a DingTalk error into the refusal the person sees:
// a bad code, someone unknown to DingTalk's organization, or (for anything
// else) DingTalk being unavailable, with the cause kept for the log.
func dingTalkRefusal(op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, dingtalk.ErrInvalidCode):
		return ErrCodeUsed
	case errors.Is(err, dingtalk.ErrNotFound):
		return ErrNotInOrg
	}
	return fmt.Errorf("login: dingtalk %s: %w", op, errors.Join(ErrDingTalkUnavailable, err))
}
