package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rssOptions are the flags of `crmbench idle-rss`.
type rssOptions struct {
	settle  time.Duration
	limitMB float64
	keep    bool
}

func parseRSSFlags(args []string, stderr io.Writer) (rssOptions, error) {
	var o rssOptions
	fs := flag.NewFlagSet("idle-rss", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "how long the server idles after /healthz answers before measuring")
	fs.Float64Var(&o.limitMB, "limit-mb", 60, "target: idle resident memory below this many MB (10^6 bytes)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (binary, data, server log)")
	return o, fs.Parse(args)
}

func idleRSSCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRSSFlags(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "crmbench-rss-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "crm")
	if err := buildServer(ctx, bin, stderr); err != nil {
		return err
	}
	mem, err := measureIdle(ctx, bin, dir, o.settle)
	if err != nil {
		return err
	}
	return reportRSS(bin, mem, o, stdout)
}

// buildServer builds the real binary exactly as a release would, without
// the race detector or coverage that would inflate its memory.
func buildServer(ctx context.Context, bin string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/dingcrm/crm/cmd/crm")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the server (run from inside the repository): %w", err)
	}
	return nil
}

// procMemory is what /proc/PID/status says about a process's memory, in kB.
type procMemory map[string]int64

// measureIdle starts the server on a fresh data folder with the embedded
// default (SQLite, simulated organization, no Redis), waits until it
// answers /healthz, lets it idle, reads its memory and stops it.
func measureIdle(ctx context.Context, bin, dir string, settle time.Duration) (procMemory, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(envWithoutCRM(), "CRM_DATA_DIR="+filepath.Join(dir, "data"), "CRM_HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer stopServer(cmd)
	if err := waitHealthy(ctx, "http://"+addr+"/healthz", 60*time.Second); err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, logFile.Name())
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return readProcStatus(cmd.Process.Pid)
}

// envWithoutCRM is this environment minus CRM_* settings, so the server
// runs on its built-in defaults whatever the caller's shell exports.
func envWithoutCRM() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CRM_") {
			out = append(out, kv)
		}
	}
	return out
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHealthy(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.New("the server did not answer /healthz in time")
}

// stopServer asks the server to shut down and kills it if it will not.
func stopServer(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func readProcStatus(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("read memory of the server (Linux only): %w", err)
	}
	defer f.Close()
	mem := procMemory{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			mem[key] = n
		}
	}
	if _, ok := mem["VmRSS"]; !ok {
		return nil, errors.New("no VmRSS in /proc status")
	}
	return mem, sc.Err()
}

// reportRSS prints the figures and fails when idle memory is over target.
func reportRSS(bin string, mem procMemory, o rssOptions, w io.Writer) error {
	mb := func(kb int64) float64 { return float64(kb) * 1024 / 1e6 }
	var size int64
	if st, err := os.Stat(bin); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(w, "idle server (SQLite, simulated organization, no Redis), %s after /healthz answered\n\n", o.settle)
	fmt.Fprintln(w, "| measure | value |")
	fmt.Fprintln(w, "|---|--:|")
	fmt.Fprintf(w, "| VmRSS (resident now) | %.1f MB |\n", mb(mem["VmRSS"]))
	fmt.Fprintf(w, "| of which RssAnon (heap, stacks) | %.1f MB |\n", mb(mem["RssAnon"]))
	fmt.Fprintf(w, "| of which RssFile (mapped binary) | %.1f MB |\n", mb(mem["RssFile"]))
	fmt.Fprintf(w, "| VmHWM (peak resident, incl. start-up) | %.1f MB |\n", mb(mem["VmHWM"]))
	fmt.Fprintf(w, "| binary size | %.1f MB |\n", float64(size)/1e6)
	result := "pass"
	if mb(mem["VmRSS"]) >= o.limitMB {
		result = "FAIL"
	}
	fmt.Fprintf(w, "| target | < %.0f MB: %s |\n\n", o.limitMB, result)
	if result != "pass" {
		return fmt.Errorf("idle VmRSS %.1f MB is over the %.0f MB target", mb(mem["VmRSS"]), o.limitMB)
	}
	return nil
}
