package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// backupBenchCmd is `crmbench backup`: on the database at --dsn it times
// `crm backup` against `mysqldump --single-transaction --quick`, and `crm
// restore` into an empty database against loading the dump with `mysql`,
// in the same run, and reports each process's peak memory (max RSS from
// the kernel's rusage). Both restored copies are compared with the source
// and dropped afterwards.
func backupBenchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "root@tcp(127.0.0.1:3306)/crm_bench", "MySQL DSN of the seeded database")
	keep := fs.Bool("keep", false, "keep the dump, the archive and the restored databases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := mysql.ParseDSN(*dsn)
	if err != nil {
		return fmt.Errorf("bad dsn: %w", err)
	}
	dir, err := os.MkdirTemp("", "crmbench-backup-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "crm")
	if err := buildServer(ctx, bin, stderr); err != nil {
		return err
	}
	b := backupBench{src: cfg, dir: dir, bin: bin, stderr: stderr}
	if err := b.describe(ctx, stdout); err != nil {
		return err
	}
	results, err := b.runAll(ctx)
	if !*keep {
		for _, db := range []string{b.name("crm"), b.name("mysql")} {
			b.server(ctx, "DROP DATABASE IF EXISTS `"+db+"`")
		}
	}
	if err != nil {
		return err
	}
	printBackupTable(results, stdout)
	return nil
}

type backupBench struct {
	src    *mysql.Config
	dir    string
	bin    string
	stderr io.Writer
	rows   int64
}

// name is the database a restore goes to: <source>_r_<how>.
func (b backupBench) name(how string) string { return b.src.DBName + "_r_" + how }

func (b backupBench) dsnOf(db string) string {
	c := b.src.Clone()
	c.DBName = db
	return c.FormatDSN()
}

func (b backupBench) server(ctx context.Context, q string) error {
	c := b.src.Clone()
	c.DBName = ""
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}

// describe prints the machine and the source's sizes.
func (b *backupBench) describe(ctx context.Context, w io.Writer) error {
	db, err := sql.Open("mysql", b.dsnOf(b.src.DBName))
	if err != nil {
		return err
	}
	defer db.Close()
	var pool int64
	var version string
	db.QueryRowContext(ctx, "SELECT @@innodb_buffer_pool_size, VERSION()").Scan(&pool, &version)
	fmt.Fprintf(w, "database %s on %s (buffer pool %d MiB), %s, %d CPU, %s\n\n", b.src.DBName, version, pool>>20,
		runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	rows, err := db.QueryContext(ctx, `SELECT table_name, table_rows, data_length + index_length FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_rows > 1000 ORDER BY table_rows DESC`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n, size int64
		if err := rows.Scan(&name, &n, &size); err != nil {
			return err
		}
		var exact int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+name+"`").Scan(&exact); err != nil {
			return err
		}
		b.rows += exact
		fmt.Fprintf(w, "  %-16s %11d rows  %6d MiB on disk\n", name, exact, size>>20)
	}
	fmt.Fprintln(w)
	return rows.Err()
}

// stepResult is one timed process.
type stepResult struct {
	what  string
	took  time.Duration
	maxKB int64
	bytes int64
	note  string
}

func (b *backupBench) runAll(ctx context.Context) ([]stepResult, error) {
	dump := filepath.Join(b.dir, "dump.sql")
	archive := filepath.Join(b.dir, "bench.crmbak")
	mysqlArgs := []string{"-h", hostOf(b.src.Addr), "-P", portOf(b.src.Addr), "-u", b.src.User}
	var out []stepResult

	r, err := b.timed(ctx, "mysqldump --single-transaction --quick", exec.CommandContext(ctx, "mysqldump",
		append(append([]string{}, mysqlArgs...), "--single-transaction", "--quick", "--skip-lock-tables", b.src.DBName)...), dump, "")
	if err != nil {
		return out, err
	}
	out = append(out, r)
	r, err = b.timed(ctx, "crm backup", exec.CommandContext(ctx, b.bin, "backup", "-o", archive), "", "")
	if err != nil {
		return out, err
	}
	r.bytes = fileSize(archive)
	out = append(out, r)

	for _, how := range []string{"mysql", "crm"} {
		b.server(ctx, "DROP DATABASE IF EXISTS `"+b.name(how)+"`")
		if err := b.server(ctx, "CREATE DATABASE `"+b.name(how)+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			return out, err
		}
	}
	r, err = b.timed(ctx, "mysql < dump.sql", exec.CommandContext(ctx, "mysql", append(append([]string{}, mysqlArgs...), b.name("mysql"))...), "", dump)
	if err != nil {
		return out, err
	}
	out = append(out, r)
	r, err = b.timed(ctx, "crm restore", exec.CommandContext(ctx, b.bin, "restore", "--to-driver", "mysql",
		"--to-dsn", b.dsnOf(b.name("crm")), archive), "", "")
	if err != nil {
		return out, err
	}
	out = append(out, r)
	for _, how := range []string{"mysql", "crm"} {
		if err := b.compare(ctx, b.name(how)); err != nil {
			return out, fmt.Errorf("%s copy: %w", how, err)
		}
	}
	return out, nil
}

// timed runs cmd (stdout to file when set, stdin from file when set) with
// the CRM's environment pointed at the source, and measures it.
func (b *backupBench) timed(ctx context.Context, what string, cmd *exec.Cmd, stdoutFile, stdinFile string) (stepResult, error) {
	fmt.Fprintf(b.stderr, "running %s …\n", what)
	cmd.Env = append(envWithoutCRM(), "CRM_DATABASE_DRIVER=mysql", "CRM_DATABASE_DSN="+b.dsnOf(b.src.DBName),
		"CRM_DATA_DIR="+b.dir, "CRM_LOG_LEVEL=warn")
	if b.src.Passwd != "" {
		cmd.Env = append(cmd.Env, "MYSQL_PWD="+b.src.Passwd)
	}
	cmd.Stderr = io.Discard
	if stdoutFile != "" {
		f, err := os.Create(stdoutFile)
		if err != nil {
			return stepResult{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	if stdinFile != "" {
		f, err := os.Open(stdinFile)
		if err != nil {
			return stepResult{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return stepResult{}, fmt.Errorf("%s: %w", what, err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	r := stepResult{what: what, took: time.Since(start), maxKB: peak()}
	if err != nil {
		return stepResult{}, fmt.Errorf("%s: %w", what, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && r.maxKB == 0 {
		r.maxKB = ru.Maxrss
	}
	if stdoutFile != "" {
		r.bytes = fileSize(stdoutFile)
	}
	fmt.Fprintf(b.stderr, "  %s in %s\n", what, r.took.Round(time.Second))
	return r, nil
}

// compare checks a restored copy against the source: row counts of every
// table and CHECKSUM TABLE of customers and sales.
func (b *backupBench) compare(ctx context.Context, copyDB string) error {
	db, err := sql.Open("mysql", b.dsnOf(b.src.DBName))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, t := range []string{"customers", "sales", "customer_grams", "audit_log", "users"} {
		var a, c int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+t+"`").Scan(&a); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+copyDB+"`.`"+t+"`").Scan(&c); err != nil {
			return err
		}
		if a != c {
			return fmt.Errorf("table %s: %d rows in the source, %d in the copy", t, a, c)
		}
	}
	for _, t := range []string{"customers", "sales"} {
		var n1, n2 string
		var s1, s2 sql.NullInt64
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE `"+t+"`").Scan(&n1, &s1); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE `"+copyDB+"`.`"+t+"`").Scan(&n2, &s2); err != nil {
			return err
		}
		if s1 != s2 {
			return fmt.Errorf("table %s: CHECKSUM TABLE differs (%v vs %v)", t, s1, s2)
		}
	}
	return nil
}

func printBackupTable(rs []stepResult, w io.Writer) {
	fmt.Fprintf(w, "| step | time | peak RSS | output |\n|---|---:|---:|---:|\n")
	for _, r := range rs {
		size := ""
		if r.bytes > 0 {
			size = fmt.Sprintf("%d MiB", r.bytes>>20)
		}
		fmt.Fprintf(w, "| %s | %s | %d MiB | %s |\n", r.what, r.took.Round(100*time.Millisecond), r.maxKB>>10, size)
	}
	if len(rs) == 4 {
		fmt.Fprintf(w, "\nbackup: crm / mysqldump = %.2f×   restore: crm / mysql load = %.2f×   (target ≤ 2×)\n",
			rs[1].took.Seconds()/rs[0].took.Seconds(), rs[3].took.Seconds()/rs[2].took.Seconds())
	}
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func hostOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[:i]
	}
	return addr
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return "3306"
}

// watchPeakRSS samples the process's VmHWM (its own peak resident size)
// every 20 ms until the returned function is called, which gives the last
// sample. The kernel's rusage is not used first because a child's
// ru_maxrss starts at the resident size of the parent that forked it, a
// floor that hides small programs like mysqldump behind crmbench's own.
func watchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if mem, err := readProcStatus(pid); err == nil {
				peak.Store(max(peak.Load(), mem["VmHWM"]))
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
