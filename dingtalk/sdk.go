package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	contact "github.com/alibabacloud-go/dingtalk/contact_1_0"
	oauth2 "github.com/alibabacloud-go/dingtalk/oauth2_1_0"
	robot "github.com/alibabacloud-go/dingtalk/robot_1_0"
	todo "github.com/alibabacloud-go/dingtalk/todo_1_0"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
)

// sdkClients builds the official SDK's clients for api.dingtalk.com,
// pointed at APIBaseURL (Protocol + Endpoint, so the fake server works too).
// A client is built for every call: the SDK's clients write shared state on
// each call (openapi's GetRpcHeaders resets client.Headers), so one client
// is not safe for concurrent use. Building one does no I/O, and the SDK
// pools HTTP connections process-wide.
type sdkClients struct {
	protocol, endpoint string
	timeout            time.Duration
}

func newSDKClients(base string, timeout time.Duration) (*sdkClients, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("dingtalk: bad APIBaseURL %q", base)
	}
	s := &sdkClients{protocol: u.Scheme, endpoint: u.Host, timeout: timeout}
	if _, err := s.oauth(); err != nil { // check the configuration once
		return nil, err
	}
	return s, nil
}

func (s *sdkClients) config() *openapi.Config {
	return &openapi.Config{
		Protocol:       tea.String(s.protocol),
		Endpoint:       tea.String(s.endpoint),
		RegionId:       tea.String("central"),
		ReadTimeout:    tea.Int(int(s.timeout.Milliseconds())),
		ConnectTimeout: tea.Int(int(min(s.timeout, 5*time.Second).Milliseconds())),
	}
}

func (s *sdkClients) oauth() (*oauth2.Client, error)    { return oauth2.NewClient(s.config()) }
func (s *sdkClients) contact() (*contact.Client, error) { return contact.NewClient(s.config()) }
func (s *sdkClients) robot() (*robot.Client, error)     { return robot.NewClient(s.config()) }
func (s *sdkClients) todo() (*todo.Client, error)       { return todo.NewClient(s.config()) }

// runtime returns the SDK's per-call options: our own retries, so none of its.
func (s *sdkClients) runtime() *util.RuntimeOptions {
	ms := int(s.timeout.Milliseconds())
	return &util.RuntimeOptions{
		ReadTimeout:    tea.Int(ms),
		ConnectTimeout: tea.Int(int(min(s.timeout, 5*time.Second).Milliseconds())),
		Autoretry:      tea.Bool(false),
	}
}

// sdkCall runs one SDK call. The SDK takes no context, so the call runs
// aside and the attempt returns when ctx ends; the abandoned call ends by
// the SDK's own read timeout (Options.Timeout) and its result is dropped.
func sdkCall[T any](ctx context.Context, api string, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, sdkError(api, r.err)
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// sdkError turns the SDK's *tea.SDKError into an *Error with the HTTP
// status, the new-style code, the message and the request id.
func sdkError(api string, err error) error {
	if err == nil {
		return nil
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		// Transport failures (refused, reset, timeout) come back as plain errors.
		return &transportError{api: api, err: err}
	}
	e := &Error{API: api, Code: tea.StringValue(se.Code), HTTPStatus: tea.IntValue(se.StatusCode)}
	var data struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		RequestID  string `json:"requestid"`
		RequestID2 string `json:"requestId"`
	}
	if se.Data != nil && json.Unmarshal([]byte(*se.Data), &data) == nil {
		e.Message = data.Message
		e.RequestID = data.RequestID
		if e.RequestID == "" {
			e.RequestID = data.RequestID2
		}
		if e.Code == "" {
			e.Code = data.Code
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(tea.StringValue(se.Message))
	}
	if e.HTTPStatus == 0 && e.Code == "" {
		return &transportError{api: api, err: err}
	}
	return e
}

// sdkAppToken fetches the api.dingtalk.com app token.
func (c *Client) sdkAppToken(ctx context.Context) (string, int64, error) {
	resp, err := sdkCall(ctx, APIAccessToken, func() (*oauth2.GetAccessTokenResponse, error) {
		cl, err := c.sdk.oauth()
		if err != nil {
			return nil, err
		}
		return cl.GetAccessTokenWithOptions(&oauth2.GetAccessTokenRequest{
			AppKey:    tea.String(c.opts.AppKey),
			AppSecret: tea.String(c.opts.AppSecret),
		}, map[string]*string{}, c.sdk.runtime())
	})
	if err != nil {
		return "", 0, err
	}
	if resp == nil || resp.Body == nil {
		return "", 0, errors.New("dingtalk: empty access token answer")
	}
	return tea.StringValue(resp.Body.AccessToken), tea.Int64Value(resp.Body.ExpireIn), nil
}
