package orgsync_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/orgsync"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startStream connects the fixture's service to its fake over Stream
// mode, with short backoffs.
func (f *fixture) startStream(secret string, logs *syncBuffer) *dingtalk.StreamClient {
	f.t.Helper()
	o := dingtalk.StreamOptions{ClientID: f.fake.AppKey(), ClientSecret: secret, BaseURL: f.fake.URL(),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	c, err := f.svc.StartStream(o)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// settleStream waits until the fake's Stream events are acknowledged and
// the CRM has applied them.
func (f *fixture) settleStream() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	if err := f.fake.WaitStream(ctx); err != nil {
		f.t.Fatalf("stream events not acknowledged: %v", err)
	}
	if err := f.svc.WaitIdle(ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) waitConnected(c *dingtalk.StreamClient, connects int) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for st := c.Stats(); !st.Connected || st.Connects < connects || f.fake.StreamConnections() != 1; st = c.Stats() {
		if time.Now().After(deadline) {
			f.t.Fatalf("stream not connected: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) active(userid string) string {
	f.t.Helper()
	var active []bool
	if err := f.db.Select(&active, "SELECT active FROM users WHERE userid = ?", userid); err != nil {
		f.t.Fatal(err)
	}
	switch {
	case len(active) == 0:
		return "absent"
	case active[0]:
		return "active"
	}
	return "inactive"
}

// lastStreamEvent is the fake's latest Stream event.
func (f *fixture) lastStreamEvent() dingtalktest.PushedEvent {
	evs := f.fake.Events()
	ev := evs[len(evs)-1]
	if !ev.Stream {
		f.t.Fatalf("the last event went over HTTP: %+v", ev)
	}
	return ev
}

// TestStreamEvents: with the Stream transport, a person added in DingTalk
// appears in the CRM, a leaver is deactivated, an event delivered twice is
// stored and applied once, an event is acknowledged only once stored (a
// failed insert makes the platform deliver it again), and after the
// connection is cut the client reconnects and the next event arrives.
func TestStreamEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, testOrg())
		f.sync()
		f.fake.SetStream(&dingtalktest.Stream{AckTimeout: 3 * time.Second, RetryDelay: 50 * time.Millisecond})
		c := f.startStream(f.fake.AppSecret(), nil)
		f.waitConnected(c, 1)

		// A new person: stored before the fake saw the acknowledgment.
		if err := f.fake.AddUser(dingtalktest.User{UserID: "stream1", Name: "流式新人", Title: "销售代表",
			Mobile: "13900002222", DeptIDs: []int64{2}}); err != nil {
			t.Fatal(err)
		}
		added := f.lastStreamEvent()
		if !added.Delivered {
			t.Fatalf("add not acknowledged: %s", added.Err)
		}
		if n := f.count("SELECT COUNT(*) FROM org_events WHERE event_id = ?", added.EventID); n != 1 {
			t.Fatalf("acknowledged but %d rows stored", n)
		}
		f.settleStream()
		if got := f.active("stream1"); got != "active" {
			t.Fatalf("stream1 is %s after user_add_org", got)
		}
		id := f.userID("stream1")
		audits := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'user' AND entity_id = ?", id)

		// The same event again (a lost acknowledgment): acknowledged, not
		// stored or applied again.
		if err := f.fake.ResendStream(added.EventID); err != nil {
			t.Fatal(err)
		}
		f.settleStream()
		if ev := f.lastStreamEvent(); !ev.Delivered || ev.EventID != added.EventID {
			t.Fatalf("duplicate not acknowledged: %+v", ev)
		}
		if n := f.count("SELECT COUNT(*) FROM org_events WHERE event_id = ? AND status = ? AND attempts = 1",
			added.EventID, orgsync.EventDone); n != 1 {
			t.Errorf("duplicate: %d done rows with one attempt, want 1", n)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'user' AND entity_id = ?", id); n != audits {
			t.Errorf("duplicate applied again: %d audit entries, had %d", n, audits)
		}

		// The event cannot be stored: answered LATER, delivered again, and
		// taken once the table is back.
		if _, err := db.Exec("ALTER TABLE org_events RENAME TO org_events_away"); err != nil {
			t.Fatal(err)
		}
		f.fake.SetStream(&dingtalktest.Stream{AckTimeout: 300 * time.Millisecond, RetryDelay: 50 * time.Millisecond})
		if err := f.fake.UpdateUser(dingtalktest.User{UserID: "stream1", Name: "流式新人", Title: "高级销售",
			Mobile: "13900002222"}); err != nil {
			t.Fatal(err)
		}
		if ev := f.lastStreamEvent(); ev.Delivered || !strings.Contains(ev.Err, "code 500") {
			t.Errorf("acknowledged without being stored: %+v", ev)
		}
		if _, err := db.Exec("ALTER TABLE org_events_away RENAME TO org_events"); err != nil {
			t.Fatal(err)
		}
		f.fake.SetStream(&dingtalktest.Stream{AckTimeout: 3 * time.Second, RetryDelay: 50 * time.Millisecond})
		f.settleStream()
		var title string
		if err := db.Get(&title, "SELECT title FROM users WHERE userid = 'stream1'"); err != nil || title != "高级销售" {
			t.Errorf("title %q (%v) after the redelivered user_modify_org", title, err)
		}

		// A leaver.
		if err := f.fake.RemoveUser("stream1"); err != nil {
			t.Fatal(err)
		}
		f.settleStream()
		if got := f.active("stream1"); got != "inactive" {
			t.Errorf("stream1 is %s after user_leave_org", got)
		}

		// The connection is cut; the event pushed meanwhile waits in the
		// fake and arrives over the new connection.
		if n := f.fake.DropStream(); n != 1 {
			t.Fatalf("dropped %d connections", n)
		}
		if err := f.fake.AddUser(dingtalktest.User{UserID: "stream2", Name: "重连后", DeptIDs: []int64{3}}); err != nil {
			t.Fatal(err)
		}
		f.settleStream()
		f.waitConnected(c, 2)
		if got := f.active("stream2"); got != "active" {
			t.Errorf("stream2 is %s after the reconnect", got)
		}
		if n := f.count("SELECT COUNT(*) FROM org_events WHERE status <> ?", orgsync.EventDone); n != 0 {
			t.Errorf("%d events not applied", n)
		}
	})
}

// TestStreamWrongSecret: the gateway refuses the connection; the error is
// logged, attempts are spaced by the backoff (no busy loop), nothing
// panics, and closing the service ends the retries at once.
func TestStreamWrongSecret(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db, testOrg())
	logs := &syncBuffer{}
	c := f.startStream("wrong-secret", logs)
	time.Sleep(600 * time.Millisecond)
	opens := f.fake.Calls(dingtalk.APIStreamOpen)
	if opens < 1 || opens > 8 {
		t.Errorf("%d connection attempts in 0.6 s", opens)
	}
	if st := c.Stats(); st.Connected || st.Connects != 0 || f.fake.StreamConnections() != 0 {
		t.Errorf("connected with a wrong secret: %+v", st)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "authFailed") {
		t.Errorf("refusal not logged as an error:\n%s", out)
	}
	start := time.Now()
	f.svc.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	after := f.fake.Calls(dingtalk.APIStreamOpen)
	time.Sleep(300 * time.Millisecond)
	if n := f.fake.Calls(dingtalk.APIStreamOpen); n != after {
		t.Errorf("still connecting after Close: %d more attempts", n-after)
	}
}
