package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"
)

// Stream mode (dingtalk-api.md §7 "Stream delivery", §8): instead of
// DingTalk POSTing events to a public URL, the app opens an outbound
// WebSocket to DingTalk's gateway and receives the events over it, so no
// public URL is needed. The wire format is that of the official SDK
// github.com/open-dingtalk/dingtalk-stream-sdk-go v0.9.1, whose payload
// types this file uses:
//
//  1. POST {BaseURL}/v1.0/gateway/connections/open with
//     {clientId, clientSecret, subscriptions: [{type, topic}], ua, localIp}
//     answers 200 {endpoint: "wss://…/connect", ticket}; wrong credentials
//     answer 401 {"code": "authFailed", "message": "鉴权失败"}.
//  2. A WebSocket GET of {endpoint}?ticket={ticket} (one-time ticket).
//  3. The gateway sends text frames {specVersion, type, time, headers, data}
//     where type is SYSTEM, EVENT or CALLBACK, headers carry topic,
//     messageId, contentType and time, and data is a JSON string. EVENT
//     frames also carry eventId, eventType, eventBornTime, eventCorpId and
//     eventUnifiedAppId headers; data holds the event's own fields
//     ({timeStamp, userId: […]} for contact events).
//  4. The client answers every frame with {code, headers: {messageId,
//     contentType}, message, data}: an event with code 200 and data
//     {"status":"SUCCESS"} (acknowledged) or code 500 and {"status":"LATER"}
//     (the platform delivers it again later) — as the SDK's
//     DefaultEventFrameHandler; a SYSTEM "ping" with code 200 echoing its
//     data; a SYSTEM "disconnect" by closing and connecting again.
//
// The SDK's own StreamClient can be pointed elsewhere (WithOpenApiHost), and
// the fake platform's tests use it to prove the fake speaks its protocol,
// but the CRM does not run it: it cannot be stopped (Close with
// AutoReconnect on makes its read loop reconnect), it reconnects forever
// every 3 s with no backoff or context, without AutoReconnect nothing
// tells that the connection dropped, a ping time-out closes channels its
// reader goroutine still sends on (a panic outside any recover kills the
// process), and frame handlers write to the connection from several
// goroutines at once, which gorilla/websocket forbids. StreamClient below
// is a small client of the same wire format with a lifetime bound to a
// context, jittered exponential backoff and one writer.

// APIStreamOpen is the gateway's connection-open API.
const APIStreamOpen = "v1.0/gateway/connections/open"

// StreamTopicBotMessage is the CALLBACK topic of robot messages (the SDK's
// payload.BotMessageCallbackTopic).
const StreamTopicBotMessage = "/v1.0/im/bot/messages/get"

// StreamCallback handles one CALLBACK frame's data.
type StreamCallback func(ctx context.Context, data []byte) error

// Stream topics of SYSTEM frames.
const (
	StreamTopicPing       = "ping"
	StreamTopicDisconnect = "disconnect"
)

// StreamUserAgent is the ua the client announces.
const StreamUserAgent = "dingcrm-stream/1 (dingtalk-stream-sdk-go/v0.9.1 wire)"

// ErrStreamRefused means the gateway refused the credentials (or the
// request): retrying soon will not help.
var ErrStreamRefused = errors.New("dingtalk: stream connection refused")

// StreamOpenError is a non-200 answer of connections/open.
type StreamOpenError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *StreamOpenError) Error() string {
	return fmt.Sprintf("dingtalk: stream connections/open: HTTP %d %s %s (requestid %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// Is makes a refusal (401, 403, any other 4xx but 408 and 429) match
// ErrStreamRefused.
func (e *StreamOpenError) Is(target error) bool {
	return target == ErrStreamRefused && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// StreamOptions configure a StreamClient. Zero values take the defaults
// noted.
type StreamOptions struct {
	ClientID     string // the AppKey
	ClientSecret string // the AppSecret
	// BaseURL is the gateway host; default DefaultAPIBaseURL (the SDK's
	// DefaultOpenApiHost). The fake platform's URL in tests.
	BaseURL string
	// Topics are the EVENT topics subscribed; default "*" (every event the
	// app subscribed to in the console).
	Topics []string
	// Handle is called once per EVENT frame, one at a time, in the order
	// received; nil acknowledges the event, an error makes the platform
	// deliver it again later. It must be quick (store, then return).
	Handle EventHandler
	// HandleTimeout bounds one Handle (or callback) call; default 30 s.
	HandleTimeout time.Duration
	// Callbacks are CALLBACK topics subscribed and their handlers, e.g.
	// StreamTopicBotMessage for the robot's messages. A handler gets the
	// frame's data (the callback's JSON body) and is called one frame at a
	// time like Handle; nil answers 200 (taken), an error 500 with its
	// message, as the SDK's callback frame handlers do.
	Callbacks map[string]StreamCallback

	HTTPClient *http.Client      // for connections/open; default 10 s timeout, proxy from the environment
	Dialer     *websocket.Dialer // default 10 s handshake, proxy from the environment

	// MinBackoff and MaxBackoff bound the wait before connecting again:
	// doubling from MinBackoff after each failed attempt up to MaxBackoff,
	// each drawn between half and all of its value; a refusal waits
	// MaxBackoff; a connection that was up reconnects after MinBackoff;
	// a SYSTEM disconnect at once. Defaults 1 s and 1 min.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// KeepAlive is how often a WebSocket ping is sent; a connection that
	// shows no sign of life for KeepAlive+PongWait is dropped. Defaults
	// 60 s and 10 s.
	KeepAlive time.Duration
	PongWait  time.Duration

	Logger *slog.Logger // default: discard
}

// StreamStats describe a client's connection.
type StreamStats struct {
	Connected bool
	Connects  int // connections established
	Failures  int // connection attempts that failed
	Events    int // events acknowledged
	LastError string
}

// StreamClient receives events over Stream mode. Run it in a goroutine.
type StreamClient struct {
	o      StreamOptions
	log    *slog.Logger
	http   *http.Client
	dialer *websocket.Dialer
	subs   []*payload.SubscriptionModel

	mu    sync.Mutex
	stats StreamStats
}

// errServerDisconnect ends a session on a SYSTEM disconnect frame.
var errServerDisconnect = errors.New("dingtalk: stream: the gateway asked to reconnect")

// NewStreamClient checks the options and builds the client.
func NewStreamClient(o StreamOptions) (*StreamClient, error) {
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("dingtalk: stream needs the AppKey and AppSecret")
	}
	if o.Handle == nil {
		return nil, errors.New("dingtalk: stream needs an event handler")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultAPIBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if len(o.Topics) == 0 {
		o.Topics = []string{"*"}
	}
	setDuration(&o.HandleTimeout, 30*time.Second)
	setDuration(&o.MinBackoff, time.Second)
	setDuration(&o.MaxBackoff, time.Minute)
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	setDuration(&o.KeepAlive, 60*time.Second)
	setDuration(&o.PongWait, 10*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &StreamClient{o: o, log: o.Logger, http: o.HTTPClient, dialer: o.Dialer}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if c.dialer == nil {
		c.dialer = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 10 * time.Second}
	}
	// The SDK subscribes its SYSTEM handlers too.
	c.subs = []*payload.SubscriptionModel{
		{Type: utils.SubscriptionTypeKSystem, Topic: StreamTopicDisconnect},
		{Type: utils.SubscriptionTypeKSystem, Topic: StreamTopicPing},
	}
	for _, t := range o.Topics {
		c.subs = append(c.subs, &payload.SubscriptionModel{Type: utils.SubscriptionTypeKEvent, Topic: t})
	}
	for t := range o.Callbacks {
		c.subs = append(c.subs, &payload.SubscriptionModel{Type: utils.SubscriptionTypeKCallback, Topic: t})
	}
	return c, nil
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Stats returns the connection's state and counts.
func (c *StreamClient) Stats() StreamStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *StreamClient) note(fn func(s *StreamStats)) {
	c.mu.Lock()
	fn(&c.stats)
	c.mu.Unlock()
}

// Run connects and receives events until ctx ends, reconnecting with
// backoff whenever the connection fails or drops. It returns nil when ctx
// ends (the connection is closed then).
func (c *StreamClient) Run(ctx context.Context) error {
	backoff := c.o.MinBackoff
	for ctx.Err() == nil {
		connected, err := c.session(ctx)
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		switch {
		case errors.Is(err, errServerDisconnect):
			backoff = c.o.MinBackoff
			c.log.InfoContext(ctx, "dingtalk stream: the gateway asked to reconnect")
		case connected:
			backoff = c.o.MinBackoff
			wait = jitter(backoff)
			c.log.WarnContext(ctx, "dingtalk stream: connection lost; reconnecting", "err", err, "in", wait)
		case errors.Is(err, ErrStreamRefused):
			wait = jitter(c.o.MaxBackoff)
			c.log.ErrorContext(ctx, "dingtalk stream: connection refused; check dingtalk.app_key and dingtalk.app_secret (and that the app's event subscription uses Stream mode)",
				"err", err, "retry_in", wait)
		default:
			wait = jitter(backoff)
			backoff = min(2*backoff, c.o.MaxBackoff)
			c.log.WarnContext(ctx, "dingtalk stream: cannot connect", "err", err, "retry_in", wait)
		}
		if !connected && err != nil {
			c.note(func(s *StreamStats) { s.Failures++; s.LastError = err.Error() })
		} else if err != nil {
			c.note(func(s *StreamStats) { s.LastError = err.Error() })
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return nil
}

// jitter draws a duration between half and all of d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// session opens one connection and serves it until it ends; connected
// says whether it was established.
func (c *StreamClient) session(ctx context.Context) (connected bool, err error) {
	ep, err := c.open(ctx)
	if err != nil {
		return false, err
	}
	conn, err := c.dial(ctx, ep)
	if err != nil {
		return false, err
	}
	c.note(func(s *StreamStats) { s.Connected = true; s.Connects++ })
	defer c.note(func(s *StreamStats) { s.Connected = false })
	c.log.InfoContext(ctx, "dingtalk stream: connected", "gateway", c.o.BaseURL)
	return true, c.serve(ctx, conn)
}

// open asks the gateway for an endpoint and a ticket.
func (c *StreamClient) open(ctx context.Context) (*payload.ConnectionEndpointResponse, error) {
	req := payload.ConnectionEndpointRequest{ClientId: c.o.ClientID, ClientSecret: c.o.ClientSecret,
		Subscriptions: c.subs, UserAgent: StreamUserAgent}
	if ip, err := utils.GetFirstLanIP(); err == nil {
		req.LocalIP = ip
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.BaseURL+"/"+APIStreamOpen, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("dingtalk: stream connections/open: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(r)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: stream connections/open: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("dingtalk: stream connections/open: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &StreamOpenError{Status: resp.StatusCode}
		var b struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"requestid"`
		}
		if json.Unmarshal(raw, &b) == nil {
			e.Code, e.Message, e.RequestID = b.Code, b.Message, b.RequestID
		} else {
			e.Message = clipText(string(raw), 200)
		}
		return nil, e
	}
	ep := &payload.ConnectionEndpointResponse{}
	if err := json.Unmarshal(raw, ep); err != nil {
		return nil, fmt.Errorf("dingtalk: stream connections/open: %w", err)
	}
	if err := ep.Valid(); err != nil {
		return nil, fmt.Errorf("dingtalk: stream connections/open: %w", err)
	}
	return ep, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// dial opens the WebSocket with the ticket (never logged: it is a
// credential for the connection).
func (c *StreamClient) dial(ctx context.Context, ep *payload.ConnectionEndpointResponse) (*websocket.Conn, error) {
	u, err := url.Parse(ep.Endpoint)
	if err != nil || (u.Scheme != "wss" && u.Scheme != "ws") {
		return nil, fmt.Errorf("dingtalk: stream: bad endpoint %q", ep.Endpoint)
	}
	q := u.Query()
	q.Set("ticket", ep.Ticket)
	u.RawQuery = q.Encode()
	conn, resp, err := c.dialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil {
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			return nil, fmt.Errorf("dingtalk: stream connect to %s: HTTP %d %s", u.Host, resp.StatusCode, clipText(string(raw), 200))
		}
		return nil, fmt.Errorf("dingtalk: stream connect to %s: %w", u.Host, err)
	}
	return conn, nil
}

// serve reads frames and answers them until the connection fails, the
// gateway asks to reconnect or ctx ends. It is the connection's only
// writer of data frames (pings are control frames, which gorilla allows
// from another goroutine).
func (c *StreamClient) serve(ctx context.Context, conn *websocket.Conn) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer func() {
		stop()
		close(done)
		_ = conn.Close()
		wg.Wait()
	}()
	conn.SetReadLimit(4 << 20)
	alive := c.o.KeepAlive + c.o.PongWait
	_ = conn.SetReadDeadline(time.Now().Add(alive))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(alive)) })
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.o.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.o.PongWait)); err != nil {
					_ = conn.Close()
					return
				}
			}
		}
	}()
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("dingtalk: stream read: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(alive))
		if mt != websocket.TextMessage {
			continue
		}
		resp, reconnect := c.frame(ctx, msg)
		if resp != nil {
			_ = conn.SetWriteDeadline(time.Now().Add(c.o.PongWait))
			if err := conn.WriteJSON(resp); err != nil {
				return fmt.Errorf("dingtalk: stream answer: %w", err)
			}
		}
		if reconnect {
			return errServerDisconnect
		}
	}
}

// frame answers one frame; reconnect is set for a SYSTEM disconnect.
func (c *StreamClient) frame(ctx context.Context, raw []byte) (resp *payload.DataFrameResponse, reconnect bool) {
	df, err := payload.DecodeDataFrame(raw)
	if err != nil || df.Headers == nil {
		c.log.WarnContext(ctx, "dingtalk stream: undecodable frame dropped", "bytes", len(raw), "err", err)
		return nil, false
	}
	switch df.Type {
	case utils.SubscriptionTypeKSystem:
		switch df.GetTopic() {
		case StreamTopicPing:
			pong := payload.NewDataFrameAckPong(df.GetMessageId())
			pong.Data = df.Data
			return pong, false
		case StreamTopicDisconnect:
			return nil, true
		}
	case utils.SubscriptionTypeKEvent:
		return c.event(ctx, df), false
	case utils.SubscriptionTypeKCallback:
		if h := c.o.Callbacks[df.GetTopic()]; h != nil {
			return c.callback(ctx, df, h), false
		}
	}
	// As the SDK: no handler for this type and topic.
	resp = payload.NewDataFrameResponse(payload.DataFrameResponseStatusCodeKHandlerNotFound)
	resp.SetHeader(payload.DataFrameHeaderKMessageId, df.GetMessageId())
	resp.SetHeader(payload.DataFrameHeaderKContentType, payload.DataFrameContentTypeKJson)
	return resp, false
}

// event hands an EVENT frame to Handle and builds the answer.
func (c *StreamClient) event(ctx context.Context, df *payload.DataFrame) *payload.DataFrameResponse {
	ev, err := ParseStreamEvent(df)
	if err != nil {
		// Redelivering it cannot help; the nightly full sync repairs what
		// a lost event missed.
		c.log.ErrorContext(ctx, "dingtalk stream: malformed event acknowledged and dropped", "event_id",
			df.GetHeader(event.DataFrameHeaderKEventId), "err", err)
		return eventAnswer(df, true)
	}
	if err := c.handle(ctx, ev); err != nil {
		c.log.ErrorContext(ctx, "dingtalk stream: event not taken; the platform will deliver it again",
			"type", ev.Type, "event_id", ev.EventID, "err", err)
		return eventAnswer(df, false)
	}
	c.note(func(s *StreamStats) { s.Events++ })
	return eventAnswer(df, true)
}

func (c *StreamClient) handle(ctx context.Context, ev Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("dingtalk: stream event handler panicked: %v", p)
		}
	}()
	hctx, cancel := context.WithTimeout(ctx, c.o.HandleTimeout)
	defer cancel()
	return c.o.Handle(hctx, ev)
}

// callback hands a CALLBACK frame to its handler and answers as the SDK's
// DefaultChatBotFrameHandler: 200 when taken, 500 with the error's message
// otherwise.
func (c *StreamClient) callback(ctx context.Context, df *payload.DataFrame, h StreamCallback) *payload.DataFrameResponse {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("dingtalk: stream callback handler panicked: %v", p)
			}
		}()
		hctx, cancel := context.WithTimeout(ctx, c.o.HandleTimeout)
		defer cancel()
		return h(hctx, []byte(df.Data))
	}()
	resp := payload.NewSuccessDataFrameResponse()
	if err != nil {
		c.log.ErrorContext(ctx, "dingtalk stream: callback failed", "topic", df.GetTopic(), "err", err)
		resp = payload.NewErrorDataFrameResponse(err)
	}
	resp.SetHeader(payload.DataFrameHeaderKMessageId, df.GetMessageId())
	resp.SetHeader(payload.DataFrameHeaderKContentType, payload.DataFrameContentTypeKJson)
	return resp
}

// eventAnswer is the SDK DefaultEventFrameHandler's answer: 200 SUCCESS or
// 500 LATER.
func eventAnswer(df *payload.DataFrame, ok bool) *payload.DataFrameResponse {
	code, result := payload.DataFrameResponseStatusCodeKOK, event.NewEventProcessResultSuccess()
	if !ok {
		code, result = payload.DataFrameResponseStatusCodeKInternalError, event.NewEventProcessResultLater()
	}
	data, _ := json.Marshal(result)
	return &payload.DataFrameResponse{
		Code: code,
		Headers: payload.DataFrameHeader{
			payload.DataFrameHeaderKContentType: payload.DataFrameContentTypeKJson,
			payload.DataFrameHeaderKMessageId:   df.GetMessageId(),
		},
		Message: "ok",
		Data:    string(data),
	}
}

// ParseStreamEvent reads an EVENT frame: type, id and corpId from the
// headers, the rest from data (decoded like an HTTP push's payload:
// field names without regard to case, ids as strings or numbers); the
// time is data's timeStamp, else the eventBornTime header.
func ParseStreamEvent(df *payload.DataFrame) (Event, error) {
	h := event.NewEventHeaderFromDataFrame(df)
	fields := map[string]json.RawMessage{}
	if strings.TrimSpace(df.Data) != "" {
		if err := json.Unmarshal([]byte(df.Data), &fields); err != nil {
			return Event{}, fmt.Errorf("%w: stream event data: %v", ErrBadPayload, err)
		}
	}
	set := func(key, value string) {
		if value == "" {
			return
		}
		for k := range fields {
			if strings.EqualFold(k, key) {
				delete(fields, k)
			}
		}
		b, _ := json.Marshal(value)
		fields[key] = b
	}
	set("EventType", h.EventType)
	set("eventId", h.EventId)
	set("CorpId", h.EventCorpId)
	if !hasFold(fields, "timeStamp") && h.EventBornTime > 0 {
		set("timeStamp", strconv.FormatInt(h.EventBornTime, 10))
	}
	merged, err := json.Marshal(fields)
	if err != nil {
		return Event{}, err
	}
	return ParseEvent(merged)
}

func hasFold(m map[string]json.RawMessage, key string) bool {
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}
