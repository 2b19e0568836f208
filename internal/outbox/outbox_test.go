package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func addUsers(t testing.TB, db *store.DB, userids ...string) map[string]int64 {
	t.Helper()
	now := store.Now()
	out := map[string]int64{}
	for _, u := range userids {
		res, err := db.Exec(`INSERT INTO users (userid, name, lang, active, source, created_at, updated_at) VALUES (?, ?, '', 1, 'dingtalk', ?, ?)`,
			u, u, now, now)
		if err != nil {
			t.Fatal(err)
		}
		out[u], _ = res.LastInsertId()
	}
	return out
}

func enqueue(t testing.TB, db *store.DB, msgs ...outbox.Message) {
	t.Helper()
	if err := db.WithTx(context.Background(), func(tx *sqlx.Tx) error { return outbox.Enqueue(context.Background(), tx, msgs...) }); err != nil {
		t.Fatal(err)
	}
}

func countRows(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

var quiet = slog.New(slog.NewTextHandler(os_discard{}, nil))

// TestQuietHours: 22:00–08:00 in the company zone, ending in the morning.
func TestQuietHours(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	w := outbox.DefaultQuietHours(sh)
	for _, tc := range []struct {
		at    string
		quiet bool
		until string
	}{
		{"2026-11-27T21:59:00+08:00", false, ""},
		{"2026-11-27T22:00:00+08:00", true, "2026-11-28T08:00:00+08:00"},
		{"2026-11-28T03:00:00+08:00", true, "2026-11-28T08:00:00+08:00"},
		{"2026-11-28T08:00:00+08:00", false, ""},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		q, until := w.Quiet(at)
		if q != tc.quiet || q && until.Format(time.RFC3339) != tc.until {
			t.Errorf("%s: quiet %v until %s, want %v until %s", tc.at, q, until.In(sh).Format(time.RFC3339), tc.quiet, tc.until)
		}
	}
	if q, _ := outbox.Never.Quiet(time.Now()); q {
		t.Error("Never is quiet")
	}
}

// TestDispatch covers one instance on both engines: a person's messages due
// in the same minute go out as one card (the current minute waits for its
// end), a digest goes alone, a second Enqueue with a key is a no-op, quiet
// hours hold everything, a batch that keeps failing is given up after
// MaxAttempts with an admin alert, and with the quota low only digests go to
// DingTalk (the rest stay in the inbox) and admins are told once.
func TestDispatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
		defer fake.Close()
		opts := fake.ClientOptions()
		opts.Retry = dingtalk.RetryPolicy{MaxAttempts: 1}
		client, err := dingtalk.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ids := addUsers(t, db, "sim_s1", "sim_s2")
		base := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
		now := base
		var usage dingtalk.Usage
		d := outbox.NewDispatcher(outbox.Options{DB: db, DingTalk: client, Location: time.FixedZone("CST", 8*3600),
			Now: func() time.Time { return now }, Log: quiet, MaxAttempts: 2, Backoff: time.Second,
			Usage: func(context.Context, time.Time) (dingtalk.Usage, error) { return usage, nil }})
		msg := func(user string, key string, due time.Time, kind string) outbox.Message {
			return outbox.Message{UserID: ids[user], Kind: kind, Title: "标题" + key, Body: "内容〔" + key + "〕",
				URL: "#/customers/1", CustomerID: 1, DedupKey: key, DueAt: due}
		}
		enqueue(t, db,
			msg("sim_s1", "a", base.Add(5*time.Second), outbox.KindReminder),
			msg("sim_s1", "b", base.Add(30*time.Second), outbox.KindReminder),
			msg("sim_s1", "c", base.Add(59*time.Second), outbox.KindReminder),
			msg("sim_s1", "d", base.Add(70*time.Second), outbox.KindReminder),
			msg("sim_s2", "e", base.Add(10*time.Second), outbox.KindReminder),
			msg("sim_s2", "f", base.Add(20*time.Second), outbox.KindDigest))
		enqueue(t, db, msg("sim_s1", "a", base, outbox.KindReminder)) // no-op
		if n := countRows(t, db, "SELECT COUNT(*) FROM outbox_messages"); n != 6 {
			t.Fatalf("%d messages, want 6 (a repeated key is a no-op)", n)
		}
		// 22:30 in Shanghai: quiet.
		now = base.Add(12*time.Hour + 30*time.Minute)
		if sum, _ := d.Dispatch(ctx); !strings.Contains(sum, "quiet") || len(fake.Deliveries()) != 0 {
			t.Fatalf("quiet hours: %q, %d deliveries", sum, len(fake.Deliveries()))
		}
		now = base.Add(90 * time.Second) // 10:01:30
		if _, err := d.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		s1 := fake.DeliveriesTo("sim_s1")
		if len(s1) != 1 || !strings.Contains(s1[0].Text, "〔a〕") || !strings.Contains(s1[0].Text, "〔c〕") || strings.Contains(s1[0].Text, "〔d〕") {
			t.Fatalf("sim_s1 got %+v, want one card with a, b and c", s1)
		}
		if s2 := fake.DeliveriesTo("sim_s2"); len(s2) != 2 {
			t.Fatalf("sim_s2 got %d cards, want 2 (the digest alone)", len(s2))
		}
		now = base.Add(150 * time.Second)
		d.Dispatch(ctx)
		if s1 := fake.DeliveriesTo("sim_s1"); len(s1) != 2 || !strings.Contains(s1[1].Text, "〔d〕") {
			t.Fatalf("sim_s1's next minute: %+v", s1)
		}

		// Keeps failing: given up after two attempts, with an alert.
		enqueue(t, db, msg("sim_s1", "g", now, outbox.KindReminder))
		fake.FailNext(dingtalk.APIAsyncSend, 503, 2)
		now = now.Add(time.Minute)
		d.Dispatch(ctx)
		now = now.Add(time.Minute)
		d.Dispatch(ctx)
		if n := countRows(t, db, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'failed' AND attempts = 2"); n != 1 {
			t.Errorf("%d batches given up after 2 attempts, want 1", n)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'alert' AND entity = 'outbox' AND entity_name = 'send_failed'"); n != 1 {
			t.Errorf("%d send_failed alerts, want 1", n)
		}

		// Quota low: digests only; the reminder stays in the inbox; one alert.
		usage = dingtalk.Usage{Month: "2026-11", Quota: 5000, QuotaCalls: 4990, Remaining: 10}
		for i, kind := range []string{outbox.KindReminder, outbox.KindDigest} {
			enqueue(t, db, msg("sim_s2", fmt.Sprint("low", i), now, kind))
		}
		before := len(fake.DeliveriesTo("sim_s2"))
		now = now.Add(time.Minute)
		for range 2 {
			d.Dispatch(ctx)
		}
		got := fake.DeliveriesTo("sim_s2")[before:]
		if len(got) != 1 || !strings.Contains(got[0].Text, "〔low1〕") {
			t.Errorf("with the quota low DingTalk got %+v, want the digest only", got)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'inbox' AND reason = 'quota_low'"); n != 1 {
			t.Errorf("%d batches kept in the inbox for the low quota, want 1", n)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'alert' AND entity_name = 'quota_low:2026-11'"); n != 1 {
			t.Errorf("%d quota alerts, want 1", n)
		}
	})
}

// TestInboxOnly: without DingTalk every message still reaches the in-app
// inbox, merged per person as DingTalk would have received it.
func TestInboxOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ids := addUsers(t, db, "sim_s1")
		due := time.Now().Add(-2 * time.Minute)
		enqueue(t, db,
			outbox.Message{UserID: ids["sim_s1"], Title: "一", Body: "〔1〕", DedupKey: "x1", DueAt: due},
			outbox.Message{UserID: ids["sim_s1"], Title: "二", Body: "〔2〕", DedupKey: "x2", DueAt: due})
		d := outbox.NewDispatcher(outbox.Options{DB: db, Quiet: outbox.Never, Log: quiet})
		if _, err := d.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			Status string `db:"status"`
			Reason string `db:"reason"`
			Body   string `db:"body"`
			Items  int    `db:"items"`
		}
		if err := db.Select(&rows, "SELECT status, reason, body, items FROM outbox_batches"); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Status != "inbox" || rows[0].Reason != "no_dingtalk" || rows[0].Items != 2 ||
			!strings.Contains(rows[0].Body, "〔1〕") || !strings.Contains(rows[0].Body, "〔2〕") {
			t.Errorf("batches %+v, want one inbox-only batch of both", rows)
		}
	})
}

// lossy is DingTalk whose answer to the next send is lost after DingTalk
// accepted it (a crash or a dropped connection between send and record).
type lossy struct {
	*dingtalk.Client
	lose bool
}

func (l *lossy) SendWorkNotice(ctx context.Context, n dingtalk.WorkNotice) (int64, error) {
	id, err := l.Client.SendWorkNotice(ctx, n)
	if err == nil && l.lose {
		l.lose = false
		return 0, errors.New("read tcp: connection reset by peer")
	}
	return id, err
}

// TestResendInvisible: when the answer to an accepted send is lost, the
// batch is sent again byte for byte; DingTalk drops the repeat, the person
// has one copy, and getsendresult's 143106 for the resend counts as
// delivered.
func TestResendInvisible(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})
		defer fake.Close()
		c, err := dingtalk.New(fake.ClientOptions())
		if err != nil {
			t.Fatal(err)
		}
		dt := &lossy{Client: c, lose: true}
		ids := addUsers(t, db, "sim_s4")
		now := time.Now()
		d := outbox.NewDispatcher(outbox.Options{DB: db, DingTalk: dt, Quiet: outbox.Never, Log: quiet, Backoff: time.Second,
			Now: func() time.Time { return now }})
		enqueue(t, db, outbox.Message{UserID: ids["sim_s4"], Title: "回访", Body: "〔once〕", DedupKey: "once", DueAt: now.Add(-2 * time.Minute)})
		if st, _ := d.Run(ctx); st.Retried != 1 {
			t.Fatalf("first run %+v, want one retry", st)
		}
		now = now.Add(2 * time.Second)
		if st, _ := d.Run(ctx); st.Sent != 1 {
			t.Fatalf("second run %+v, want the resend", st)
		}
		if got := fake.DeliveriesTo("sim_s4"); len(got) != 1 {
			t.Fatalf("the person got %d copies, want 1", len(got))
		}
		now = now.Add(2 * time.Minute)
		if _, err := d.CheckSendResults(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'delivered' AND reason LIKE 'resend dropped%'"); n != 1 {
			t.Errorf("the resend is not marked delivered")
		}
	})
}
