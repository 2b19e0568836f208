package dingtalk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors. An *Error matches them with errors.Is according to its
// errcode, sub_code, HTTP status or new-style code.
var (
	// ErrQuotaExhausted: the organization's monthly call quota is spent
	// (90020, Forbidden.AccessDenied.ApiCountLimitForOrg). Never retried.
	ErrQuotaExhausted = errors.New("dingtalk: monthly call quota exhausted")
	// ErrRateLimited: a QPS limit answered (90018, 90002 and their new-style codes).
	ErrRateLimited = errors.New("dingtalk: rate limited")
	// ErrBusy: the platform said "system busy" (-1, HTTP 429) or failed (5xx).
	ErrBusy = errors.New("dingtalk: system busy")
	// ErrInvalidToken: the access token was invalid or expired.
	ErrInvalidToken = errors.New("dingtalk: invalid access token")
	// ErrNotFound: the user, department or code does not exist.
	ErrNotFound = errors.New("dingtalk: not found")
	// ErrInvalidCode: a login-free or OAuth code is unknown, used or expired.
	ErrInvalidCode = errors.New("dingtalk: invalid or used code")
	// ErrNoPermission: the app lacks a permission or the object is outside
	// its visibility scope.
	ErrNoPermission = errors.New("dingtalk: no permission")
	// ErrIPBlocked: the platform banned this IP for a while; the client
	// refuses calls until the ban ends.
	ErrIPBlocked = errors.New("dingtalk: IP temporarily blocked")
	// ErrInvalidArgument: the request was refused before it was sent (a
	// limit of the platform would have been broken) or the platform said the
	// parameters were bad.
	ErrInvalidArgument = errors.New("dingtalk: invalid argument")
)

// Error is an answer of the platform that is not a success. It carries what
// both API styles return so that logs and admins see the whole story.
type Error struct {
	API        string // API name, e.g. APIUserList
	HTTPStatus int    // HTTP status; 200 for old-style errcode answers
	ErrCode    int    // old-style errcode (0 for new-style answers)
	Code       string // new-style code, e.g. "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	SubCode    string // old-style sub_code (errcode 88 and friends)
	Message    string // errmsg / message, with sub_msg appended when present
	RequestID  string // request_id / requestid
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dingtalk %s:", e.API)
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, " http %d", e.HTTPStatus)
	}
	if e.ErrCode != 0 {
		fmt.Fprintf(&b, " errcode %d", e.ErrCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " code %s", e.Code)
	}
	if e.SubCode != "" {
		fmt.Fprintf(&b, " sub_code %s", e.SubCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is matches the sentinel errors.
func (e *Error) Is(target error) bool {
	k := e.kind()
	switch target {
	case ErrQuotaExhausted:
		return k == kindQuota
	case ErrRateLimited:
		return k == kindQPS || k == kindGlobalQPS
	case ErrBusy:
		return k == kindBusy || k == kindServer
	case ErrInvalidToken:
		return k == kindToken
	case ErrNotFound:
		return k == kindNotFound
	case ErrInvalidCode:
		return k == kindCode
	case ErrNoPermission:
		return k == kindPermission
	case ErrIPBlocked:
		return k == kindIPBlocked
	case ErrInvalidArgument:
		return k == kindArgument
	}
	return false
}

type errKind int

const (
	kindOther errKind = iota
	kindBusy
	kindServer
	kindQPS
	kindGlobalQPS
	kindQuota
	kindToken
	kindNotFound
	kindCode
	kindPermission
	kindIPBlocked
	kindArgument
)

// kind classifies the answer. Old-style codes come from dingtalk-api.md §1–§5;
// errcode 88 branches on sub_code, which may itself carry a platform code
// such as 90018 (UNCONFIRMED in the doc, so both placements are accepted).
func (e *Error) kind() errKind {
	if e.Code == ipBlockedCode {
		return kindIPBlocked
	}
	if e.ErrCode != 0 {
		code := e.ErrCode
		if code == 88 && e.SubCode != "" {
			if sc, err := strconv.Atoi(e.SubCode); err == nil {
				code = sc
			}
		}
		switch code {
		case -1:
			return kindBusy
		case 90018:
			return kindQPS
		case 90002:
			return kindGlobalQPS
		case 90020:
			return kindQuota
		case 40014, 42001, 40001:
			return kindToken
		case 60121, 60003, 33012, 60019:
			return kindNotFound
		case 40078:
			return kindCode
		case 88, 60011, 43007, 50002, 50004:
			return kindPermission
		case 40035, 40069, 40068, 40056:
			return kindArgument
		}
		return kindOther
	}
	code := strings.ToLower(e.Code)
	switch {
	case strings.Contains(code, "apicountlimitfororg"):
		return kindQuota
	case strings.Contains(code, "qpslimitforappkeyandapi"):
		return kindQPS
	case strings.Contains(code, "qpslimitforapi"):
		return kindGlobalQPS
	case code == "system.busy" || code == "systembusy":
		return kindBusy
	case code == "invalidauthentication" || code == "accesstoken.expired" || e.HTTPStatus == http.StatusUnauthorized:
		return kindToken
	case e.HTTPStatus == http.StatusTooManyRequests:
		return kindBusy
	case e.HTTPStatus >= 500:
		return kindServer
	case strings.Contains(code, "authcode") || strings.Contains(code, "invalidcode"):
		return kindCode
	case e.HTTPStatus == http.StatusNotFound || strings.Contains(code, "notfound"):
		return kindNotFound
	case e.HTTPStatus == http.StatusForbidden:
		return kindPermission
	case strings.HasPrefix(code, "invalidparameter") || strings.Contains(code, "paramerror") || code == "overmax":
		return kindArgument
	}
	return kindOther
}

// retryable reports whether the same request may succeed a moment later.
func (e *Error) retryable() bool {
	switch e.kind() {
	case kindBusy, kindServer, kindQPS, kindGlobalQPS:
		return true
	}
	return false
}

// ipBlockedCode marks the per-IP ban answer ({"status":1111,...} or an HTML page).
const ipBlockedCode = "ip.blocked"

// flexString decodes a JSON string or number into a string: sub_code and the
// forbidden_list code are documented without a type.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	*f = flexString(strings.TrimSpace(string(b)))
	return nil
}

// flexInt decodes a JSON number or a numeric string into an int64.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("dingtalk: not an integer: %s", b)
	}
	*f = flexInt(n)
	return nil
}
