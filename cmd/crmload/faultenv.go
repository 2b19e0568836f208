package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/dingcrm/crm/dingtalk/dingtalktest"
)

// The parts of the fault run's world that it can break: each one is the
// run's own (a private Redis, a proxy in front of MySQL, a fake DingTalk, the
// CRM processes), on loopback ports, so breaking it disturbs nobody else.

// freePort asks the kernel for a loopback port that is free now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// listenAgain listens on addr, retrying briefly: the port was ours a moment
// ago and the kernel may not have let it go yet.
func listenAgain(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// redisProc is a private redis-server without persistence: stopped and
// started again it comes back empty, as a Redis that lost its memory would
// (the harder case for the CRM: session cache, tick locks and rate-limit
// counters all gone).
type redisProc struct {
	bin, addr, logPath string
	port               int
	cmd                *exec.Cmd
}

func startRedis(bin, dir string) (*redisProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &redisProc{bin: bin, port: port, addr: fmt.Sprintf("127.0.0.1:%d", port), logPath: filepath.Join(dir, "redis.log")}
	return r, r.start()
}

func (r *redisProc) start() error {
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "yes")
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("redis-server: %w", err)
	}
	go func() { r.cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", r.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not start (see %s)", r.addr, r.logPath)
}

// stop kills the server (SIGKILL: Redis crashing, not a polite shutdown).
func (r *redisProc) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGKILL)
		for range 100 { // until the port is free again
			c, err := net.DialTimeout("tcp", r.addr, 100*time.Millisecond)
			if err != nil {
				return
			}
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// mysqlProxy forwards loopback connections to MySQL. cut closes every
// connection through it and refuses new ones until restore: MySQL gone for
// the CRMs (a restart, a network cut), while the database itself stays.
type mysqlProxy struct {
	upstream, addr string
	mu             sync.Mutex
	ln             net.Listener
	conns          map[net.Conn]bool
	wg             sync.WaitGroup
}

func startProxy(upstream string) (*mysqlProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &mysqlProxy{upstream: upstream, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	return p, nil
}

func (p *mysqlProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *mysqlProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *mysqlProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.upstream, 3*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, true)
	p.track(up, true)
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.track(c, false)
	p.track(up, false)
}

// cut closes the listener and every connection; it returns how many were
// open.
func (p *mysqlProxy) cut() int {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	n := len(p.conns) / 2
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	p.wg.Wait()
	return n
}

func (p *mysqlProxy) restore() error {
	ln, err := listenAgain(p.addr)
	if err != nil {
		return fmt.Errorf("mysql proxy: listen again on %s: %w", p.addr, err)
	}
	p.serve(ln)
	return nil
}

func (p *mysqlProxy) close() { p.cut() }

// fakeDingTalk serves one fake platform (the simulated organization) to
// every instance on a port of its own, so it can be taken down and brought
// back while its record of deliveries stays.
type fakeDingTalk struct {
	fake *dingtalktest.Server
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

func startFake() (*fakeDingTalk, error) {
	// QPS: the platform's 20 per API, shared by the instances (each is
	// told 20/N).
	f := &fakeDingTalk{fake: dingtalktest.New(dingtalktest.Options{Org: dingtalktest.SimulatedOrg()})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.fake.Close()
		return nil, err
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	return f, nil
}

func (f *fakeDingTalk) url() string { return "http://" + f.addr }

func (f *fakeDingTalk) serve(ln net.Listener) {
	srv := &http.Server{Handler: f.fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// down closes the port and every connection: calls are refused.
func (f *fakeDingTalk) down() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (f *fakeDingTalk) up() error {
	ln, err := listenAgain(f.addr)
	if err != nil {
		return fmt.Errorf("fake dingtalk: listen again on %s: %w", f.addr, err)
	}
	f.serve(ln)
	return nil
}

func (f *fakeDingTalk) close() {
	f.down()
	f.fake.Close()
}

// instance is one `crm serve` process.
type instance struct {
	n       int
	bin     string
	addr    string
	env     []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (in *instance) url() string { return "http://" + in.addr }

func (in *instance) start() error {
	logf, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	in.cmd = exec.Command(in.bin, "serve")
	in.cmd.Env = in.env
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	if err := in.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("instance %d: %w", in.n, err)
	}
	in.exited = make(chan struct{})
	go func() { in.cmd.Wait(); logf.Close(); close(in.exited) }()
	return nil
}

// waitReady polls /readyz until it answers 200 or the time is up.
func (in *instance) waitReady(ctx context.Context, c *http.Client, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-in.exited:
			return fmt.Errorf("instance %d exited while starting (see %s)", in.n, in.logPath)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if ready(ctx, c, in.url()) == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("instance %d not ready within %s (see %s)", in.n, within, in.logPath)
}

func ready(ctx context.Context, c *http.Client, base string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("/readyz: %d", resp.StatusCode)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (in *instance) kill() {
	if in.cmd != nil && in.cmd.Process != nil {
		in.cmd.Process.Signal(syscall.SIGKILL)
		<-in.exited
	}
}

// stop asks the process to shut down (SIGTERM) and waits a while.
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(40 * time.Second):
		in.kill()
	}
}

var errNoRedis = errors.New("redis-server not found")
