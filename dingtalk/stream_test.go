package dingtalk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// streamEnv runs a StreamClient against a fake until the test ends.
type streamEnv struct {
	fake   *dingtalktest.Server
	client *dingtalk.StreamClient
	logs   *lockedBuffer
	stop   func() // cancels Run and waits for it
	mu     sync.Mutex
	got    []dingtalk.Event
	fail   int // Handle fails this many more times
}

func newStreamEnv(t *testing.T, secret string) *streamEnv {
	t.Helper()
	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	t.Cleanup(fake.Close)
	fake.SetStream(&dingtalktest.Stream{AckTimeout: 3 * time.Second, RetryDelay: 20 * time.Millisecond})
	if secret == "" {
		secret = fake.AppSecret()
	}
	e := &streamEnv{fake: fake, logs: &lockedBuffer{}}
	c, err := dingtalk.NewStreamClient(dingtalk.StreamOptions{ClientID: fake.AppKey(), ClientSecret: secret,
		BaseURL: fake.URL(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		Handle: func(_ context.Context, ev dingtalk.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.fail > 0 {
				e.fail--
				return errors.New("database down")
			}
			e.got = append(e.got, ev)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	e.stop = func() {
		cancel()
		select {
		case <-ended:
		case <-time.After(3 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	}
	t.Cleanup(e.stop)
	return e
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *streamEnv) events() []dingtalk.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dingtalk.Event(nil), e.got...)
}

func (e *streamEnv) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fake.WaitStream(ctx); err != nil {
		t.Fatalf("events not acknowledged: %v", err)
	}
}

// TestStreamClient: events arrive with their type, id, corp and ids; a
// ping is answered; a failed Handle answers LATER and the event comes
// again; a SYSTEM disconnect and a cut connection are both followed by a
// new connection that receives the next event; Run ends with its context.
func TestStreamClient(t *testing.T) {
	e := newStreamEnv(t, "")
	waitFor(t, "connection", func() bool { return e.fake.StreamConnections() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fake.PingStream(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	if err := e.fake.AddUser(dingtalktest.User{UserID: "sc1", Name: "流一", DeptIDs: []int64{2}}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	got := e.events()
	if len(got) == 0 || got[0].Type != dingtalk.EventUserAdd || got[0].UserIDs[0] != "sc1" || got[0].CorpID != e.fake.CorpID() ||
		got[0].EventID != e.fake.Events()[0].EventID || got[0].TimeStamp == 0 {
		t.Fatalf("first event %+v", got)
	}

	// Handle fails once: LATER, delivered again, taken the second time.
	e.mu.Lock()
	e.fail = 1
	e.mu.Unlock()
	before := len(e.events())
	if err := e.fake.UpdateUser(dingtalktest.User{UserID: "sc1", Name: "流一改"}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if got := e.events(); len(got) != before+1 || got[before].Type != dingtalk.EventUserModify {
		t.Fatalf("after a failed Handle: %+v", got[before:])
	}
	if !strings.Contains(e.logs.String(), "database down") {
		t.Error("the failed Handle was not logged")
	}

	// The gateway asks to reconnect.
	if n := e.fake.DisconnectStream(2 * time.Second); n != 1 {
		t.Fatalf("disconnect told %d", n)
	}
	waitFor(t, "reconnect after disconnect", func() bool {
		return e.client.Stats().Connects == 2 && e.fake.StreamConnections() == 1
	})
	if err := e.fake.MoveUser("sc1", 3); err != nil {
		t.Fatal(err)
	}
	e.settle(t)

	// The connection is cut.
	if n := e.fake.DropStream(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if err := e.fake.RemoveUser("sc1"); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	got = e.events()
	if last := got[len(got)-1]; last.Type != dingtalk.EventUserLeave || last.UserIDs[0] != "sc1" {
		t.Fatalf("after the cut: %+v", last)
	}
	if st := e.client.Stats(); st.Connects != 3 || !st.Connected {
		t.Errorf("stats %+v", st)
	}

	e.stop()
	waitFor(t, "the fake to see the client go", func() bool { return e.fake.StreamConnections() == 0 })
	if e.client.Stats().Connected {
		t.Error("still connected after Run returned")
	}
}

// TestStreamClientWrongSecret: the gateway refuses; the refusal is logged
// as an error, retried only after MaxBackoff (no busy loop), and Run still
// ends with its context.
func TestStreamClientWrongSecret(t *testing.T) {
	e := newStreamEnv(t, "not-the-secret")
	time.Sleep(700 * time.Millisecond)
	opens := e.fake.Calls(dingtalk.APIStreamOpen)
	// MaxBackoff 200 ms, each wait between 100 and 200 ms: at most ~8.
	if opens < 1 || opens > 9 {
		t.Errorf("%d connection attempts in 0.7 s", opens)
	}
	if e.fake.StreamConnections() != 0 {
		t.Error("connected with a wrong secret")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "connection refused") || !strings.Contains(logs, "authFailed") {
		t.Errorf("logs: %s", logs)
	}
	if strings.Contains(logs, "not-the-secret") {
		t.Error("the secret was logged")
	}
	st := e.client.Stats()
	if st.Connected || st.Failures != opens || !strings.Contains(st.LastError, "401") {
		t.Errorf("stats %+v", st)
	}
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopping took %v", d)
	}
}

// TestStreamClientBackoff: a gateway that fails (503) is retried with
// growing waits, then the client connects.
func TestStreamClientBackoff(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	defer fake.Close()
	fake.FailNext(dingtalk.APIStreamOpen, 503, 3)
	c, err := dingtalk.NewStreamClient(dingtalk.StreamOptions{ClientID: fake.AppKey(), ClientSecret: fake.AppSecret(),
		BaseURL: fake.URL(), MinBackoff: 40 * time.Millisecond, MaxBackoff: time.Second,
		Handle: func(context.Context, dingtalk.Event) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go c.Run(ctx)
	waitFor(t, "connection", func() bool { return c.Stats().Connected })
	// Waits of 20–40, 40–80 and 80–160 ms.
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("connected after %v: no backoff", d)
	}
	if st := c.Stats(); st.Failures != 3 || fake.Calls(dingtalk.APIStreamOpen) != 4 {
		t.Errorf("stats %+v, opens %d", st, fake.Calls(dingtalk.APIStreamOpen))
	}
}

// TestStreamClientDeadPeer: a gateway that accepts the WebSocket but never
// answers (a half-open connection) is detected by the keep-alive pings
// and the client connects again; a live one (the fake answers pings)
// keeps its connection.
func TestStreamClientDeadPeer(t *testing.T) {
	var mu sync.Mutex
	var held []*websocket.Conn
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("POST /"+dingtalk.APIStreamOpen, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"endpoint": "ws://" + r.Host + "/connect", "ticket": "t"})
	})
	mux.HandleFunc("GET /connect", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		held = append(held, ws) // never read: pings go unanswered
		mu.Unlock()
	})
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, ws := range held {
			ws.Close()
		}
	}()
	opts := dingtalk.StreamOptions{ClientID: "k", ClientSecret: "s", BaseURL: srv.URL,
		MinBackoff: 10 * time.Millisecond, KeepAlive: 30 * time.Millisecond, PongWait: 30 * time.Millisecond,
		Handle: func(context.Context, dingtalk.Event) error { return nil }}
	dead, err := dingtalk.NewStreamClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go dead.Run(ctx)
	waitFor(t, "a reconnect after the silent connection", func() bool { return dead.Stats().Connects >= 2 })

	fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
	defer fake.Close()
	opts.ClientID, opts.ClientSecret, opts.BaseURL = fake.AppKey(), fake.AppSecret(), fake.URL()
	live, err := dingtalk.NewStreamClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	go live.Run(ctx)
	waitFor(t, "connection", func() bool { return live.Stats().Connected })
	time.Sleep(300 * time.Millisecond)
	if st := live.Stats(); st.Connects != 1 || !st.Connected {
		t.Errorf("a live connection was dropped: %+v", st)
	}
}
