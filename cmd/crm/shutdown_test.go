package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown builds the real binary, starts it, begins a slow
// request (the body trickles in), sends SIGTERM in the middle of it, and
// checks that the request still completes with its answer, that new
// connections are refused meanwhile, that the process exits cleanly, and
// that the JSON log has the request with its request id.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crm")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "CRM_HTTP_ADDR="+addr, "CRM_DATA_DIR="+dir, "CRM_DATABASE_DRIVER=sqlite",
		"CRM_REDIS_ADDR=", "CRM_LOG_FORMAT=json", "CRM_HTTP_SHUTDOWN_TIMEOUT=20s")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A slow client: headers now, the body in two halves around SIGTERM.
	body := `{"userid":"sim_admin"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/dev-login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"X-Request-ID: slow-request-0001\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:8])
	time.Sleep(300 * time.Millisecond) // the server has read the headers: the request is in flight
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes at once: new connections are refused.
	refused := false
	for i := 0; i < 50 && !refused; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections were still accepted after SIGTERM")
	}
	select {
	case err := <-exited:
		t.Fatalf("the server exited with a request in flight: %v\n%s", err, logs.String())
	case <-time.After(time.Second):
	}
	fmt.Fprint(conn, body[8:])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v\n%s", err, logs.String())
	}
	var out struct {
		User map[string]any `json:"user"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out.User == nil {
		t.Fatalf("in-flight request: %d %+v", resp.StatusCode, out)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop after the request finished")
	}

	// The log is JSON, one object a line; the slow request is there with
	// its request id, and so are the shutdown messages.
	var sawRequest, sawStopped bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		if rec["msg"] == "http" && rec["request_id"] == "slow-request-0001" && rec["status"] == float64(200) {
			sawRequest = true
		}
		if rec["msg"] == "stopped" {
			sawStopped = true
		}
	}
	if !sawRequest || !sawStopped {
		t.Fatalf("log lacks the request (%v) or the stop (%v):\n%s", sawRequest, sawStopped, logs.String())
	}
}
