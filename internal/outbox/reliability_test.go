package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/dingtalk/dingtalktest"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/outbox"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// The helper process's settings, passed in its environment.
const (
	helperEnv    = "CRM_OUTBOX_HELPER"
	helperDSN    = "CRM_OUTBOX_HELPER_DSN"
	helperURL    = "CRM_OUTBOX_HELPER_URL"
	helperPrefix = "CRM_OUTBOX_HELPER_KV"
)

// reliableOptions are the dispatcher settings of the reliability test:
// short leases and backoffs so a dead instance's work is taken over within
// seconds, and enough attempts that 30 % faults never exhaust them.
func reliableOptions(db *store.DB, dt outbox.DingTalk, owner string) outbox.Options {
	return outbox.Options{DB: db, DingTalk: dt, Quiet: outbox.Never, Location: time.UTC, Owner: owner,
		Lease: 4 * time.Second, SendTimeout: 2 * time.Second, MaxAttempts: 40, Backoff: 100 * time.Millisecond,
		MaxBackoff: time.Second, Claim: 10, BaseURL: "http://crm.test",
		Log: slog.New(slog.NewTextHandler(os_discard{}, nil))}
}

type os_discard struct{}

func (os_discard) Write(p []byte) (int, error) { return len(p), nil }

// reliableClient is one instance's DingTalk client: the shared Redis token
// cache, qps per second (three instances at 6/s stay under the platform's 20/s), a
// 600 ms attempt timeout and three attempts.
func reliableClient(t testing.TB, url, prefix string, qps float64) *dingtalk.Client {
	r, err := kv.NewRedis(context.Background(), os.Getenv("CRM_TEST_REDIS_ADDR"), "", 0, prefix)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dingtalk.New(dingtalk.Options{AppKey: "dingtest_appkey", AppSecret: "dingtest_appsecret", AgentID: 1000001,
		OAPIBaseURL: url, APIBaseURL: url, LoginBaseURL: url, KV: r, QPS: qps, Timeout: 600 * time.Millisecond,
		Retry: dingtalk.RetryPolicy{MaxAttempts: 3, Base: 50 * time.Millisecond, Max: 300 * time.Millisecond, QPSWait: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDispatcherHelper is the third dispatcher instance of
// TestDispatchReliability, run as a separate process so it can be killed
// with SIGKILL. It does nothing unless started by that test.
func TestDispatcherHelper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("the helper process of TestDispatchReliability")
	}
	db, err := store.Open(context.Background(), store.Options{Driver: "mysql", DSN: os.Getenv(helperDSN)})
	if err != nil {
		t.Fatal(err)
	}
	d := outbox.NewDispatcher(reliableOptions(db, reliableClient(t, os.Getenv(helperURL), os.Getenv(helperPrefix), 6), "helper-"+os.Getenv(helperEnv)))
	for {
		_, _ = d.Run(context.Background())
		time.Sleep(50 * time.Millisecond)
	}
}

// faulty answers 30 % of the work-notification and send-result calls with
// a fault: -1 (busy), 90018 (QPS), HTTP 5xx, or a timeout — half of them a
// slow answer the fake abandons when the client gives up, half a call the
// fake handles (delivers) whose answer never reaches the client.
type faulty struct {
	fake     *dingtalktest.Server
	counts   [4]atomic.Int64
	accepted atomic.Int64 // work notices the fake accepted (errcode 0)
	lost     atomic.Int64 // calls handled whose answer never reached the client
}

// recorder keeps what the fake wrote, to count accepted sends.
type recorder struct {
	http.ResponseWriter
	body []byte
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body = append(r.body, b...)
	return r.ResponseWriter.Write(b)
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.TrimPrefix(r.URL.Path, "/")
	if (api == dingtalk.APIAsyncSend || api == dingtalk.APISendResult) && rand.Float64() < 0.3 {
		k := rand.IntN(4)
		f.counts[k].Add(1)
		switch k {
		case 0:
			f.fake.FailNext(api, -1, 1)
		case 1:
			f.fake.FailNext(api, 90018, 1)
		case 2:
			f.fake.FailNext(api, []int{500, 502, 503}[rand.IntN(3)], 1)
		case 3:
			if rand.IntN(2) == 0 {
				// Slow: the client gives up first and the fake, seeing
				// it go, does nothing.
				f.fake.DelayNext(api, 1500*time.Millisecond, 1)
				break
			}
			// Done, but the answer is lost: the fake handles the call
			// and the client times out waiting for the reply.
			f.lost.Add(1)
			rec := &recorder{ResponseWriter: httptest.NewRecorder()}
			f.fake.Handler().ServeHTTP(rec, r)
			if api == dingtalk.APIAsyncSend && strings.Contains(string(rec.body), `"errcode":0`) {
				f.accepted.Add(1)
			}
			select {
			case <-time.After(1500 * time.Millisecond):
			case <-r.Context().Done():
			}
			return
		}
	}
	rec := &recorder{ResponseWriter: w}
	f.fake.Handler().ServeHTTP(rec, r)
	if api == dingtalk.APIAsyncSend && strings.Contains(string(rec.body), `"errcode":0`) {
		f.accepted.Add(1)
	}
}

// TestDispatchReliability: three dispatchers at once (two in this process,
// one a child process that is killed with SIGKILL while it holds leased
// batches, then restarted) against the fake DingTalk answering 30 % of the
// calls with faults, with every database connection killed mid-run, twice.
// Afterwards every message reached its person exactly once as the person
// sees it (the fake's delivery record is the judge), none is lost, and the
// send results mark every batch delivered (resends dropped by DingTalk as
// repeats count as delivered). MySQL and Redis only.
func TestDispatchReliability(t *testing.T) {
	if os.Getenv("CRM_TEST_REDIS_ADDR") == "" {
		t.Skip("needs CRM_TEST_REDIS_ADDR (and CRM_TEST_MYSQL_DSN)")
	}
	if testing.Short() {
		t.Skip("takes about half a minute")
	}
	db := storetest.MySQL(t)
	ctx := context.Background()
	var name string
	if err := db.GetContext(ctx, &name, "SELECT DATABASE()"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
	cfg.DBName = name
	dsn := cfg.FormatDSN()

	org := dingtalktest.GenerateOrg(dingtalktest.GenOptions{People: 100, Departments: 5, Seed: 11})
	fake := dingtalktest.New(dingtalktest.Options{Org: org})
	defer fake.Close()
	proxy := &faulty{fake: fake}
	ts := httptest.NewServer(proxy)
	defer ts.Close()
	prefix := fmt.Sprintf("crmtest:outbox:%d:", time.Now().UnixNano())

	// The people, and 300 messages due within the last ten minutes.
	now := store.Now()
	ids := map[string]int64{}
	for _, u := range org.Users {
		res, err := db.ExecContext(ctx, `INSERT INTO users (userid, name, lang, active, source, created_at, updated_at)
			VALUES (?, ?, '', 1, 'dingtalk', ?, ?)`, u.UserID, u.Name, now, now)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.UserID], _ = res.LastInsertId()
	}
	type sent struct {
		userID string
		mark   string
	}
	var want []sent
	var msgs []outbox.Message
	for i := range 300 {
		u := org.Users[rand.IntN(len(org.Users))]
		mark := fmt.Sprintf("〔M%04d〕", i)
		want = append(want, sent{u.UserID, mark})
		msgs = append(msgs, outbox.Message{UserID: ids[u.UserID], Kind: outbox.KindReminder, Title: "⏰ 客户" + mark,
			Body: "回访" + mark, URL: fmt.Sprintf("#/customers/%d", i+1), CustomerID: int64(i + 1),
			DedupKey: fmt.Sprintf("rel:%d", i), DueAt: now.Add(-time.Duration(rand.IntN(600)) * time.Second)})
	}
	err := db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := outbox.Enqueue(ctx, tx, msgs...); err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, msgs[:50]...) // the same keys again: no-ops
	})
	if err != nil {
		t.Fatal(err)
	}

	// The helper process (instance 3).
	start := func(n int) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDispatcherHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", helperEnv, n), helperDSN+"="+dsn, helperURL+"="+ts.URL, helperPrefix+"="+prefix)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	began := time.Now()
	helper := start(1)
	defer func() { helper.Process.Kill(); helper.Wait() }()

	// Instances 1 and 2, each with its own connection pool.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range 2 {
		own, err := store.Open(ctx, store.Options{Driver: "mysql", DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer own.Close()
		d := outbox.NewDispatcher(reliableOptions(own, reliableClient(t, ts.URL, prefix, 6), fmt.Sprintf("local-%d", i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				_, _ = d.Run(runCtx)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}

	count := func(q string, args ...any) int {
		var n int
		if err := db.GetContext(ctx, &n, q, args...); err != nil {
			t.Logf("count: %v", err)
			return -1
		}
		return n
	}
	// SIGKILL the helper while it holds leased batches and has sent some.
	deadline := time.Now().Add(30 * time.Second)
	for count("SELECT COUNT(*) FROM outbox_batches WHERE lease_owner LIKE 'helper-1#%' AND status = 'pending'") < 3 ||
		count("SELECT COUNT(*) FROM outbox_batches WHERE status = 'sent'") < 10 {
		if time.Now().After(deadline) {
			t.Fatal("the helper never held batches")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	held := count("SELECT COUNT(*) FROM outbox_batches WHERE lease_owner LIKE 'helper-1#%' AND status = 'pending'")
	t.Logf("helper killed with SIGKILL holding %d batches", held)
	if held == 0 {
		t.Error("the helper was not killed mid-batch")
	}
	helper = start(2)

	// Drop every connection to the database, twice, while they work.
	control, err := sqlx.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close()
	killed := 0
	for range 2 {
		time.Sleep(700 * time.Millisecond)
		var conns []int64
		if err := control.SelectContext(ctx, &conns, `SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()`, name); err != nil {
			t.Fatal(err)
		}
		for _, id := range conns {
			if _, err := control.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err == nil {
				killed++
			}
		}
	}
	t.Logf("killed %d database connections", killed)

	// Wait until nothing is left to send.
	deadline = time.Now().Add(3 * time.Minute)
	for count("SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending'")+count("SELECT COUNT(*) FROM outbox_batches WHERE status = 'pending'") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("messages still waiting after 3 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("everything sent after %s", time.Since(began).Round(time.Millisecond))
	stop()
	wg.Wait()
	helper.Process.Kill()
	helper.Wait()
	time.Sleep(1600 * time.Millisecond) // delayed (timed-out) sends land

	// The judge: the fake's record of what people received.
	got := map[string]int{}
	for _, d := range fake.Deliveries() {
		for _, w := range want {
			if d.UserID == w.userID && strings.Contains(d.Text, w.mark) {
				got[w.mark]++
			}
		}
	}
	lost, twice := 0, 0
	for _, w := range want {
		switch got[w.mark] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	if lost > 0 || twice > 0 {
		t.Errorf("%d messages never reached their person, %d reached them more than once", lost, twice)
	}
	batches := count("SELECT COUNT(*) FROM outbox_batches")
	resent := count("SELECT COUNT(*) FROM outbox_batches WHERE attempts > 1")
	t.Logf("%d messages in %d batches; %d batches sent more than once; faults injected: busy %d, qps %d, 5xx %d, timeout %d (%d of them handled, the answer lost); asyncsend calls %d",
		len(want), batches, resent, proxy.counts[0].Load(), proxy.counts[1].Load(), proxy.counts[2].Load(), proxy.counts[3].Load(), proxy.lost.Load(),
		fake.Calls(dingtalk.APIAsyncSend))
	if n := count("SELECT COUNT(*) FROM outbox_batches WHERE status <> 'sent'"); n != 0 {
		t.Errorf("%d batches not sent (failed?)", n)
	}

	// getsendresult marks every batch delivered, none failed.
	fast := reliableClient(t, ts.URL, prefix, 18)
	checker := outbox.NewDispatcher(outbox.Options{DB: db, DingTalk: fast, Quiet: outbox.Never,
		Now: func() time.Time { return time.Now().Add(2 * time.Minute) }, Log: slog.New(slog.NewTextHandler(os_discard{}, nil))})
	for i := 0; i < 20 && count("SELECT COUNT(*) FROM outbox_batches WHERE status = 'sent'") > 0; i++ {
		if _, err := checker.CheckSendResults(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked after %s", time.Since(began).Round(time.Millisecond))
	if n := count("SELECT COUNT(*) FROM outbox_batches WHERE status = 'delivered'"); n != batches {
		t.Errorf("%d of %d batches delivered after the checks", n, batches)
	}
	t.Logf("DingTalk accepted %d work notices for %d batches and dropped %d as repeats (resends the person never saw); %d of the recorded tasks were such repeats",
		proxy.accepted.Load(), batches, proxy.accepted.Load()-int64(len(fake.Deliveries())),
		count("SELECT COUNT(*) FROM outbox_batches WHERE reason LIKE 'resend dropped%'"))
}
