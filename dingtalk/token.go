package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// cachedToken is the KV value of an app token.
type cachedToken struct {
	Token   string `json:"token"`
	Expires int64  `json:"expires"` // unix ms
}

// The app keeps one token per host. The doc leaves open whether one token
// string works on both hosts (UNCONFIRMED), so the oapi token comes from
// /gettoken and the api token from /v1.0/oauth2/accessToken; both are quota
// exempt and each lives 2 hours, so this costs two token calls per 2 hours.
func (c *Client) tokenKey(h host) string {
	kind := "oapi"
	if h == hostAPI {
		kind = "api"
	}
	return c.opts.KeyPrefix + "token:" + c.opts.AppKey + ":" + kind
}

// GetAccessToken returns the app access token for oapi.dingtalk.com calls,
// from the shared cache when it is fresh.
func (c *Client) GetAccessToken(ctx context.Context) (string, error) {
	return c.token(ctx, hostOAPI)
}

// token returns a valid token of host h. A fresh cached token is returned as
// is. In the last TokenRefreshBefore of its life one caller across all
// instances (a KV lock) refreshes it while the others keep using it. A
// missing or expired token is fetched once per instance (singleflight).
func (c *Client) token(ctx context.Context, h host) (string, error) {
	key := c.tokenKey(h)
	now := c.now()
	if t, ok := c.readToken(ctx, key); ok && now.UnixMilli() < t.Expires {
		if now.Add(c.opts.TokenRefreshBefore).UnixMilli() < t.Expires {
			return t.Token, nil
		}
		if got, err := c.kv.SetNX(ctx, key+":refresh", "1", 30*time.Second); err != nil || !got {
			return t.Token, nil // another caller or instance refreshes it
		}
		tok, err := c.refreshToken(ctx, h, true)
		if err != nil {
			c.log.WarnContext(ctx, "dingtalk: early token refresh failed; using the current token", "err", err)
			return t.Token, nil
		}
		return tok, nil
	}
	return c.refreshToken(ctx, h, false)
}

func (c *Client) readToken(ctx context.Context, key string) (cachedToken, bool) {
	raw, ok, err := c.kv.Get(ctx, key)
	if err != nil {
		c.log.WarnContext(ctx, "dingtalk: token cache read", "err", err)
		return cachedToken{}, false
	}
	if !ok {
		return cachedToken{}, false
	}
	var t cachedToken
	if err := json.Unmarshal([]byte(raw), &t); err != nil || t.Token == "" {
		return cachedToken{}, false
	}
	return t, true
}

// refreshToken fetches a token once per instance however many callers wait.
// Unless early (the caller holds the refresh lock), a token another caller
// or instance stored meanwhile is used instead.
func (c *Client) refreshToken(ctx context.Context, h host, early bool) (string, error) {
	key := c.tokenKey(h)
	ch := c.tokens.DoChan(key, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		if !early {
			if t, ok := c.readToken(fctx, key); ok && c.now().Add(c.opts.TokenRefreshBefore).UnixMilli() < t.Expires {
				return t.Token, nil
			}
		}
		tok, ttl, err := c.fetchToken(fctx, h)
		if err != nil {
			return "", err
		}
		c.tokenFetchN.Add(1)
		v, _ := json.Marshal(cachedToken{Token: tok, Expires: c.now().Add(ttl).UnixMilli()})
		if err := c.kv.Set(fctx, key, string(v), ttl); err != nil {
			c.log.WarnContext(fctx, "dingtalk: token cache write", "err", err)
		}
		return tok, nil
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("dingtalk: access token: %w", ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// dropToken removes the cached token after an invalid-token answer, unless
// another caller already replaced it.
func (c *Client) dropToken(ctx context.Context, h host, used string) {
	key := c.tokenKey(h)
	if t, ok := c.readToken(ctx, key); ok && t.Token != used {
		return
	}
	if err := c.kv.Del(ctx, key); err != nil {
		c.log.WarnContext(ctx, "dingtalk: token cache drop", "err", err)
	}
}

// fetchToken asks DingTalk for a token (through the same rate limit,
// retries and counting as every call).
func (c *Client) fetchToken(ctx context.Context, h host) (string, time.Duration, error) {
	var tok string
	var expiresIn int64
	var err error
	if h == hostAPI {
		err = c.do(ctx, APIAccessToken, hostNone, func(ctx context.Context, _ string) error {
			var e error
			tok, expiresIn, e = c.sdkAppToken(ctx)
			return e
		})
	} else {
		var out struct {
			AccessToken string  `json:"access_token"`
			ExpiresIn   flexInt `json:"expires_in"`
		}
		q := url.Values{"appkey": {c.opts.AppKey}, "appsecret": {c.opts.AppSecret}}
		err = c.do(ctx, APIGetToken, hostNone, func(ctx context.Context, _ string) error {
			return c.oapiAttempt(ctx, APIGetToken, http.MethodGet, "/gettoken", q, nil, &out)
		})
		tok, expiresIn = out.AccessToken, int64(out.ExpiresIn)
	}
	if err != nil {
		return "", 0, err
	}
	if tok == "" {
		return "", 0, errors.New("dingtalk: token endpoint returned no token")
	}
	if expiresIn <= 0 {
		expiresIn = 7200
	}
	return tok, time.Duration(expiresIn) * time.Second, nil
}

// TokenFetches returns how many app tokens this client fetched (both hosts).
func (c *Client) TokenFetches() int64 { return c.tokenFetchN.Load() }
