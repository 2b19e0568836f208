package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// checks is what the fault run found after the load.
type checks struct {
	problems []string

	drained    time.Duration // from the load's end until nothing was left to send
	backlog    int64         // left when the drain bound was reached
	reminders  int           // the load's reminders, all due by the check
	messages   int           // their notifications (one per recipient)
	onceEach   int           // notifications whose batch reached its person exactly once
	deliveries int           // work notifications the fake recorded in all
	batches    int64         // the batches the dispatcher formed
	retried    int64         // batches sent more than once (DingTalk down, instance killed)
	manual     []string      // the runs started by hand (dispatch while DingTalk was down)
	jobRuns    map[string][2]int64
	dupTicks   []string
	readyAtEnd int
}

func (c *checks) fail(format string, a ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, a...))
}

// batchRefRe finds a batch's reference in a delivered notification
// (internal/outbox render.go: "###### 编号 N123" / "Ref N123").
var batchRefRe = regexp.MustCompile(`(?:编号|Ref) N(\d+)`)

// check waits for the deliveries to drain, then runs every check.
func (w *world) check(ctx context.Context, l *load, drain time.Duration, ended time.Time) *checks {
	c := &checks{jobRuns: map[string][2]int64{}}
	// Recovery: every instance ready again.
	for _, in := range w.instances {
		if err := in.waitReady(ctx, w.http, time.Minute); err != nil {
			c.fail("instance %d did not recover: %v", in.n, err)
		} else {
			c.readyAtEnd++
		}
	}
	// The drain: until every reminder of the run is due and nothing due
	// is left unsent, within the bound.
	var lastDue sql.NullTime
	if err := w.db.GetContext(ctx, &lastDue, `SELECT MAX(remind_at) FROM reminders WHERE content LIKE '压测提醒%'`); err != nil {
		c.fail("read reminders: %v", err)
		return c
	}
	deadline := ended.Add(drain)
	for {
		var pending, batches int64
		now := time.Now().UTC()
		err := w.db.GetContext(ctx, &pending, `SELECT COUNT(*) FROM outbox_messages WHERE status = 'pending' AND due_at <= ?`, now)
		if err == nil {
			err = w.db.GetContext(ctx, &batches, `SELECT COUNT(*) FROM outbox_batches WHERE status = 'pending'`)
		}
		if err != nil {
			c.fail("read backlog: %v", err)
			return c
		}
		c.backlog = pending + batches
		if c.backlog == 0 && now.After(lastDue.Time) {
			c.drained = time.Since(ended)
			break
		}
		if time.Now().After(deadline) {
			c.fail("backlog of %d notifications not drained within %s of the load's end", c.backlog, drain)
			break
		}
		time.Sleep(time.Second)
	}
	time.Sleep(2 * time.Second) // a send whose answer is still on its way
	w.checkReminders(ctx, c)
	if err := w.db.GetContext(ctx, &c.batches, `SELECT COUNT(*) FROM outbox_batches`); err != nil {
		c.fail("count batches: %v", err)
	}
	if err := w.db.SelectContext(ctx, &c.manual, `SELECT CONCAT(job, ': ', outcome, ' — ', summary, ' ', error) FROM job_runs
		WHERE origin = 'manual' ORDER BY id`); err != nil {
		c.fail("read manual runs: %v", err)
	}
	if err := w.db.GetContext(ctx, &c.retried, `SELECT COUNT(*) FROM outbox_batches WHERE attempts > 1`); err != nil {
		c.fail("count batches: %v", err)
	}
	w.checkJobRuns(ctx, c)
	return c
}

// checkReminders: each of the load's reminders has its notifications, each
// batched and sent, and each batch's reference is in exactly one delivery
// to its person in the fake's record.
func (w *world) checkReminders(ctx context.Context, c *checks) {
	delivered := map[string]int{} // batch id|userid → deliveries
	ds := w.fake.fake.Deliveries()
	c.deliveries = len(ds)
	for _, d := range ds {
		if m := batchRefRe.FindStringSubmatch(d.Text); m != nil {
			delivered[m[1]+"|"+d.UserID]++
		}
	}
	for k, n := range delivered {
		if n > 1 {
			c.fail("batch|person %s delivered %d times", k, n)
		}
	}
	var rows []struct {
		Reminder int64  `db:"reminder_id"`
		Status   string `db:"status"`
		Batch    *int64 `db:"batch_id"`
		BStatus  string `db:"bstatus"`
		UserID   string `db:"userid"`
	}
	err := w.db.SelectContext(ctx, &rows, `SELECT r.id AS reminder_id, m.status, m.batch_id, COALESCE(b.status, '') AS bstatus, u.userid
		FROM reminders r
		JOIN outbox_messages m ON m.dedup_key LIKE CONCAT('reminder:', r.id, ':%')
		JOIN users u ON u.id = m.user_id
		LEFT JOIN outbox_batches b ON b.id = m.batch_id
		WHERE r.content LIKE '压测提醒%'`)
	if err != nil {
		c.fail("read reminders' notifications: %v", err)
		return
	}
	if err := w.db.GetContext(ctx, &c.reminders, `SELECT COUNT(*) FROM reminders WHERE content LIKE '压测提醒%'`); err != nil {
		c.fail("count reminders: %v", err)
	}
	seen := map[int64]bool{}
	bad := 0
	for _, r := range rows {
		seen[r.Reminder] = true
		c.messages++
		n := 0
		if r.Batch != nil {
			n = delivered[strconv.FormatInt(*r.Batch, 10)+"|"+r.UserID]
		}
		if n == 1 && r.Status == "batched" && slices.Contains([]string{"sent", "delivered", "read"}, r.BStatus) {
			c.onceEach++
			continue
		}
		if bad++; bad <= 5 {
			c.fail("reminder %d to %s: message %s, batch %v %s, delivered %d times", r.Reminder, r.UserID, r.Status, r.Batch, r.BStatus, n)
		}
	}
	if bad > 5 {
		c.fail("… and %d more reminder notifications not delivered exactly once", bad-5)
	}
	if len(seen) != c.reminders {
		c.fail("%d of %d reminders have no notification", c.reminders-len(seen), c.reminders)
	}
	if c.reminders == 0 {
		c.fail("the load created no reminders to check")
	}
}

// checkJobRuns: no job ran twice for one scheduled tick (skipped ticks are
// recorded too, and do not count).
func (w *world) checkJobRuns(ctx context.Context, c *checks) {
	var dups []struct {
		Job  string    `db:"job"`
		Tick time.Time `db:"tick_at"`
		N    int       `db:"n"`
	}
	err := w.db.SelectContext(ctx, &dups, `SELECT job, tick_at, COUNT(*) AS n FROM job_runs
		WHERE origin = 'schedule' AND outcome <> 'skipped' AND tick_at IS NOT NULL
		GROUP BY job, tick_at HAVING COUNT(*) > 1`)
	if err != nil {
		c.fail("read job runs: %v", err)
		return
	}
	for _, d := range dups {
		c.dupTicks = append(c.dupTicks, fmt.Sprintf("%s at %s: %d runs", d.Job, d.Tick.Format(time.RFC3339), d.N))
	}
	if len(dups) > 0 {
		c.fail("%d job ticks ran more than once: %v", len(dups), c.dupTicks)
	}
	var runs []struct {
		Job     string `db:"job"`
		Outcome string `db:"outcome"`
		N       int64  `db:"n"`
	}
	if err := w.db.SelectContext(ctx, &runs, `SELECT job, outcome, COUNT(*) AS n FROM job_runs WHERE origin = 'schedule' GROUP BY job, outcome`); err != nil {
		c.fail("read job runs: %v", err)
		return
	}
	for _, r := range runs {
		v := c.jobRuns[r.Job]
		if r.Outcome == "ok" {
			v[0] += r.N
		} else {
			v[1] += r.N
		}
		c.jobRuns[r.Job] = v
	}
}

// window is the requests that fell in one stretch of time.
type window struct {
	name     string
	from, to time.Time
	target   int // -1: any instance
}

// in says whether the request was under way during the window.
func (wd window) in(r traced) bool {
	return (wd.target < 0 || r.target == wd.target) && !r.start.After(wd.to) && !r.start.Add(r.dur).Before(wd.from)
}

// report prints the fault timeline, the requests during each fault and
// outside them, and the checks.
func (c *checks) report(out io.Writer, w *world, l *load, t0 time.Time) {
	fmt.Fprintln(out, "\nFaults:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\tfrom\tto\tlasted\tnote")
	var windows []window
	for _, e := range w.events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.name, e.start.Sub(t0).Round(time.Second), e.end.Sub(t0).Round(time.Second),
			e.end.Sub(e.start).Round(100*time.Millisecond), e.note)
		wd := window{name: e.name, from: e.start, to: e.end, target: -1}
		if len(e.name) > 7 && e.name[:7] == "SIGKILL" {
			// Only the requests in flight to the killed instance when it
			// died; afterwards it is out of rotation.
			for i, in := range w.instances {
				if e.name == "SIGKILL "+in.url() {
					wd.target = i
				}
			}
			wd.to = e.start.Add(500 * time.Millisecond)
		}
		if e.name == "MySQL cut" {
			wd.to = e.end.Add(2 * time.Second) // the pools reconnect
		}
		windows = append(windows, wd)
	}
	tw.Flush()

	// Each request belongs to the first window it overlaps, else "outside".
	type tally struct {
		n, failed int
		codes     map[int]int
		durs      []time.Duration
	}
	byWindow := map[string]*tally{}
	get := func(name string) *tally {
		if byWindow[name] == nil {
			byWindow[name] = &tally{codes: map[int]int{}}
		}
		return byWindow[name]
	}
	l.trace.mu.Lock()
	for _, r := range l.trace.reqs {
		name := "outside the faults"
		for _, wd := range windows {
			if wd.in(r) {
				name = wd.name
				break
			}
		}
		t := get(name)
		t.n++
		t.durs = append(t.durs, r.dur)
		if r.err {
			t.failed++
			t.codes[r.status]++
		}
	}
	l.trace.mu.Unlock()
	fmt.Fprintln(out, "\nRequests during each fault (failed: status → count; 0 = transport error):")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\trequests\tfailed\tp50 ms\tp99 ms\tmax ms\tfailures\t")
	for _, name := range append(names(windows), "outside the faults") {
		t := byWindow[name]
		if t == nil {
			continue
		}
		slices.Sort(t.durs)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%v\t\n", name, t.n, t.failed, ms(pct(t.durs, .5)), ms(pct(t.durs, .99)), ms(pct(t.durs, 1)), t.codes)
	}
	tw.Flush()
	// Expected failures: the MySQL window's 503s, the killed instance's
	// requests in flight. Anything else is a problem.
	for name, t := range byWindow {
		for code, n := range t.codes {
			switch {
			case name == "MySQL cut" && code == 503:
			case len(name) > 7 && name[:7] == "SIGKILL" && code == 0:
			default:
				c.fail("%d requests failed with status %d during %q", n, code, name)
			}
		}
		if name == "MySQL cut" && pct(t.durs, .99) > 2*time.Second {
			c.fail("while MySQL was down p99 was %s (target under 2 s)", pct(t.durs, .99))
		}
	}

	fmt.Fprintln(out, "\nAfter the load:")
	fmt.Fprintf(out, "  instances ready again: %d of %d\n", c.readyAtEnd, len(w.instances))
	fmt.Fprintf(out, "  notifications drained %s after the load ended (backlog %d)\n", c.drained.Round(time.Second), c.backlog)
	fmt.Fprintf(out, "  reminders created by the load: %d, notifications %d, delivered exactly once: %d (the fake recorded %d work notifications)\n",
		c.reminders, c.messages, c.onceEach, c.deliveries)
	fmt.Fprintf(out, "  notification batches: %d, of which sent more than once (a failed or unanswered attempt retried): %d\n", c.batches, c.retried)
	fmt.Fprintf(out, "  scheduled job runs (ok / failed or skipped):")
	jobs := make([]string, 0, len(c.jobRuns))
	for j := range c.jobRuns {
		jobs = append(jobs, j)
	}
	slices.Sort(jobs)
	for _, j := range jobs {
		fmt.Fprintf(out, " %s %d/%d", j, c.jobRuns[j][0], c.jobRuns[j][1])
	}
	fmt.Fprintf(out, "\n  job ticks run more than once: %d\n", len(c.dupTicks))
	for _, m := range c.manual {
		fmt.Fprintf(out, "  run by hand: %s\n", m)
	}
}

func names(ws []window) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.name
	}
	return out
}
