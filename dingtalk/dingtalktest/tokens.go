package dingtalktest

import (
	"encoding/json"
	"net/http"
	"time"
)

// authenticate checks the app or user token of a request.
func (s *Server) authenticate(r *http.Request, st style, auth authKind) (caller, *apiErr) {
	if auth == authNone {
		return caller{}, nil
	}
	var tok string
	if st == oldStyle {
		tok = r.URL.Query().Get("access_token")
	} else {
		tok = r.Header.Get("x-acs-dingtalk-access-token")
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if auth == authUser {
		if u, ok := s.userTok[tok]; ok {
			if now.After(u.expires) {
				return caller{}, errc(42001, "access_token超时")
			}
			return caller{token: tok, userID: u.userID}, nil
		}
		return caller{}, errc(40014, "不合法的access_token")
	}
	t, ok := s.tokens[tok]
	if !ok {
		return caller{}, errc(40014, "不合法的access_token")
	}
	if now.After(t.expires) {
		return caller{}, errc(42001, "access_token超时")
	}
	if s.opts.SeparateHostTokens {
		want := "oapi"
		if st == newStyle {
			want = "api"
		}
		if t.host != want {
			return caller{}, errc(40014, "不合法的access_token")
		}
	}
	return caller{token: tok}, nil
}

// issueAppToken returns the app's token of a host kind: the same one,
// its life extended, while it is valid (自动续期); a new one after.
func (s *Server) issueAppToken(host string) (string, int64) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := host
	if !s.opts.SeparateHostTokens {
		kind = "shared"
	}
	tok := s.current[kind]
	if t, ok := s.tokens[tok]; !ok || now.After(t.expires) {
		delete(s.tokens, tok)
		tok = newID(32)
		s.current[kind] = tok
	}
	s.tokens[tok] = appToken{host: host, expires: now.Add(s.opts.TokenTTL)}
	return tok, int64(s.opts.TokenTTL / time.Second)
}

// InvalidateTokens revokes every app and user token, as when the secret is
// reset: the next calls with them answer 40014 / InvalidAuthentication.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]appToken{}
	s.current = map[string]string{}
	s.userTok = map[string]userToken{}
}

func (s *Server) getToken(r *http.Request, _ []byte, _ caller) (any, *apiErr) {
	q := r.URL.Query()
	if q.Get("appkey") != s.opts.AppKey || q.Get("appsecret") != s.opts.AppSecret {
		return nil, errc(40089, "不合法的corpid或corpsecret")
	}
	tok, exp := s.issueAppToken("oapi")
	return map[string]any{"access_token": tok, "expires_in": exp}, nil
}

func (s *Server) accessToken(_ *http.Request, body []byte, _ caller) (any, *apiErr) {
	var in struct {
		AppKey    string `json:"appKey"`
		AppSecret string `json:"appSecret"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errNew(400, "InvalidParameter", "bad body")
	}
	if in.AppKey != s.opts.AppKey || in.AppSecret != s.opts.AppSecret {
		return nil, errNew(400, "invalidClientIdOrSecret", "无效的clientId或clientSecret")
	}
	tok, exp := s.issueAppToken("api")
	return map[string]any{"accessToken": tok, "expireIn": exp}, nil
}
