// Command crmload drives running CRM instances with a realistic mix of
// requests — salespeople browsing, searching, opening customers, adding
// follow-ups, sales and reminders; managers reading reports — for a bounded
// time and number of requests, then prints throughput, p50/p95/p99 per
// route, errors, the instances' memory and goroutines over time, and
// whether every write that was acknowledged can be read back.
//
// It only talks to loopback addresses and only to CRMs in simulated mode
// (it signs in with the dev login). With -faults it starts its own CRMs,
// Redis, MySQL proxy and fake DingTalk, breaks each during the load and
// checks nothing was lost or done twice (fault.go). See docs/load.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crmload:", err)
		os.Exit(1)
	}
}

// Bounds no flag can exceed: the tool is a test, not a flood.
const (
	maxDuration = 30 * time.Minute
	maxRequests = 5_000_000
	maxWorkers  = 256
)

type options struct {
	targets  []string
	duration time.Duration
	requests int64
	workers  int
	think    time.Duration
	sample   time.Duration
	verify   bool
	// faults: the fault run (fault.go) instead of driving -targets.
	faults bool
	fault  faultOptions
}

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("crmload", flag.ContinueOnError)
	fs.SetOutput(out)
	targets := fs.String("targets", "http://127.0.0.1:8080", "comma-separated base URLs of the instances (loopback only; ignored with -faults)")
	o := options{}
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long to run (at most 30m)")
	fs.Int64Var(&o.requests, "requests", 1_000_000, "stop after this many requests (at most 5,000,000)")
	fs.IntVar(&o.workers, "workers", 24, "simulated people working at once (at most 256)")
	fs.DurationVar(&o.think, "think", 20*time.Millisecond, "pause between one person's requests")
	fs.DurationVar(&o.sample, "sample", 15*time.Second, "how often to read each instance's /metrics")
	fs.BoolVar(&o.verify, "verify", true, "after the run, read back every acknowledged write")
	fs.BoolVar(&o.faults, "faults", false, "the fault run: start -instances CRMs, a private Redis, a MySQL proxy and a fake DingTalk, break each during the load, check (docs/load.md)")
	fs.StringVar(&o.fault.crm, "crm", "", "fault run: the crm binary to start")
	fs.StringVar(&o.fault.mysqlDSN, "mysql", "root@tcp(127.0.0.1:3306)/", "fault run: the MySQL server (loopback); a fresh crm_fault_* database is created and dropped")
	fs.StringVar(&o.fault.redis, "redis-server", "redis-server", "fault run: the redis-server binary (a private one is started)")
	fs.IntVar(&o.fault.instances, "instances", 3, "fault run: how many CRM processes (1 to 5)")
	fs.DurationVar(&o.fault.drain, "drain", 6*time.Minute, "fault run: how long after the load the notifications may take to drain")
	fs.BoolVar(&o.fault.keep, "keep", false, "fault run: keep the database and the logs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimRight(strings.TrimSpace(t), "/")
		if err := loopback(t); err != nil {
			return o, err
		}
		o.targets = append(o.targets, t)
	}
	switch {
	case o.duration <= 0 || o.duration > maxDuration:
		return o, fmt.Errorf("-duration must be above 0 and at most %s", maxDuration)
	case o.requests <= 0 || o.requests > maxRequests:
		return o, fmt.Errorf("-requests must be above 0 and at most %d", maxRequests)
	case o.workers <= 0 || o.workers > maxWorkers:
		return o, fmt.Errorf("-workers must be above 0 and at most %d", maxWorkers)
	case o.sample < time.Second:
		return o, errors.New("-sample must be at least 1s")
	case o.think < 0:
		return o, errors.New("-think must not be negative")
	case o.faults && o.fault.crm == "":
		return o, errors.New("-faults needs -crm, the crm binary (go build -o /tmp/crm ./cmd/crm)")
	case o.faults && (o.fault.instances < 1 || o.fault.instances > 5):
		return o, errors.New("-instances must be 1 to 5")
	case o.faults && (o.fault.drain <= 0 || o.fault.drain > 15*time.Minute):
		return o, errors.New("-drain must be above 0 and at most 15m")
	}
	return o, nil
}

// loopback refuses any target that is not this machine.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q is not an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("target %q is not a loopback address; crmload only loads this machine", raw)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	if o.faults {
		return runFaults(ctx, o, o.fault, out)
	}
	l := newLoad(o)
	if err := l.prepare(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "crmload: %d instance(s), %d workers, %s or %d requests; routes: %s\n",
		len(o.targets), o.workers, o.duration, o.requests, strings.Join(l.features(), ", "))
	start := time.Now()
	l.drive(ctx)
	elapsed := time.Since(start)
	var v *verification
	if o.verify {
		v = l.verifyWrites(context.WithoutCancel(ctx))
	}
	l.report(out, elapsed, v)
	if l.stats.errors() > 0 || (v != nil && v.missing > 0) {
		return fmt.Errorf("%d failed requests, %d acknowledged writes missing", l.stats.errors(), v.missingOrZero())
	}
	return nil
}
