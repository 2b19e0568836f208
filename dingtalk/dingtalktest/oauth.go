package dingtalktest

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// OAuthCodeTTL is how long an OAuth code lives (not documented; 5 minutes
// like the login-free code).
const OAuthCodeTTL = 5 * time.Minute

// IssueOAuthCode returns an OAuth authorization code for userID, as the
// login page's redirect would carry it: valid 5 minutes, usable once.
func (s *Server) IssueOAuthCode(userID string) string {
	code := newID(32)
	exp := s.Now().Add(OAuthCodeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth[code] = &oneTimeCode{userID: userID, expires: exp}
	return code
}

// SetOAuthUser makes the authorize page log userID in at once (as if they
// scanned the QR code); "" brings back the page that lists the people.
func (s *Server) SetOAuthUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthAs = userID
}

// authorize is login.dingtalk.com/oauth2/auth. It checks the parameters,
// then redirects with a code for the chosen person (SetOAuthUser or the
// login_as parameter); otherwise it shows a page to choose one.
func (s *Server) authorize(r *http.Request, _ []byte, _ caller) (any, *apiErr) {
	q := r.URL.Query()
	bad := func(msg string) *apiErr {
		return &apiErr{status: http.StatusBadRequest, raw: "<p>" + html.EscapeString(msg) + "</p>"}
	}
	switch {
	case q.Get("client_id") != s.opts.AppKey:
		return nil, bad("unknown client_id")
	case q.Get("response_type") != "code":
		return nil, bad("response_type must be code")
	case q.Get("prompt") != "consent":
		return nil, bad("prompt=consent is required")
	case !strings.Contains(q.Get("scope"), "openid"):
		return nil, bad("scope must contain openid")
	}
	redir, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redir.Scheme == "" || redir.Host == "" {
		return nil, bad("redirect_uri must be an absolute URL")
	}
	s.mu.Lock()
	who := q.Get("login_as")
	if who == "" {
		who = s.oauthAs
	}
	_, known := s.org.users[who]
	var people []*User
	if !known {
		for _, u := range s.org.users {
			people = append(people, u)
		}
	}
	s.mu.Unlock()
	if known {
		code := s.IssueOAuthCode(who)
		rq := redir.Query()
		rq.Set("code", code)
		rq.Set("authCode", code)
		rq.Set("state", q.Get("state"))
		redir.RawQuery = rq.Encode()
		return redirect(redir.String()), nil
	}
	sort.Slice(people, func(i, j int) bool { return people[i].UserID < people[j].UserID })
	var b strings.Builder
	b.WriteString(`<!doctype html><meta charset="utf-8"><title>模拟钉钉登录</title>` +
		`<h1>模拟钉钉登录（测试组织）</h1><p>选择登录的人：</p><ul>`)
	for _, u := range people {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("login_as", u.UserID)
		fmt.Fprintf(&b, `<li><a href="/oauth2/auth?%s">%s</a> (%s, %s)</li>`,
			html.EscapeString(q2.Encode()), html.EscapeString(u.Name), html.EscapeString(u.UserID), html.EscapeString(u.Title))
	}
	b.WriteString("</ul>")
	return b.String(), nil
}

func (s *Server) userAccessToken(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		Code         string `json:"code"`
		RefreshToken string `json:"refreshToken"`
		GrantType    string `json:"grantType"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errNew(400, "InvalidParameter", "bad body")
	}
	if in.ClientID != s.opts.AppKey || in.ClientSecret != s.opts.AppSecret {
		return nil, errNew(400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var userID string
	switch in.GrantType {
	case "authorization_code":
		id, ok := s.takeCode(s.oauth, in.Code)
		if !ok {
			return nil, errNew(400, "invalidAuthCode", "授权码不存在或已使用")
		}
		userID = id
	case "refresh_token":
		id, ok := s.refresh[in.RefreshToken]
		if !ok {
			return nil, errNew(400, "invalidRefreshToken", "refreshToken不存在")
		}
		delete(s.refresh, in.RefreshToken)
		userID = id
	default:
		return nil, errNew(400, "invalidParameter.grantType", "grantType必须是authorization_code或refresh_token")
	}
	if s.org.users[userID] == nil {
		return nil, errNew(400, "invalidAuthCode", "用户不在组织内")
	}
	tok, ref := newID(32), newID(32)
	s.userTok[tok] = userToken{userID: userID, expires: s.Now().Add(s.opts.TokenTTL)}
	s.refresh[ref] = userID
	return map[string]any{
		"accessToken": tok, "refreshToken": ref, "expireIn": int64(s.opts.TokenTTL / time.Second), "corpId": s.opts.CorpID,
	}, nil
}

// contactUser is GET /v1.0/contact/users/{unionId}: "me" with a user token,
// or a unionId with a user or app token.
func (s *Server) contactUser(r *http.Request, _ []byte, _ caller) (any, *apiErr) {
	union := r.PathValue("unionId")
	tok := r.Header.Get("x-acs-dingtalk-access-token")
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var u *User
	if ut, ok := s.userTok[tok]; ok {
		if now.After(ut.expires) {
			return nil, errc(42001, "access_token超时")
		}
		u = s.org.users[ut.userID]
		if union != "me" && (u == nil || u.UnionID != union) {
			u = s.org.users[s.org.union[union]]
		}
	} else if t, ok := s.tokens[tok]; ok && union != "me" && !now.After(t.expires) {
		u = s.org.users[s.org.union[union]]
	} else {
		return nil, errc(40014, "不合法的access_token")
	}
	if u == nil {
		return nil, errNew(404, "invalidParameter.user.notFound", "用户不存在")
	}
	return map[string]any{
		"nick": u.Name, "avatarUrl": u.Avatar, "mobile": u.Mobile, "openId": u.OpenID,
		"unionId": u.UnionID, "email": u.Email, "stateCode": u.StateCode, "visitor": false,
	}, nil
}
