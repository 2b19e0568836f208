package outbox_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var markRE = regexp.MustCompile(`〔M(\d+)〕`)

// BenchmarkDispatchWindow: 50,000 reminders for 2,000 people falling due in
// one ten-minute window (CRM_BENCH_REMINDERS, CRM_BENCH_PEOPLE,
// CRM_BENCH_WINDOW_SECONDS change the size), sent by one dispatcher in real
// time against the fake DingTalk enforcing the real limits (20 calls/s per
// API, same content once a day per person, 500 a day per person, 2048-byte
// messages). The client paces itself at 19/s. It reports the work-notice
// calls against the distinct (person, minute) pairs of the due times
// (target: no more), the send rate against the 20/s ceiling while there was
// a backlog (target ≥ 90 %), and the same-content drops (target 0), and
// checks every reminder reached its person exactly once. MySQL when
// CRM_TEST_MYSQL_DSN is set, else SQLite. Run with -benchtime 1x.
func BenchmarkDispatchWindow(b *testing.B) {
	reminders := benchEnv("CRM_BENCH_REMINDERS", 50000)
	peopleN := benchEnv("CRM_BENCH_PEOPLE", 2000)
	window := time.Duration(benchEnv("CRM_BENCH_WINDOW_SECONDS", 600)) * time.Second
	var db *store.DB
	if os.Getenv("CRM_TEST_MYSQL_DSN") != "" {
		db = storetest.MySQL(b)
	} else {
		db = storetest.SQLite(b)
	}
	ctx := context.Background()
	org := dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: peopleN, Seed: 5})
	userids := make([]string, len(org.Users))
	for i, u := range org.Users {
		userids[i] = u.UserID
	}
	ids := addUsers(b, db, userids...)
	for i := 0; i < b.N; i++ {
		fake := dingtalktest.New(dingtalktest.Options{Org: org})
		opts := fake.ClientOptions()
		opts.QPS = 19
		client, err := dingtalk.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		db.ExecContext(ctx, "DELETE FROM outbox_messages")
		db.ExecContext(ctx, "DELETE FROM outbox_batches")
		// Due times spread evenly over the window, which starts now.
		start := time.Now().UTC()
		type key struct {
			user   string
			minute int64
		}
		pairs := map[key]bool{}
		owner := make([]string, reminders)
		var msgs []outbox.Message
		for n := range reminders {
			u := userids[(n*7919)%len(userids)]
			due := start.Add(time.Duration(int64(window) * int64((n*104729)%reminders) / int64(reminders)))
			owner[n] = u
			pairs[key{u, due.Unix() / 60}] = true
			msgs = append(msgs, outbox.Message{UserID: ids[u], Kind: outbox.KindReminder, Title: fmt.Sprintf("⏰ 客户%d", n%977),
				Body: fmt.Sprintf("回访客户，确认报价〔M%d〕", n), URL: fmt.Sprintf("#/customers/%d", n%977+1), CustomerID: int64(n%977 + 1),
				DedupKey: fmt.Sprintf("bench:%d", n), DueAt: due})
		}
		for s := 0; s < len(msgs); s += 1000 {
			part := msgs[s:min(s+1000, len(msgs))]
			if err := db.WithTx(ctx, func(tx *sqlx.Tx) error { return outbox.Enqueue(ctx, tx, part...) }); err != nil {
				b.Fatal(err)
			}
		}
		d := outbox.NewDispatcher(outbox.Options{DB: db, DingTalk: client, Quiet: outbox.Never, Location: time.UTC, Log: quiet})
		b.ResetTimer()
		// The rate counts only the rounds that began with work waiting (a
		// batch to send or a message due before the current minute).
		var busy time.Duration
		var busySent int
		var last time.Time
		deadline := start.Add(window + 30*time.Minute)
		for time.Now().Before(deadline) {
			var due, waiting int
			db.GetContext(ctx, &due, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending' AND due_at <= ?", time.Now().UTC().Truncate(time.Minute))
			db.GetContext(ctx, &waiting, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'pending'")
			t0 := time.Now()
			st, err := d.Run(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if due+waiting > 0 {
				busy += time.Since(t0)
				busySent += st.Sent
			}
			if st.Sent > 0 {
				last = time.Now()
			}
			var left int
			db.GetContext(ctx, &left, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending'")
			if left == 0 && due+waiting == 0 && st.Sent == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.StopTimer()
		calls := fake.Calls(dingtalk.APIAsyncSend)
		var batches, sent int
		db.GetContext(ctx, &batches, "SELECT COUNT(*) FROM outbox_batches")
		db.GetContext(ctx, &sent, "SELECT COUNT(*) FROM outbox_batches WHERE status = 'sent'")
		got := map[int]int{}
		deliveries := fake.Deliveries()
		for _, dl := range deliveries {
			for _, m := range markRE.FindAllStringSubmatch(dl.Text, -1) {
				n, _ := strconv.Atoi(m[1])
				if owner[n] == dl.UserID {
					got[n]++
				}
			}
		}
		lost, twice := 0, 0
		for n := range reminders {
			switch got[n] {
			case 0:
				lost++
			case 1:
			default:
				twice++
			}
		}
		rate := float64(busySent) / busy.Seconds()
		drops := sent - len(deliveries)
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(float64(len(pairs)), "pairs")
		b.ReportMetric(rate, "sends/s")
		b.ReportMetric(float64(drops), "drops")
		fmt.Printf("reminders %d, people %d, window %s, engine %s\n", reminders, peopleN, window, db.Dialect)
		fmt.Printf("work-notice calls %d (accepted %d, batches %d) vs distinct (person, minute) pairs %d: %.2f of the pairs\n",
			calls, sent, batches, len(pairs), float64(calls)/float64(len(pairs)))
		fmt.Printf("send rate while work was waiting: %.2f accepted/s over %.0f s (%d sends) = %.1f %% of the 20/s ceiling\n",
			rate, busy.Seconds(), busySent, 100*rate/20)
		fmt.Printf("same-content drops %d; reminders lost %d, delivered twice %d; all sent %.0f s after the window opened (window %s)\n",
			drops, lost, twice, last.Sub(start).Seconds(), window)
		if lost > 0 || twice > 0 || drops > 0 || calls > len(pairs) {
			b.Errorf("lost %d, twice %d, drops %d, calls %d > pairs %d", lost, twice, drops, calls, len(pairs))
		}
		fake.Close()
	}
}
