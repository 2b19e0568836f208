package dingtalktest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"

	"github.com/dingcrm/crm/dingtalk"
)

// Stream mode of the fake (dingtalk-api.md §7, the wire format of
// dingtalk-stream-sdk-go v0.9.1; see dingtalk/stream.go):
//
//   - POST /v1.0/gateway/connections/open checks clientId and clientSecret
//     (401 {"code":"authFailed"} otherwise) and the subscriptions, and
//     answers {endpoint: "ws://<this listener>/connect", ticket} with a
//     one-time ticket. A successful open switches the fake to Stream mode
//     with default settings unless SetStream chose some (as saving "Stream"
//     in the console does, which needs a connected client).
//   - GET /connect?ticket=… upgrades to a WebSocket (gorilla/websocket, as
//     the SDK).
//   - In Stream mode every organization change is queued and sent as an
//     EVENT frame to a connected client subscribed to its type or to "*"
//     (the frame's topic is the subscription that matched), one frame at a
//     time per connection; the event is done once answered with code 200
//     and a status other than LATER. An event not acknowledged (LATER,
//     another code, no answer within AckTimeout, the connection lost) stays
//     queued and is sent again: after RetryDelay on the same connection, or
//     on the next connection. Events queued while no client is connected
//     wait for one. The HTTP callback gets them only with AlsoCallback.
//   - DropStream cuts connections, DisconnectStream sends SYSTEM disconnect,
//     PingStream sends SYSTEM ping, ResendStream delivers an event again.

// Stream configures the fake's Stream mode. Zero values take the defaults
// noted.
type Stream struct {
	// AlsoCallback pushes every event to the HTTP callback as well (with
	// the same eventId), as when a second subscription exists.
	AlsoCallback bool
	// AckTimeout is how long a frame waits for its answer, and how long an
	// edit waits for its event to be acknowledged when a client is
	// connected; default 5 s.
	AckTimeout time.Duration
	// RetryDelay is the wait before a refused event is sent again on the
	// same connection; default 200 ms.
	RetryDelay time.Duration
	// TicketTTL is how long an unused ticket is valid; default 90 s.
	TicketTTL time.Duration
}

// streamFake is the Stream-mode state; its zero value is Stream mode off.
type streamFake struct {
	mu      sync.Mutex
	cfg     *Stream
	tickets map[string]streamTicket
	conns   []*streamConn
	queue   []*streamEvent
	changed chan struct{} // closed and replaced on every change
	closed  bool
	done    chan struct{} // closed by closeStream
	wg      sync.WaitGroup
}

type streamTicket struct {
	subs    map[string]bool // "TYPE topic"
	expires time.Time
}

type streamConn struct {
	id     string
	ws     *websocket.Conn
	subs   map[string]bool
	wmu    sync.Mutex // one writer at a time
	mu     sync.Mutex
	wait   map[string]chan payload.DataFrameResponse // messageId → answer
	closed chan struct{}
	once   sync.Once
}

type streamEvent struct {
	idx       int // in Server.events
	typ, id   string
	corp, app string
	born      time.Time
	data      string
	inflight  bool
	notBefore time.Time
	sent      int
	done      chan struct{} // closed when acknowledged
}

func defaultStream(cfg Stream) *Stream {
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 5 * time.Second
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 200 * time.Millisecond
	}
	if cfg.TicketTTL <= 0 {
		cfg.TicketTTL = 90 * time.Second
	}
	return &cfg
}

// SetStream switches Stream mode on with cfg, or off with nil (events go
// to the HTTP callback again; what is queued stays for connected clients).
func (s *Server) SetStream(cfg *Stream) {
	st := &s.stream
	st.mu.Lock()
	defer st.mu.Unlock()
	if cfg == nil {
		st.cfg = nil
	} else {
		st.cfg = defaultStream(*cfg)
	}
	st.signalLocked()
}

// StreamConnections is how many Stream clients are connected now.
func (s *Server) StreamConnections() int {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return len(s.stream.conns)
}

// StreamPending is how many Stream events wait for an acknowledgment.
func (s *Server) StreamPending() int {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return len(s.stream.queue)
}

// WaitStream waits until every Stream event is acknowledged.
func (s *Server) WaitStream(ctx context.Context) error {
	for {
		st := &s.stream
		st.mu.Lock()
		n, ch := len(st.queue), st.changedLocked()
		st.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (st *streamFake) changedLocked() chan struct{} {
	if st.changed == nil {
		st.changed = make(chan struct{})
	}
	return st.changed
}

func (st *streamFake) signalLocked() {
	if st.changed != nil {
		close(st.changed)
	}
	st.changed = make(chan struct{})
}

func (st *streamFake) doneLocked() chan struct{} {
	if st.done == nil {
		st.done = make(chan struct{})
	}
	return st.done
}

// pushStream queues e for Stream clients when Stream mode is on (waiting
// up to AckTimeout for the acknowledgment when a client is connected) and
// reports whether the HTTP callback gets it too.
func (s *Server) pushStream(e orgEvent, pe PushedEvent) (alsoCallback bool) {
	st := &s.stream
	st.mu.Lock()
	cfg := st.cfg
	st.mu.Unlock()
	if cfg == nil {
		return true
	}
	ev := &streamEvent{typ: e.Type, id: pe.EventID, corp: s.opts.CorpID, app: s.unifiedAppID(), born: pe.At,
		data: streamData(e, pe.At)}
	s.queueStream(ev, pe, cfg.AckTimeout)
	return cfg.AlsoCallback
}

// queueStream records and queues an event, then waits for its
// acknowledgment while a subscribed client is connected.
func (s *Server) queueStream(ev *streamEvent, pe PushedEvent, wait time.Duration) {
	pe.Stream, pe.Payload, pe.Err = true, []byte(ev.data), "not acknowledged yet"
	s.mu.Lock()
	ev.idx = len(s.events)
	s.events = append(s.events, pe)
	s.mu.Unlock()
	ev.done = make(chan struct{})
	st := &s.stream
	st.mu.Lock()
	st.queue = append(st.queue, ev)
	subscribed := false
	for _, c := range st.conns {
		subscribed = subscribed || c.topicFor(ev.typ) != ""
	}
	st.signalLocked()
	done := st.doneLocked()
	st.mu.Unlock()
	if !subscribed {
		s.setEventErr(ev.idx, "no Stream client connected")
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ev.done:
	case <-t.C:
	case <-done:
	}
}

func (s *Server) setEventErr(idx int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.events[idx].Delivered {
		s.events[idx].Err = msg
	}
}

// streamData is an event's data: {timeStamp, userId} or {timeStamp,
// deptId} (doc §7 "Stream envelope").
func streamData(e orgEvent, at time.Time) string {
	m := map[string]any{"timeStamp": strconv.FormatInt(at.UnixMilli(), 10)}
	if e.UserIDs != nil {
		m["userId"] = e.UserIDs
	}
	if e.DeptIDs != nil {
		m["deptId"] = e.DeptIDs
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (s *Server) unifiedAppID() string { return "unified-" + s.opts.AppKey }

// ResendStream delivers a Stream event again with the same eventId (a
// new messageId), as the platform does when an acknowledgment was lost,
// and waits for its acknowledgment like an edit does.
func (s *Server) ResendStream(eventID string) error {
	s.mu.Lock()
	var pe *PushedEvent
	for i := range s.events {
		if s.events[i].Stream && s.events[i].EventID == eventID {
			c := s.events[i]
			pe = &c
		}
	}
	s.mu.Unlock()
	if pe == nil {
		return errors.New("dingtalktest: no Stream event " + eventID)
	}
	st := &s.stream
	st.mu.Lock()
	cfg := st.cfg
	st.mu.Unlock()
	wait := 5 * time.Second
	if cfg != nil {
		wait = cfg.AckTimeout
	}
	ev := &streamEvent{typ: pe.Type, id: pe.EventID, corp: s.opts.CorpID, app: s.unifiedAppID(), born: pe.At,
		data: string(pe.Payload)}
	again := *pe
	again.Delivered, again.At = false, s.Now()
	s.queueStream(ev, again, wait)
	return nil
}

// streamRoutes registers the gateway and the WebSocket endpoint.
func (s *Server) streamRoutes() {
	s.mux.HandleFunc("POST /"+dingtalk.APIStreamOpen, s.streamOpen)
	s.mux.HandleFunc("GET /connect", s.streamConnect)
}

// streamOpen is POST /v1.0/gateway/connections/open. Faults and QPS limits
// apply; it does not count toward the monthly quota.
func (s *Server) streamOpen(w http.ResponseWriter, r *http.Request) {
	api := dingtalk.APIStreamOpen
	reqID := newID(13)
	body, ok := s.admit(w, r, api, newStyle, reqID, 1<<20)
	if !ok {
		return
	}
	var req payload.ConnectionEndpointRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeErr(w, newStyle, reqID, errNew(http.StatusBadRequest, "InvalidParameter", "请求体不是合法的JSON"))
		return
	}
	if req.ClientId != s.opts.AppKey || req.ClientSecret != s.opts.AppSecret {
		s.log.Warn("dingtalktest: stream open refused: wrong clientId or clientSecret")
		s.writeErr(w, newStyle, reqID, errNew(http.StatusUnauthorized, "authFailed", "鉴权失败"))
		return
	}
	subs := map[string]bool{}
	for _, sub := range req.Subscriptions {
		if sub == nil || !utils.SubscriptionTypeSet[sub.Type] || sub.Topic == "" {
			s.writeErr(w, newStyle, reqID, errNew(http.StatusBadRequest, "InvalidParameter", "subscriptions 不合法"))
			return
		}
		subs[sub.Type+" "+sub.Topic] = true
	}
	if len(subs) == 0 {
		s.writeErr(w, newStyle, reqID, errNew(http.StatusBadRequest, "InvalidParameter", "subscriptions 不能为空"))
		return
	}
	ticket := newID(32)
	st := &s.stream
	st.mu.Lock()
	if st.tickets == nil {
		st.tickets = map[string]streamTicket{}
	}
	if st.cfg == nil {
		st.cfg = defaultStream(Stream{})
	}
	st.tickets[ticket] = streamTicket{subs: subs, expires: s.Now().Add(st.cfg.TicketTTL)}
	st.mu.Unlock()
	writeJSON(w, http.StatusOK, payload.ConnectionEndpointResponse{Endpoint: "ws://" + r.Host + "/connect", Ticket: ticket})
}

var streamUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// streamConnect is GET /connect?ticket=…: the WebSocket.
func (s *Server) streamConnect(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	st := &s.stream
	st.mu.Lock()
	t, ok := st.tickets[ticket]
	delete(st.tickets, ticket)
	closed := st.closed
	st.mu.Unlock()
	if closed || !ok || s.Now().After(t.expires) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": "invalidTicket", "message": "ticket 无效或已使用"})
		return
	}
	ws, err := streamUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &streamConn{id: newID(16), ws: ws, subs: t.subs, wait: map[string]chan payload.DataFrameResponse{},
		closed: make(chan struct{})}
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		ws.Close()
		return
	}
	st.conns = append(st.conns, c)
	st.signalLocked()
	st.wg.Add(2)
	st.mu.Unlock()
	go func() {
		defer st.wg.Done()
		s.streamRead(c)
	}()
	go func() {
		defer st.wg.Done()
		s.streamDeliver(c)
	}()
}

// topicFor is the topic under which c receives events of typ ("" none).
func (c *streamConn) topicFor(typ string) string {
	switch {
	case c.subs[utils.SubscriptionTypeKEvent+" "+typ]:
		return typ
	case c.subs[utils.SubscriptionTypeKEvent+" *"]:
		return "*"
	}
	return ""
}

func (c *streamConn) close() {
	c.once.Do(func() {
		close(c.closed)
		_ = c.ws.Close()
	})
}

func (c *streamConn) write(df *payload.DataFrame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(df)
}

// expect registers interest in the answer to messageID.
func (c *streamConn) expect(messageID string) chan payload.DataFrameResponse {
	ch := make(chan payload.DataFrameResponse, 1)
	c.mu.Lock()
	c.wait[messageID] = ch
	c.mu.Unlock()
	return ch
}

func (c *streamConn) forget(messageID string) {
	c.mu.Lock()
	delete(c.wait, messageID)
	c.mu.Unlock()
}

// streamRead routes the client's answers until the connection ends.
func (s *Server) streamRead(c *streamConn) {
	defer s.dropConn(c)
	for {
		mt, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if mt != websocket.TextMessage {
			continue
		}
		resp, err := payload.DecodeDataFrameResponse(msg)
		if err != nil {
			s.log.Warn("dingtalktest: undecodable stream answer", "err", err)
			continue
		}
		id := resp.GetHeader(payload.DataFrameHeaderKMessageId)
		c.mu.Lock()
		ch := c.wait[id]
		delete(c.wait, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- *resp
		}
	}
}

func (s *Server) dropConn(c *streamConn) {
	c.close()
	st := &s.stream
	st.mu.Lock()
	for i, x := range st.conns {
		if x == c {
			st.conns = append(st.conns[:i], st.conns[i+1:]...)
			break
		}
	}
	st.signalLocked()
	st.mu.Unlock()
}

// next takes the oldest queued event c may receive now, or says what to
// wait for.
func (st *streamFake) next(c *streamConn, now time.Time) (*streamEvent, string, chan struct{}, time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var soonest time.Duration
	for _, ev := range st.queue {
		topic := c.topicFor(ev.typ)
		if ev.inflight || topic == "" {
			continue
		}
		if d := ev.notBefore.Sub(now); d > 0 {
			if soonest == 0 || d < soonest {
				soonest = d
			}
			continue
		}
		ev.inflight = true
		ev.sent++
		return ev, topic, nil, 0
	}
	return nil, "", st.changedLocked(), soonest
}

// streamDeliver sends queued events to c one at a time until c closes.
func (s *Server) streamDeliver(c *streamConn) {
	st := &s.stream
	for {
		ev, topic, changed, soonest := st.next(c, time.Now())
		if ev == nil {
			var (
				tick  <-chan time.Time
				timer *time.Timer
			)
			if soonest > 0 {
				timer = time.NewTimer(soonest)
				tick = timer.C
			}
			select {
			case <-changed:
			case <-tick:
			case <-c.closed:
			}
			if timer != nil {
				timer.Stop()
			}
			select {
			case <-c.closed:
				return
			default:
			}
			continue
		}
		st.mu.Lock()
		cfg := st.cfg
		if cfg == nil {
			cfg = defaultStream(Stream{})
		}
		st.mu.Unlock()
		now := time.Now()
		msgID := newID(32)
		df := &payload.DataFrame{SpecVersion: "1.0", Type: utils.SubscriptionTypeKEvent, Time: now.UnixMilli(),
			Headers: payload.DataFrameHeader{
				payload.DataFrameHeaderKTopic:           topic,
				payload.DataFrameHeaderKMessageId:       msgID,
				payload.DataFrameHeaderKContentType:     payload.DataFrameContentTypeKJson,
				payload.DataFrameHeaderKTime:            strconv.FormatInt(now.UnixMilli(), 10),
				"connectionId":                          c.id,
				event.DataFrameHeaderKEventId:           ev.id,
				event.DataFrameHeaderKEventType:         ev.typ,
				event.DataFrameHeaderKEventBornTime:     strconv.FormatInt(ev.born.UnixMilli(), 10),
				event.DataFrameHeaderKEventCorpId:       ev.corp,
				event.DataFrameHeaderKEventUnifiedAppId: ev.app,
			},
			Data: ev.data}
		ch := c.expect(msgID)
		var (
			resp   *payload.DataFrameResponse
			reason string
		)
		if err := c.write(df); err != nil {
			reason = "write: " + err.Error()
		} else {
			t := time.NewTimer(cfg.AckTimeout)
			select {
			case r := <-ch:
				resp = &r
			case <-t.C:
				reason = "no answer within " + cfg.AckTimeout.String()
			case <-c.closed:
				reason = "connection lost before the answer"
			}
			t.Stop()
		}
		c.forget(msgID)
		if resp != nil {
			reason = refusal(resp)
		}
		s.settle(ev, reason, cfg.RetryDelay)
	}
}

// refusal says why an answer does not acknowledge an event ("" it does).
func refusal(r *payload.DataFrameResponse) string {
	if r.Code != payload.DataFrameResponseStatusCodeKOK {
		return "answered code " + strconv.Itoa(r.Code) + " " + r.Message
	}
	var res event.EventProcessResult
	if r.Data != "" && json.Unmarshal([]byte(r.Data), &res) == nil && res.Status == event.EventProcessStatusKLater {
		return "answered LATER"
	}
	return ""
}

// settle records a delivery's outcome: acknowledged (out of the queue) or
// queued again.
func (s *Server) settle(ev *streamEvent, reason string, retry time.Duration) {
	// The record first: WaitStream returns once the queue is empty.
	s.mu.Lock()
	if reason == "" {
		s.events[ev.idx].Delivered, s.events[ev.idx].Err = true, ""
	} else {
		s.events[ev.idx].Err = reason
	}
	s.mu.Unlock()
	st := &s.stream
	st.mu.Lock()
	ev.inflight = false
	if reason == "" {
		for i, x := range st.queue {
			if x == ev {
				st.queue = append(st.queue[:i], st.queue[i+1:]...)
				break
			}
		}
		close(ev.done)
	} else {
		ev.notBefore = time.Now().Add(retry)
	}
	st.signalLocked()
	st.mu.Unlock()
	if reason != "" {
		s.log.Info("dingtalktest: stream event not acknowledged; queued again", "type", ev.typ, "event_id", ev.id,
			"why", reason)
	}
}

// DropStream cuts every Stream connection at once, with no close frame (a
// network failure); events in flight are sent again on the next
// connection. It returns how many were cut.
func (s *Server) DropStream() int {
	st := &s.stream
	st.mu.Lock()
	conns := append([]*streamConn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return len(conns)
}

// DisconnectStream sends every connection a SYSTEM disconnect frame (the
// gateway going away); a client is expected to connect again. The fake
// closes the connection after grace if the client has not. It returns
// how many were told.
func (s *Server) DisconnectStream(grace time.Duration) int {
	st := &s.stream
	st.mu.Lock()
	conns := append([]*streamConn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		_ = c.write(systemFrame(dingtalk.StreamTopicDisconnect, ""))
		time.AfterFunc(grace, c.close)
	}
	return len(conns)
}

func systemFrame(topic, data string) *payload.DataFrame {
	now := time.Now()
	return &payload.DataFrame{SpecVersion: "1.0", Type: utils.SubscriptionTypeKSystem, Time: now.UnixMilli(),
		Headers: payload.DataFrameHeader{
			payload.DataFrameHeaderKTopic:       topic,
			payload.DataFrameHeaderKMessageId:   newID(32),
			payload.DataFrameHeaderKContentType: payload.DataFrameContentTypeKJson,
			payload.DataFrameHeaderKTime:        strconv.FormatInt(now.UnixMilli(), 10),
		},
		Data: data}
}

// PingStream sends a SYSTEM ping to every connection and checks each
// answers code 200 echoing the ping's data within AckTimeout (5 s when
// Stream mode is off).
func (s *Server) PingStream(ctx context.Context) error {
	st := &s.stream
	st.mu.Lock()
	conns := append([]*streamConn(nil), st.conns...)
	wait := 5 * time.Second
	if st.cfg != nil {
		wait = st.cfg.AckTimeout
	}
	st.mu.Unlock()
	if len(conns) == 0 {
		return errors.New("dingtalktest: no Stream connection")
	}
	for _, c := range conns {
		opaque := `{"opaque":"` + newID(16) + `"}`
		df := systemFrame(dingtalk.StreamTopicPing, opaque)
		id := df.GetMessageId()
		ch := c.expect(id)
		if err := c.write(df); err != nil {
			c.forget(id)
			return err
		}
		t := time.NewTimer(wait)
		var err error
		select {
		case r := <-ch:
			if r.Code != payload.DataFrameResponseStatusCodeKOK || r.Data != opaque {
				err = errors.New("dingtalktest: bad pong: code " + strconv.Itoa(r.Code) + " data " + r.Data)
			}
		case <-t.C:
			err = errors.New("dingtalktest: no pong")
		case <-c.closed:
			err = errors.New("dingtalktest: connection lost")
		case <-ctx.Done():
			err = ctx.Err()
		}
		t.Stop()
		c.forget(id)
		if err != nil {
			return err
		}
	}
	return nil
}

// closeStream ends Stream mode's connections and goroutines (Close).
func (s *Server) closeStream() {
	st := &s.stream
	st.mu.Lock()
	if !st.closed {
		st.closed = true
		close(st.doneLocked())
	}
	conns := append([]*streamConn(nil), st.conns...)
	st.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	st.wg.Wait()
}

// BotMessage is a text a person writes to the app's robot.
type BotMessage struct {
	SenderUserID   string // the writer's userid (senderStaffId)
	Text           string
	Group          bool   // in a group (conversationType "2") rather than 1:1
	AtRobot        bool   // the group message @-mentions the robot (isInAtList)
	ConversationID string // default: a new conversation
}

// StreamBotMessage delivers m as DingTalk does in Stream mode: a CALLBACK
// frame on topic /v1.0/im/bot/messages/get whose data carries the robot
// message fields (msgId, text.content, conversationType, senderStaffId,
// sessionWebhook (fresh, valid 90 minutes), isInAtList, robotCode …) to the
// first connection subscribed to that topic, and waits up to AckTimeout
// for its answer. Replies to the sessionWebhook land in RobotMessages
// under the returned conversation id.
func (s *Server) StreamBotMessage(ctx context.Context, m BotMessage) (conversationID string, code int, err error) {
	st := &s.stream
	st.mu.Lock()
	var conn *streamConn
	for _, c := range st.conns {
		if c.subs[utils.SubscriptionTypeKCallback+" "+dingtalk.StreamTopicBotMessage] {
			conn = c
			break
		}
	}
	wait := 5 * time.Second
	if st.cfg != nil {
		wait = st.cfg.AckTimeout
	}
	st.mu.Unlock()
	if conn == nil {
		return "", 0, errors.New("dingtalktest: no Stream client subscribed to robot messages")
	}
	conv := m.ConversationID
	if conv == "" {
		conv = "cid" + newID(20)
	}
	ctype, nick := "1", m.SenderUserID
	if m.Group {
		ctype = "2"
	}
	s.mu.Lock()
	if u := s.org.users[m.SenderUserID]; u != nil {
		nick = u.Name
	}
	s.mu.Unlock()
	now := s.Now()
	data, _ := json.Marshal(map[string]any{
		"conversationId": conv, "conversationType": ctype, "conversationTitle": "",
		"msgId": "msg" + newID(20), "msgtype": "text", "text": map[string]string{"content": m.Text},
		"senderStaffId": m.SenderUserID, "senderId": "$:LWCP_v1:$" + newID(24), "senderNick": nick,
		"senderCorpId": s.opts.CorpID, "chatbotCorpId": s.opts.CorpID, "chatbotUserId": "$:LWCP_v1:$bot",
		"isAdmin": false, "isInAtList": m.AtRobot, "atUsers": []any{}, "robotCode": s.opts.RobotCode,
		"sessionWebhook": s.IssueSessionWebhook(conv), "sessionWebhookExpiredTime": now.Add(90 * time.Minute).UnixMilli(),
		"createAt": now.UnixMilli(),
	})
	msgID := newID(32)
	df := &payload.DataFrame{SpecVersion: "1.0", Type: utils.SubscriptionTypeKCallback, Time: now.UnixMilli(),
		Headers: payload.DataFrameHeader{
			payload.DataFrameHeaderKTopic:       dingtalk.StreamTopicBotMessage,
			payload.DataFrameHeaderKMessageId:   msgID,
			payload.DataFrameHeaderKContentType: payload.DataFrameContentTypeKJson,
			payload.DataFrameHeaderKTime:        strconv.FormatInt(now.UnixMilli(), 10),
			"connectionId":                      conn.id,
		},
		Data: string(data)}
	ch := conn.expect(msgID)
	defer conn.forget(msgID)
	if err := conn.write(df); err != nil {
		return conv, 0, err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-ch:
		return conv, r.Code, nil
	case <-t.C:
		return conv, 0, errors.New("dingtalktest: no answer to the robot message")
	case <-conn.closed:
		return conv, 0, errors.New("dingtalktest: connection lost")
	case <-ctx.Done():
		return conv, 0, ctx.Err()
	}
}
