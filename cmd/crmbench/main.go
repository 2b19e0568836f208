// Command crmbench measures the CRM at scale: it bulk-loads a large
// realistic customer base into MySQL, times keyword search against a plain
// LIKE scan that must return the same rows, times filtered lists, and
// measures the idle memory of the real server. Targets are checked here,
// with the baseline measured in the same run, never in timed unit tests.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Usage: crmbench <command> [flags]

Commands:
  all          seed at a chosen scale and run every benchmark the issues
               name, each figure beside its baseline from the same run, in
               one table (needs the Go toolchain and this repository: the
               package benchmarks run through go test)
               flags: --dsn DSN --scale tiny|small|medium|full --customers N
               --only a,b --skip a,b --out FILE.md --strict --reseed
  seed         create/migrate a MySQL database and bulk-load customers
               flags: --dsn DSN --customers N --workers N --batch N --reset
  search       keyword search through the service vs LIKE scans, and the
               filtered list, p50/p95 for a salesperson and the admin
               flags: --dsn DSN --runs N --warmup N --budget D --sales-user ID --target X
  seed-sales   add sales records to a seeded database (each for an existing
               customer, by its owner)   flags: --dsn DSN --sales N --workers N
  backup       crm backup and crm restore against mysqldump and a mysql load
               of the same database in the same run: time and peak memory
               flags: --dsn DSN --keep
  check-index  compare a sample of the stored search index with what the
               application computes (seed runs it; useful after a migration)
               flags: --dsn DSN --sample N
  reports      load sales (two years, 200 people, 50,000 customers) into
               crm_bench_reports and time the monthly sales and performance
               reports (summaries) against the direct GROUP BY, per step
               flags: --dsn DSN --steps 100000,1000000 --customers N --runs N
  followups    add follow-ups to a seeded database (once) and time the
               follow-up list (COUNT + page) of a salesperson, a manager and
               the admin against the plain statement it replaced
               flags: --dsn DSN --followups N --runs N --warmup N
  idle-rss     build and start the real server with the embedded default
               (SQLite, simulated organization) and read its idle VmRSS
               flags: --settle D --limit-mb N --keep

Reproduce docs/benchmarks.md:
  go run ./cmd/crmbench all --scale full --out bench.md   # everything, 1,000,000 customers
  go run ./cmd/crmbench seed   --dsn 'root@tcp(127.0.0.1:3306)/crm_bench' --customers 1000000
  go run ./cmd/crmbench search --dsn 'root@tcp(127.0.0.1:3306)/crm_bench'
  go run ./cmd/crmbench idle-rss
  go run ./cmd/crmbench seed-sales --dsn 'root@tcp(127.0.0.1:3306)/crm_bench' --sales 1000000
  go run ./cmd/crmbench backup --dsn 'root@tcp(127.0.0.1:3306)/crm_bench'
  go run ./cmd/crmbench followups --dsn 'root@tcp(127.0.0.1:3306)/crm_bench' --followups 500000
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crmbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "all":
		return allCmd(ctx, rest, stdout, stderr)
	case "seed":
		return seedCmd(ctx, rest, stdout, stderr)
	case "search":
		return searchCmd(ctx, rest, stdout, stderr)
	case "idle-rss":
		return idleRSSCmd(ctx, rest, stdout, stderr)
	case "seed-sales":
		return seedSalesCmd(ctx, rest, stdout, stderr)
	case "backup":
		return backupBenchCmd(ctx, rest, stdout, stderr)
	case "reports":
		return reportsCmd(ctx, rest, stdout, stderr)
	case "check-index":
		return checkIndexCmd(ctx, rest, stdout, stderr)
	case "followups":
		return followupsCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
