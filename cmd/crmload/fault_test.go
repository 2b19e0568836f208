package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestFaultRun is the fault run in its shortened form (CI): three crm
// processes built from this tree on a fresh MySQL database and a private
// Redis, a minute of load with the four faults compressed into it — one
// instance killed with SIGKILL and restarted, Redis killed and started
// again empty, every MySQL connection cut and new ones refused, the fake
// DingTalk down — then the checks: acknowledged writes read back, every
// reminder delivered exactly once, no job tick run twice, every instance
// ready again, failures only where a fault explains them, 503s fast while
// MySQL is down. `crmload -faults -duration 10m` is the full form
// (docs/load.md).
func TestFaultRun(t *testing.T) {
	dsn := os.Getenv("CRM_TEST_MYSQL_DSN")
	_, redisErr := exec.LookPath("redis-server")
	goBin, goErr := exec.LookPath("go")
	switch {
	case dsn == "" || redisErr != nil || goErr != nil:
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the fault run cannot start: CRM_TEST_MYSQL_DSN=%q, redis-server: %v, go: %v", dsn, redisErr, goErr)
		}
		t.Skip("the fault run needs CRM_TEST_MYSQL_DSN, redis-server and the go tool")
	case testing.Short():
		t.Skip("the fault run takes about three minutes; not with -short")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	bin := filepath.Join(t.TempDir(), "crm")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/dingcrm/crm/cmd/crm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build crm: %v\n%s", err, out)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	err = run(ctx, []string{"-faults", "-crm", bin, "-mysql", cfg.FormatDSN(), "-duration", "60s", "-workers", "6",
		"-sample", "15s", "-drain", "3m"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	// The faults happened (a run whose faults silently did nothing would
	// pass every check): four in the timeline, 503s while MySQL was down,
	// and batches retried after DingTalk came back.
	report := out.String()
	for _, f := range []string{"SIGKILL http://", "Redis down ", "MySQL cut ", "DingTalk down "} {
		if !strings.Contains(report, "\n"+f) {
			t.Errorf("fault %q missing from the timeline", f)
		}
	}
	if m := regexp.MustCompile(`MySQL cut\s+\d+\s+(\d+)\s`).FindStringSubmatch(report); m == nil || m[1] == "0" {
		t.Errorf("no request answered 503 while MySQL was down: %v", m)
	}
	m := regexp.MustCompile(`sent more than once \(a failed or unanswered attempt retried\): (\d+)`).FindStringSubmatch(report)
	if m == nil {
		t.Error("no retried-batches line in the report")
	} else if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Error("no notification batch was retried: DingTalk's outage was not felt")
	}
}
