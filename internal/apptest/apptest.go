// Package apptest starts the whole CRM in-process for HTTP and browser
// tests: the real App (migrations, seed, services, gin engine) on a fresh
// database, behind an httptest server.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// Server is a running CRM for a test.
type Server struct {
	URL string
	App *app.App
	srv *httptest.Server
	cfg config.Config
	log *slog.Logger
}

// Start runs the CRM on a fresh SQLite database with the simulated
// organization and demo customers.
func Start(t testing.TB) *Server { return StartOn(t, "sqlite") }

// Engines are the engines HTTP tests run on: SQLite always, MySQL (with
// Redis when configured) when CRM_TEST_MYSQL_DSN is set, and in CI.
func Engines(t testing.TB) []string {
	var out []string
	for _, e := range storetest.Engines(t) {
		out = append(out, e.Name)
	}
	return out
}

// StartOn runs the CRM on the named engine ("sqlite" or "mysql").
func StartOn(t testing.TB, engine string) *Server {
	t.Helper()
	return StartWith(t, Options{Engine: engine})
}

// Options change the CRM a test starts.
type Options struct {
	Engine string               // "sqlite" (the default) or "mysql"
	Config func(*config.Config) // adjusts the configuration before it is validated
	Log    *slog.Logger         // nil: discarded (stderr with CRM_TEST_LOG set)
}

// StartWith runs the CRM as o says.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if o.Engine == "mysql" {
		_, name := storetest.OpenEmptyMySQL(t)
		dsn, err := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
		if err != nil {
			t.Fatal(err)
		}
		dsn.DBName = name
		cfg.Database.Driver, cfg.Database.DSN, cfg.Database.AutoMigrate = "mysql", dsn.FormatDSN(), true
		if addr := os.Getenv("CRM_TEST_REDIS_ADDR"); addr != "" {
			b := make([]byte, 4)
			rand.Read(b)
			cfg.Redis.Addr, cfg.Redis.Prefix = addr, "crmtest:"+hex.EncodeToString(b)+":"
		} else if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CRM_TEST_REDIS_ADDR is not set")
		}
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	return startWith(t, cfg, o.Log)
}

// Another starts a second instance of the CRM on the same database and
// Redis as s, as a second server behind a load balancer would be.
func (s *Server) Another(t testing.TB) *Server {
	t.Helper()
	return startWith(t, s.cfg, s.log)
}

// Config is the configuration s runs with.
func (s *Server) Config() config.Config { return s.cfg }

func startWith(t testing.TB, cfg config.Config, log *slog.Logger) *Server {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if os.Getenv("CRM_TEST_LOG") != "" {
			log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &Server{URL: srv.URL, App: a, srv: srv, cfg: cfg, log: log}
}

// Client is a browser-like API client: a cookie jar and the CSRF header.
type Client struct {
	t     testing.TB
	base  string
	http  *http.Client
	CSRF  string
	Token string
	Lang  string
	Me    map[string]any
}

// Anonymous returns a client with no session.
func (s *Server) Anonymous(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: s.URL, http: &http.Client{Jar: jar}}
}

// Login signs in a simulated person and returns their client.
func (s *Server) Login(t testing.TB, userid string) *Client {
	t.Helper()
	c := s.Anonymous(t)
	var body struct {
		CSRF  string         `json:"csrf_token"`
		Token string         `json:"token"`
		User  map[string]any `json:"user"`
	}
	if st := c.Do("POST", "/api/v1/auth/dev-login", map[string]any{"userid": userid}, &body); st != 200 {
		t.Fatalf("login %s: status %d", userid, st)
	}
	c.CSRF, c.Token, c.Me = body.CSRF, body.Token, body.User
	return c
}

// Do sends a JSON request (body may be nil, a string of raw JSON, or a value)
// and decodes the answer into out (if non-nil); it returns the status.
func (c *Client) Do(method, path string, body any, out any) int {
	c.t.Helper()
	resp := c.Raw(method, path, body, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// Raw sends a request with extra headers and returns the response.
func (c *Client) Raw(method, path string, body any, headers map[string]string) *http.Response {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		enc, _ := json.Marshal(b)
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	if c.Lang != "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}
