package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
)

// The fault run (-faults): crmload builds its own world — a fresh MySQL
// database, a private redis-server, a proxy in front of MySQL, one fake
// DingTalk and N `crm serve` processes on loopback ports — drives the mix
// against it while breaking each part in turn, then checks what the CRM
// promises: every acknowledged write is stored, every reminder that fell
// due reached its person exactly once, no job ran twice in one tick, and
// the instances recovered by themselves. See docs/load.md.

// faultOptions are the fault run's own flags.
type faultOptions struct {
	crm       string // the crm binary
	mysqlDSN  string // a DSN of the MySQL server (the database part is ignored)
	redis     string // the redis-server binary
	instances int
	drain     time.Duration // how long to wait after the load for deliveries
	keep      bool          // keep the database and the logs
}

// faultEvent is one fault as it happened.
type faultEvent struct {
	name       string
	start, end time.Time
	note       string
}

// world is everything the fault run started.
type world struct {
	dir       string
	dbName    string
	admin     *sqlx.DB // the MySQL server, to create and drop the database
	db        *sqlx.DB // the run's database, directly (not through the proxy)
	redis     *redisProc
	proxy     *mysqlProxy
	fake      *fakeDingTalk
	instances []*instance
	http      *http.Client

	mu     sync.Mutex
	events []faultEvent
}

func (w *world) record(e faultEvent) {
	w.mu.Lock()
	w.events = append(w.events, e)
	w.mu.Unlock()
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// setUp starts the world: database, Redis, proxy, fake DingTalk, then the
// instances one after the other (the first migrates and seeds).
func setUp(ctx context.Context, fo faultOptions, out io.Writer) (_ *world, err error) {
	w := &world{http: &http.Client{Timeout: 5 * time.Second}}
	defer func() {
		if err != nil {
			w.tearDown(out, true)
		}
	}()
	if w.dir, err = os.MkdirTemp("", "crmfault-"); err != nil {
		return w, err
	}
	redisBin, err := exec.LookPath(fo.redis)
	if err != nil {
		return w, fmt.Errorf("%w: %v", errNoRedis, err)
	}
	cfg, err := mysql.ParseDSN(fo.mysqlDSN)
	if err != nil {
		return w, fmt.Errorf("-mysql: %w", err)
	}
	if cfg.Net != "tcp" {
		return w, fmt.Errorf("-mysql must be a tcp DSN (the run puts a proxy in front of it), got %q", cfg.Net)
	}
	if err := loopback("http://" + cfg.Addr); err != nil {
		return w, fmt.Errorf("-mysql: %w", err)
	}
	cfg.DBName = ""
	if w.admin, err = sqlx.Open("mysql", cfg.FormatDSN()); err != nil {
		return w, err
	}
	w.dbName = "crm_fault_" + randomSuffix()
	if _, err = w.admin.ExecContext(ctx, "CREATE DATABASE "+w.dbName+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		w.dbName = ""
		return w, fmt.Errorf("create database: %w", err)
	}
	direct := *cfg
	direct.DBName = w.dbName
	dsn, err := store.NormalizeMySQLDSN(direct.FormatDSN())
	if err != nil {
		return w, err
	}
	if w.db, err = sqlx.Open("mysql", dsn); err != nil {
		return w, err
	}
	if w.redis, err = startRedis(redisBin, w.dir); err != nil {
		return w, err
	}
	if w.proxy, err = startProxy(cfg.Addr); err != nil {
		return w, err
	}
	if w.fake, err = startFake(); err != nil {
		return w, err
	}
	viaProxy := *cfg
	viaProxy.Addr, viaProxy.DBName = w.proxy.addr, w.dbName
	base := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CRM_") {
			base = append(base, kv)
		}
	}
	for i := range fo.instances {
		port, err := freePort()
		if err != nil {
			return w, err
		}
		in := &instance{n: i + 1, bin: fo.crm, addr: fmt.Sprintf("127.0.0.1:%d", port),
			logPath: filepath.Join(w.dir, fmt.Sprintf("crm%d.log", i+1))}
		in.env = append(append([]string{}, base...),
			"CRM_DATABASE_DRIVER=mysql", "CRM_DATABASE_DSN="+viaProxy.FormatDSN(), "CRM_DATABASE_AUTO_MIGRATE=true",
			"CRM_REDIS_ADDR="+w.redis.addr, "CRM_REDIS_PREFIX=crmfault:", "CRM_HTTP_ADDR="+in.addr,
			"CRM_DATA_DIR="+filepath.Join(w.dir, fmt.Sprintf("data%d", i+1)), "CRM_LOG_LEVEL=warn",
			"CRM_DINGTALK_MODE=simulated", "CRM_DINGTALK_OAPI_BASE_URL="+w.fake.url(),
			fmt.Sprintf("CRM_DINGTALK_QPS=%g", float64(18/fo.instances)))
		w.instances = append(w.instances, in)
		if err := in.start(); err != nil {
			return w, err
		}
		if err := in.waitReady(ctx, w.http, 3*time.Minute); err != nil {
			return w, err
		}
	}
	fmt.Fprintf(out, "crmload: fault run in %s: database %s, redis %s, mysql proxy %s, fake DingTalk %s, %d instances\n",
		w.dir, w.dbName, w.redis.addr, w.proxy.addr, w.fake.url(), len(w.instances))
	return w, nil
}

// tearDown stops everything; the database and logs go unless kept.
func (w *world) tearDown(out io.Writer, keep bool) {
	for _, in := range w.instances {
		in.stop()
	}
	if w.fake != nil {
		w.fake.close()
	}
	if w.proxy != nil {
		w.proxy.close()
	}
	if w.redis != nil {
		w.redis.stop()
	}
	if w.db != nil {
		w.db.Close()
	}
	if w.admin != nil {
		if w.dbName != "" && !keep {
			if _, err := w.admin.Exec("DROP DATABASE " + w.dbName); err != nil {
				fmt.Fprintln(out, "crmload: drop database:", err)
			}
		}
		w.admin.Close()
	}
	if w.dir != "" {
		if keep {
			fmt.Fprintf(out, "crmload: logs kept in %s (database %s)\n", w.dir, w.dbName)
		} else {
			os.RemoveAll(w.dir)
		}
	}
}

// schedule is when each fault happens, as fractions of the load's
// duration: for ten minutes, the kill at 1:00, Redis down 2:00–3:00, MySQL
// cut 3:30–4:00 and DingTalk down 4:00–9:00, leaving a minute of load
// after the last fault and then the drain.
var schedule = struct{ kill, redisDown, redisUp, mysqlCut, mysqlBack, dtDown, dtUp float64 }{
	kill: .10, redisDown: .20, redisUp: .30, mysqlCut: .35, mysqlBack: .40, dtDown: .40, dtUp: .90,
}

// inject runs the faults at their times until ctx ends (the load's end).
func (w *world) inject(ctx context.Context, l *load, d time.Duration, out io.Writer) {
	t0 := time.Now()
	at := func(f float64) bool {
		select {
		case <-time.After(time.Until(t0.Add(time.Duration(f * float64(d))))):
			return true
		case <-ctx.Done():
			return false
		}
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(out, "  %6s  %s\n", time.Since(t0).Round(time.Second), fmt.Sprintf(format, a...))
	}
	// 1. SIGKILL one instance; the load balancer (here: the load) stops
	// sending it requests, and it is started again.
	if !at(schedule.kill) {
		return
	}
	k := len(w.instances) / 2
	in := w.instances[k]
	kill := faultEvent{name: "SIGKILL " + in.url(), start: time.Now()}
	l.down[k].Store(true)
	in.kill()
	say("instance %d killed with SIGKILL", in.n)
	time.Sleep(max(5*time.Second, d/100))
	if err := in.start(); err != nil {
		say("instance %d not restarted: %v", in.n, err)
	} else if err := in.waitReady(context.WithoutCancel(ctx), w.http, 2*time.Minute); err != nil {
		say("instance %d: %v", in.n, err)
	} else {
		l.down[k].Store(false)
	}
	kill.end = time.Now()
	kill.note = fmt.Sprintf("restarted and ready after %s", kill.end.Sub(kill.start).Round(100*time.Millisecond))
	w.record(kill)
	say("instance %d back in rotation", in.n)

	// 2. Redis down for a while, back empty.
	if !at(schedule.redisDown) {
		return
	}
	rd := faultEvent{name: "Redis down", start: time.Now()}
	w.redis.stop()
	say("redis stopped")
	at(schedule.redisUp)
	if err := w.redis.start(); err != nil {
		say("redis not restarted: %v", err)
	}
	rd.end, rd.note = time.Now(), "restarted empty (no persistence)"
	w.record(rd)
	say("redis started again (empty)")

	// 3. Every MySQL connection cut, new ones refused for a while.
	if !at(schedule.mysqlCut) {
		return
	}
	my := faultEvent{name: "MySQL cut", start: time.Now()}
	n := w.proxy.cut()
	say("mysql: %d connections cut, new ones refused", n)
	at(schedule.mysqlBack)
	if err := w.proxy.restore(); err != nil {
		say("%v", err)
	}
	my.end, my.note = time.Now(), fmt.Sprintf("%d connections cut", n)
	w.record(my)
	say("mysql reachable again")

	// 4. DingTalk down.
	if !at(schedule.dtDown) {
		return
	}
	dt := faultEvent{name: "DingTalk down", start: time.Now()}
	w.fake.down()
	say("fake DingTalk down")
	at(schedule.dtUp)
	if err := w.fake.up(); err != nil {
		say("%v", err)
	}
	dt.end = time.Now()
	w.record(dt)
	say("fake DingTalk back")
}

// alignDingTalkOutage waits, when the DingTalk outage is short, until
// starting now puts a minute boundary 5 s into it: the scheduler
// dispatches at the minute (and forms batches only of what was due by
// then), so an outage between two minutes would go unfelt. The ten-minute
// run's five-minute outage holds several minutes anyway.
func alignDingTalkOutage(d time.Duration, out io.Writer) {
	down := time.Duration(schedule.dtDown * float64(d))
	if time.Duration((schedule.dtUp-schedule.dtDown)*float64(d)) >= 2*time.Minute {
		return
	}
	now := time.Now()
	boundary := now.Add(down + 5*time.Second).Truncate(time.Minute).Add(time.Minute)
	wait := boundary.Add(-down - 5*time.Second).Sub(now)
	fmt.Fprintf(out, "crmload: waiting %s so a dispatch minute falls inside the DingTalk outage\n", wait.Round(time.Second))
	time.Sleep(wait)
}

// runFaults is the whole fault run; it returns an error when a check
// failed.
func runFaults(ctx context.Context, o options, fo faultOptions, out io.Writer) (err error) {
	w, err := setUp(ctx, fo, out)
	if err != nil {
		return err
	}
	failed := true
	defer func() { w.tearDown(out, fo.keep || failed) }()
	o.targets = nil
	for _, in := range w.instances {
		o.targets = append(o.targets, in.url())
	}
	l := newLoad(o)
	l.trace = &trace{}
	l.remindWithin = min(150*time.Second, max(20*time.Second, o.duration/4))
	if err := l.prepare(ctx); err != nil {
		return err
	}
	// Notifications go out at any hour: the run must not wait for the end
	// of the default quiet hours (22:00–08:00).
	if st, err := l.call(ctx, l.tokens["sim_admin"], "PUT", o.targets[0]+"/api/v1/settings",
		map[string]any{"quiet_start": "", "quiet_end": ""}, nil); err != nil || st != 200 {
		return fmt.Errorf("turn quiet hours off: status %d, %v", st, err)
	}
	fmt.Fprintf(out, "crmload: %d instance(s), %d workers, %s, reminders due within %s; faults:\n",
		len(o.targets), o.workers, o.duration, l.remindWithin)
	alignDingTalkOutage(o.duration, out)
	start := time.Now()
	var wg sync.WaitGroup
	faultCtx, stopFaults := context.WithTimeout(ctx, o.duration)
	wg.Add(1)
	go func() { defer wg.Done(); w.inject(faultCtx, l, o.duration, out) }()
	l.drive(ctx)
	elapsed := time.Since(start)
	stopFaults()
	wg.Wait()
	ended := time.Now()

	c := w.check(context.WithoutCancel(ctx), l, fo.drain, ended)
	v := l.verifyWrites(context.WithoutCancel(ctx))
	l.report(out, elapsed, v)
	c.report(out, w, l, start)
	if v.missing > 0 {
		c.problems = append(c.problems, fmt.Sprintf("%d acknowledged writes missing", v.missing))
	}
	if len(c.problems) > 0 {
		fmt.Fprintln(out, "\nFAILED:")
		for _, p := range c.problems {
			fmt.Fprintln(out, "  -", p)
		}
		return fmt.Errorf("fault run: %d check(s) failed", len(c.problems))
	}
	failed = false
	fmt.Fprintln(out, "\nAll checks passed.")
	return nil
}
