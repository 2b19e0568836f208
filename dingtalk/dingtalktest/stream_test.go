package dingtalktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	sdk "github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// openStream asks the fake's gateway for an endpoint and ticket.
func openStream(t *testing.T, srv *dingtalktest.Server, secret string, subs ...*payload.SubscriptionModel) (int, map[string]any) {
	t.Helper()
	if subs == nil {
		subs = []*payload.SubscriptionModel{{Type: "EVENT", Topic: "*"}, {Type: "SYSTEM", Topic: "ping"}}
	}
	body, _ := json.Marshal(payload.ConnectionEndpointRequest{ClientId: srv.AppKey(), ClientSecret: secret,
		Subscriptions: subs, UserAgent: "test"})
	resp, err := http.Post(srv.URL()+"/"+dingtalk.APIStreamOpen, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// dialStream opens and connects a raw WebSocket client.
func dialStream(t *testing.T, srv *dingtalktest.Server, subs ...*payload.SubscriptionModel) *websocket.Conn {
	t.Helper()
	code, m := openStream(t, srv, srv.AppSecret(), subs...)
	if code != 200 {
		t.Fatalf("open: %d %v", code, m)
	}
	conn, resp, err := websocket.DefaultDialer.Dial(m["endpoint"].(string)+"?ticket="+m["ticket"].(string), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	// The same ticket does not open a second connection.
	if _, resp, err := websocket.DefaultDialer.Dial(m["endpoint"].(string)+"?ticket="+m["ticket"].(string), nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("ticket reused: err %v", err)
	}
	return conn
}

func readFrame(t *testing.T, conn *websocket.Conn) *payload.DataFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	df, err := payload.DecodeDataFrame(msg)
	if err != nil {
		t.Fatal(err)
	}
	return df
}

func answer(t *testing.T, conn *websocket.Conn, df *payload.DataFrame, code int, status event.EventProcessStatusType) {
	t.Helper()
	data, _ := json.Marshal(event.EventProcessResult{Status: status})
	resp := &payload.DataFrameResponse{Code: code, Headers: payload.DataFrameHeader{
		payload.DataFrameHeaderKMessageId: df.GetMessageId(), payload.DataFrameHeaderKContentType: "application/json"},
		Message: "ok", Data: string(data)}
	if err := conn.WriteJSON(resp); err != nil {
		t.Fatal(err)
	}
}

func lastEvent(srv *dingtalktest.Server) dingtalktest.PushedEvent {
	evs := srv.Events()
	return evs[len(evs)-1]
}

// TestStreamWireFormat: the gateway checks credentials and subscriptions;
// an event arrives as an EVENT frame with the SDK's headers and the
// doc's data; while Stream mode is on the HTTP callback gets nothing; an
// event not acknowledged is sent again after LATER on the same connection
// and after a reconnect on the new one, with the same eventId.
func TestStreamWireFormat(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	srv := r.srv
	var posts atomic.Int32
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer cb.Close()
	srv.SetCallback(&dingtalktest.Callback{URL: cb.URL, Token: "t", AESKey: dingtalk.GenerateAESKey()})

	if code, m := openStream(t, srv, "wrong"); code != 401 || m["code"] != "authFailed" {
		t.Errorf("wrong secret: %d %v", code, m)
	}
	if code, _ := openStream(t, srv, srv.AppSecret(), &payload.SubscriptionModel{Type: "NOPE", Topic: "*"}); code != 400 {
		t.Errorf("bad subscription type: %d", code)
	}
	srv.SetStream(&dingtalktest.Stream{AckTimeout: 2 * time.Second, RetryDelay: 50 * time.Millisecond})
	conn := dialStream(t, srv)

	done := make(chan error, 1)
	go func() {
		done <- srv.AddUser(dingtalktest.User{UserID: "st1", Name: "流", DeptIDs: []int64{2}})
	}()
	df := readFrame(t, conn)
	ev := lastEvent(srv)
	want := map[string]string{"topic": "*", "eventType": "user_add_org", "eventId": ev.EventID,
		"eventCorpId": srv.CorpID(), "contentType": "application/json"}
	for k, v := range want {
		if df.GetHeader(k) != v {
			t.Errorf("header %s = %q, want %q", k, df.GetHeader(k), v)
		}
	}
	if df.Type != "EVENT" || df.GetMessageId() == "" || df.GetHeader("eventBornTime") == "" || df.GetHeader("eventUnifiedAppId") == "" {
		t.Errorf("frame %+v", df)
	}
	var data struct {
		TimeStamp string   `json:"timeStamp"`
		UserID    []string `json:"userId"`
	}
	if err := json.Unmarshal([]byte(df.Data), &data); err != nil || data.TimeStamp == "" || len(data.UserID) != 1 || data.UserID[0] != "st1" {
		t.Errorf("data %s", df.Data)
	}
	parsed, err := dingtalk.ParseStreamEvent(df)
	if err != nil || parsed.Type != "user_add_org" || parsed.EventID != ev.EventID || parsed.UserIDs[0] != "st1" || parsed.TimeStamp == 0 {
		t.Errorf("ParseStreamEvent = %+v, %v", parsed, err)
	}

	// LATER: sent again on the same connection, same eventId.
	answer(t, conn, df, 500, event.EventProcessStatusKLater)
	again := readFrame(t, conn)
	if again.GetHeader("eventId") != ev.EventID || again.GetMessageId() == df.GetMessageId() {
		t.Errorf("after LATER got %v", again.Headers)
	}
	// No answer, connection lost: sent again on the next connection.
	conn.Close()
	conn2 := dialStream(t, srv)
	third := readFrame(t, conn2)
	if third.GetHeader("eventId") != ev.EventID {
		t.Errorf("after reconnect got %v", third.Headers)
	}
	answer(t, conn2, third, 200, event.EventProcessStatusKSuccess)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.WaitStream(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := lastEvent(srv); !ev.Delivered || !ev.Stream {
		t.Errorf("event record %+v", ev)
	}
	if n := posts.Load(); n != 0 {
		t.Errorf("the HTTP callback got %d posts in Stream mode", n)
	}

	// A topic-specific subscription gets its topic; a SYSTEM-only one nothing.
	conn2.Close()
	conn3 := dialStream(t, srv, &payload.SubscriptionModel{Type: "EVENT", Topic: "user_leave_org"})
	go srv.RemoveUser("st1")
	leave := readFrame(t, conn3)
	if leave.GetTopic() != "user_leave_org" || leave.GetHeader("eventType") != "user_leave_org" {
		t.Errorf("leave frame %v", leave.Headers)
	}
	answer(t, conn3, leave, 200, event.EventProcessStatusKSuccess)
	if err := srv.WaitStream(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStreamWithOfficialSDK: the SDK's own StreamClient, pointed at the
// fake with WithOpenApiHost, connects, answers a ping, receives an event
// and acknowledges it; with a wrong secret Start fails with authFailed.
func TestStreamWithOfficialSDK(t *testing.T) {
	r := newRaw(t, dingtalktest.Options{})
	srv := r.srv
	bad := sdk.NewStreamClient(sdk.WithAppCredential(sdk.NewAppCredentialConfig(srv.AppKey(), "wrong")),
		sdk.WithOpenApiHost(srv.URL()), sdk.WithAutoReconnect(false))
	bad.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(event.EventHandlerDoNothing).OnEventReceived)
	if err := bad.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "authFailed") {
		t.Errorf("wrong secret: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connected := func() {
		t.Helper()
		for srv.StreamConnections() != 1 {
			if ctx.Err() != nil {
				t.Fatal("the SDK client did not connect")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// One client per frame: the SDK answers every frame from a goroutine
	// of its own with no lock, which the race detector rightly flags once
	// a connection sees two frames. Each client is ended by the fake, not
	// cli.Close: with AutoReconnect off the SDK's read loop then just stops.
	pinger := sdk.NewStreamClient(sdk.WithAppCredential(sdk.NewAppCredentialConfig(srv.AppKey(), srv.AppSecret())),
		sdk.WithOpenApiHost(srv.URL()), sdk.WithAutoReconnect(false))
	pinger.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(event.EventHandlerDoNothing).OnEventReceived)
	if err := pinger.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	connected()
	if err := srv.PingStream(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	srv.DropStream()
	for srv.StreamConnections() != 0 {
		time.Sleep(5 * time.Millisecond)
	}

	var mu sync.Mutex
	var got []*event.EventHeader
	var data []string
	cli := sdk.NewStreamClient(sdk.WithAppCredential(sdk.NewAppCredentialConfig(srv.AppKey(), srv.AppSecret())),
		sdk.WithOpenApiHost(srv.URL()), sdk.WithAutoReconnect(false))
	cli.RegisterAllEventRouter(event.NewDefaultEventFrameHandler(func(_ context.Context, h *event.EventHeader, raw []byte) (event.EventProcessStatusType, error) {
		mu.Lock()
		defer mu.Unlock()
		got, data = append(got, h), append(data, string(raw))
		return event.EventProcessStatusKSuccess, nil
	}).OnEventReceived)
	if err := cli.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.DropStream()
	connected()
	if err := srv.AddUser(dingtalktest.User{UserID: "sdk1", Name: "SDK", DeptIDs: []int64{2}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitStream(ctx); err != nil {
		t.Fatal(err)
	}
	ev := lastEvent(srv)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].EventType != "user_add_org" || got[0].EventId != ev.EventID || got[0].EventCorpId != srv.CorpID() ||
		got[0].EventBornTime == 0 || !strings.Contains(data[0], `"sdk1"`) {
		t.Errorf("SDK handler saw %+v %v", got, data)
	}
	if !ev.Delivered {
		t.Errorf("not acknowledged: %+v", ev)
	}
}
