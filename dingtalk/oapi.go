package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// oapiEnvelope is what every old-style answer carries.
type oapiEnvelope struct {
	ErrCode   *int       `json:"errcode"`
	ErrMsg    string     `json:"errmsg"`
	SubCode   flexString `json:"sub_code"`
	SubMsg    string     `json:"sub_msg"`
	RequestID string     `json:"request_id"`
	// The per-IP ban answer: {"status":1111,"wait":5,"punish":"deny"}.
	Status flexInt `json:"status"`
	Punish string  `json:"punish"`
}

// oapiPost is one old-style POST call with the app token in the query.
func (c *Client) oapiPost(ctx context.Context, api string, body, out any) error {
	return c.do(ctx, api, hostOAPI, func(ctx context.Context, token string) error {
		q := url.Values{"access_token": {token}}
		return c.oapiAttempt(ctx, api, http.MethodPost, "/"+api, q, body, out)
	})
}

// oapiAttempt performs one exchange with oapi.dingtalk.com and decodes the
// answer into out; a non-zero errcode becomes an *Error.
func (c *Client) oapiAttempt(ctx context.Context, api, method, path string, q url.Values, body, out any) error {
	u := c.opts.OAPIBaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.exchange(ctx, api, method, u, body, out)
}

// exchange sends body as JSON to u and decodes an old-style answer.
func (c *Client) exchange(ctx context.Context, api, method, u string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := marshal(body)
		if err != nil {
			return fmt.Errorf("dingtalk %s: encode request: %w", api, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("dingtalk %s: %w", api, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &transportError{api: api, err: redactURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &transportError{api: api, err: err}
	}
	return decodeOAPI(api, resp, raw, out)
}

func decodeOAPI(api string, resp *http.Response, raw []byte, out any) error {
	reqID := resp.Header.Get("x-acs-request-id")
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '<' && resp.StatusCode == http.StatusOK {
		// An HTML page instead of JSON is how the per-IP ban shows itself.
		return &Error{API: api, HTTPStatus: resp.StatusCode, Code: ipBlockedCode, Message: "HTML answer: " + snippet(trimmed)}
	}
	var env oapiEnvelope
	jsonErr := json.Unmarshal(trimmed, &env)
	if env.RequestID == "" {
		env.RequestID = reqID
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{API: api, HTTPStatus: resp.StatusCode, RequestID: env.RequestID, Message: snippet(trimmed)}
		if jsonErr == nil && env.ErrCode != nil {
			e.ErrCode, e.Message, e.SubCode = *env.ErrCode, joinMsg(env.ErrMsg, env.SubMsg), string(env.SubCode)
		}
		return e
	}
	if jsonErr != nil {
		return &Error{API: api, HTTPStatus: resp.StatusCode, RequestID: reqID, Message: "undecodable answer: " + snippet(trimmed)}
	}
	if env.Status == 1111 || env.Punish != "" {
		return &Error{API: api, HTTPStatus: resp.StatusCode, Code: ipBlockedCode, Message: snippet(trimmed)}
	}
	if env.ErrCode != nil && *env.ErrCode != 0 {
		return &Error{API: api, HTTPStatus: resp.StatusCode, ErrCode: *env.ErrCode, SubCode: string(env.SubCode),
			Message: joinMsg(env.ErrMsg, env.SubMsg), RequestID: env.RequestID}
	}
	if out != nil {
		if err := json.Unmarshal(trimmed, out); err != nil {
			return fmt.Errorf("dingtalk %s: decode answer: %w", api, err)
		}
	}
	return nil
}

func joinMsg(msg, sub string) string {
	if sub == "" {
		return msg
	}
	if msg == "" {
		return sub
	}
	return msg + ": " + sub
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// marshal encodes JSON without HTML escaping, as DingTalk measures and shows
// the text (escaping would also inflate the 2048-byte message budget).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// redactURL drops the query from the URL that net/http puts into its
// errors: /gettoken carries the app secret and other calls the access token
// there, and transport errors end up in logs and answers.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr == nil {
		u.RawQuery = ""
		return &url.Error{Op: ue.Op, URL: u.String() + "?…", Err: ue.Err}
	}
	return &url.Error{Op: ue.Op, URL: "(redacted)", Err: ue.Err}
}
