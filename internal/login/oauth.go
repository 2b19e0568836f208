package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// StateTTL is how long an OAuth login may take from the redirect to
// DingTalk until the callback.
const StateTTL = 10 * time.Minute

// kv keys of the OAuth states; the state itself is stored hashed, so a dump
// of the store holds nothing a callback would accept.
const (
	stateKeyPrefix = "login:oauth:state:"
	usedKeyPrefix  = "login:oauth:used:"
)

// OAuthStart is a started OAuth login: send the browser to URL, and give it
// Binding in a cookie; the callback must present both the state (in URL)
// and that cookie.
type OAuthStart struct {
	URL     string
	Binding string
}

type storedState struct {
	Binding string `json:"b"` // SHA-256 of the browser's binding cookie
	Next    string `json:"n"` // where to land after the login
}

// StartOAuth issues a one-time state bound to this browser and returns
// DingTalk's authorize URL with it. redirect is the callback's absolute
// URL (it must be registered in the DingTalk console); next is the app
// path to land on afterwards (anything but a local path becomes "/").
func (l *Service) StartOAuth(ctx context.Context, redirect, next string) (*OAuthStart, error) {
	state, binding := randomHex(32), randomHex(32)
	val, _ := json.Marshal(storedState{Binding: hash(binding), Next: SafeNext(next)})
	if err := l.kv.Set(ctx, stateKeyPrefix+hash(state), string(val), StateTTL); err != nil {
		return nil, fmt.Errorf("login: store oauth state: %w", err)
	}
	return &OAuthStart{URL: l.dt.AuthorizeURL(state, redirect), Binding: binding}, nil
}

// FinishOAuth completes the callback: the state must be one this service
// issued, unused, under 10 minutes old and bound to this browser; then the
// code is exchanged for a user token, users/me gives the unionId, and
// getbyunionid the userid. It returns the session and the path to land on.
// The state is spent whatever happens next, so a callback URL works once.
func (l *Service) FinishOAuth(ctx context.Context, code, state, binding, ip, ua string) (*Result, string, error) {
	next, err := l.consumeState(ctx, state, binding)
	if err != nil {
		return nil, "", err
	}
	if code == "" {
		return nil, "", ErrCodeMissing
	}
	tok, err := l.dt.GetUserToken(ctx, code)
	if err != nil {
		return nil, "", dingTalkRefusal("userAccessToken", err)
	}
	me, err := l.dt.GetMe(ctx, tok.AccessToken)
	if err != nil {
		return nil, "", dingTalkRefusal("users/me", err)
	}
	userID, contactType, err := l.dt.GetUserIDByUnionID(ctx, me.UnionID)
	if err != nil {
		return nil, "", dingTalkRefusal("getbyunionid", err)
	}
	if contactType != 0 { // an external contact, not staff
		l.recordOutsider(ctx, userID, me.Nick, MethodOAuth)
		return nil, "", ErrNotInOrg
	}
	res, err := l.loginVouched(ctx, userID, me.Nick, MethodOAuth, ip, ua)
	if err != nil {
		return nil, "", err
	}
	return res, next, nil
}

// consumeState spends a state exactly once. The SetNX claim is what makes
// it one-time when two callbacks race (on any instance); the Get before it
// keeps random garbage from leaving claims behind.
func (l *Service) consumeState(ctx context.Context, state, binding string) (string, error) {
	if state == "" || len(state) > 128 {
		return "", ErrBadState
	}
	key := hash(state)
	val, ok, err := l.kv.Get(ctx, stateKeyPrefix+key)
	if err != nil {
		return "", fmt.Errorf("login: read oauth state: %w", err)
	}
	if !ok {
		return "", ErrBadState
	}
	first, err := l.kv.SetNX(ctx, usedKeyPrefix+key, "1", StateTTL)
	if err != nil {
		return "", fmt.Errorf("login: claim oauth state: %w", err)
	}
	if !first {
		return "", ErrBadState
	}
	_ = l.kv.Del(ctx, stateKeyPrefix+key) // the claim already makes it unusable
	var st storedState
	if err := json.Unmarshal([]byte(val), &st); err != nil {
		return "", ErrBadState
	}
	if binding == "" || subtle.ConstantTimeCompare([]byte(hash(binding)), []byte(st.Binding)) != 1 {
		return "", ErrBadState
	}
	return st.Next, nil
}

// SafeNext keeps a post-login destination on this site: a path starting
// with one "/" (not "//" or "/\", which browsers treat as another host),
// without control characters; anything else is "/".
func SafeNext(next string) string {
	if next == "" || len(next) > 512 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	return next
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: since Go 1.24 a broken source crashes the program
	return hex.EncodeToString(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
