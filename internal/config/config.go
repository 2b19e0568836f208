// Package config is the CRM's one typed configuration: defaults that run with
// no file at all, overridden by a YAML file and then by CRM_* variables.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is everything the binary can be told. Field tags name the YAML key;
// `mask:"true"` marks secrets that are never logged.
type Config struct {
	HTTP     HTTP     `yaml:"http"`
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	Timezone string   `yaml:"timezone"`
	Lang     string   `yaml:"lang"`
	Session  Session  `yaml:"session"`
	DingTalk DingTalk `yaml:"dingtalk"`
	Log      Log      `yaml:"log"`
	Backup   Backup   `yaml:"backup"`
	Metrics  Metrics  `yaml:"metrics"`
}

// Backup is where the scheduled backups go and how many are kept.
type Backup struct {
	// Dir holds the archives; empty means data_dir/backups.
	Dir string `yaml:"dir"`
	// Keep is how many scheduled backups are kept (the newest); an admin's
	// setting in the web app (系统维护) beats it.
	Keep int `yaml:"keep"`
	// MaxUploadBytes caps an archive uploaded in the web app.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
}

// Metrics guards GET /metrics: it answers loopback callers that came through
// no proxy, and anyone presenting Token as a bearer token.
type Metrics struct {
	Token string `yaml:"token" mask:"true"`
}

// HTTP is the listener.
type HTTP struct {
	Addr string `yaml:"addr"`
	// MaxBodyBytes caps a request body; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// WebDir, when set, serves the web app from this folder instead of the
	// embedded copy, so front-end work needs no rebuild.
	WebDir string `yaml:"web_dir"`
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ShutdownTimeout is how long a stopping server waits for requests in
	// flight and running jobs to finish.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// CallbackRatePerMinute caps the requests per minute one address may
	// send to DingTalk's callbacks (/dingtalk/events, /dingtalk/robot),
	// counted in Redis when configured so it holds across instances.
	CallbackRatePerMinute int64 `yaml:"callback_rate_per_minute"`
}

// Database selects the engine.
type Database struct {
	Driver string `yaml:"driver"` // sqlite | mysql
	DSN    string `yaml:"dsn" mask:"true"`
	// AutoMigrate applies pending migrations at start. Always true for SQLite;
	// for MySQL it is the --migrate flag.
	AutoMigrate bool `yaml:"auto_migrate"`
}

// Redis is optional: empty Addr keeps shared state in-process.
type Redis struct {
	Addr     string `yaml:"addr"`
	Password string `yaml:"password" mask:"true"`
	DB       int    `yaml:"db"`
	Prefix   string `yaml:"prefix"`
}

// Session governs login sessions.
type Session struct {
	TTL time.Duration `yaml:"ttl"`
	// Secure forces the Secure cookie flag (set it behind a TLS proxy).
	Secure bool `yaml:"secure"`
}

// DingTalk holds the app credentials. Mode "simulated" runs a built-in fake
// organization so the CRM can be tried with no DingTalk at all.
type DingTalk struct {
	Mode      string `yaml:"mode"` // simulated | real
	AppKey    string `yaml:"app_key"`
	AppSecret string `yaml:"app_secret" mask:"true"`
	AgentID   string `yaml:"agent_id"`
	CorpID    string `yaml:"corp_id"`
	// CallbackToken and AESKey verify and decrypt event callbacks
	// (开发配置 > 事件订阅); the AES key is 43 characters.
	CallbackToken string `yaml:"callback_token" mask:"true"`
	AESKey        string `yaml:"aes_key" mask:"true"`
	// Transport for events: http (a public callback URL) or stream (no
	// public URL needed).
	Transport string `yaml:"transport"`
	// QPS is this instance's per-API call rate; with N instances use 15/N.
	QPS float64 `yaml:"qps"`
	// PublicURL is where DingTalk and browsers reach the CRM, for the OAuth
	// redirect (e.g. https://crm.example.com).
	PublicURL string `yaml:"public_url"`
	// LeaverCustomers says where a leaver's customers go: manager (their
	// department's manager) or pool (the public pool).
	LeaverCustomers string `yaml:"leaver_customers"`
	// OAPIBaseURL, APIBaseURL and LoginBaseURL point the client elsewhere
	// (a proxy, or a fake in tests); empty means DingTalk's own hosts.
	OAPIBaseURL  string `yaml:"oapi_base_url"`
	APIBaseURL   string `yaml:"api_base_url"`
	LoginBaseURL string `yaml:"login_base_url"`
}

// Log sets the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// Default returns a Config that runs on a bare machine: SQLite under ./data,
// no Redis, a simulated DingTalk organization.
func Default() Config {
	return Config{
		HTTP:     HTTP{Addr: "127.0.0.1:8080", MaxBodyBytes: 1 << 20, ShutdownTimeout: 30 * time.Second, CallbackRatePerMinute: 600},
		DataDir:  "data",
		Database: Database{Driver: "sqlite"},
		Redis:    Redis{Prefix: "crm:"},
		Timezone: "Asia/Shanghai",
		Lang:     "zh-CN",
		Session:  Session{TTL: 7 * 24 * time.Hour},
		DingTalk: DingTalk{Mode: "simulated", Transport: "http", QPS: 15, LeaverCustomers: "manager"},
		Log:      Log{Level: "info", Format: "text"},
		Backup:   Backup{Keep: 7, MaxUploadBytes: 64 << 20},
	}
}

// Load builds the Config: defaults, then the YAML file at path (if any), then
// the environment.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: read %s: %w", path, err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config: parse %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "crm.db") }

// BackupDir is where backups are written and listed.
func (c Config) BackupDir() string {
	if c.Backup.Dir != "" {
		return c.Backup.Dir
	}
	return filepath.Join(c.DataDir, "backups")
}

// Simulated reports whether DingTalk is the built-in fake organization.
func (c Config) Simulated() bool { return c.DingTalk.Mode == "simulated" }

// Location is the company time zone (validated, so never nil after Validate).
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks every field and returns all problems at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr (CRM_HTTP_ADDR)", "%q is not host:port", c.HTTP.Addr)
	}
	if c.HTTP.CallbackRatePerMinute < 1 {
		bad("http.callback_rate_per_minute", "must be at least 1, got %d", c.HTTP.CallbackRatePerMinute)
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		bad("http.max_body_bytes", "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.DataDir == "" {
			bad("data_dir (CRM_DATA_DIR)", "must not be empty with the sqlite driver")
		}
	case "mysql":
		if c.Database.DSN == "" {
			bad("database.dsn (CRM_DATABASE_DSN)", "is required with the mysql driver, e.g. user:pass@tcp(127.0.0.1:3306)/crm")
		}
	default:
		bad("database.driver (CRM_DATABASE_DRIVER)", "must be sqlite or mysql, got %q", c.Database.Driver)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		bad("timezone (CRM_TIMEZONE)", "unknown time zone %q", c.Timezone)
	}
	if c.Lang != "zh-CN" && c.Lang != "en" {
		bad("lang (CRM_LANG)", "must be zh-CN or en, got %q", c.Lang)
	}
	if c.Session.TTL < time.Minute {
		bad("session.ttl (CRM_SESSION_TTL)", "must be at least 1m, got %s", c.Session.TTL)
	}
	switch c.DingTalk.Mode {
	case "simulated":
	case "real":
		if c.DingTalk.AppKey == "" || c.DingTalk.AppSecret == "" {
			bad("dingtalk", "mode real needs app_key and app_secret")
		}
	default:
		bad("dingtalk.mode (CRM_DINGTALK_MODE)", "must be simulated or real, got %q", c.DingTalk.Mode)
	}
	if c.DingTalk.Transport != "http" && c.DingTalk.Transport != "stream" {
		bad("dingtalk.transport (CRM_DINGTALK_TRANSPORT)", "must be http or stream, got %q", c.DingTalk.Transport)
	}
	if c.DingTalk.QPS <= 0 || c.DingTalk.QPS > 20 {
		bad("dingtalk.qps (CRM_DINGTALK_QPS)", "must be above 0 and at most DingTalk's 20, got %g", c.DingTalk.QPS)
	}
	if c.DingTalk.LeaverCustomers != "manager" && c.DingTalk.LeaverCustomers != "pool" {
		bad("dingtalk.leaver_customers (CRM_DINGTALK_LEAVER_CUSTOMERS)", "must be manager or pool, got %q", c.DingTalk.LeaverCustomers)
	}
	if k := c.DingTalk.AESKey; k != "" && len(k) != 43 {
		bad("dingtalk.aes_key (CRM_DINGTALK_AES_KEY)", "must be 43 characters, got %d", len(k))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level (CRM_LOG_LEVEL)", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.HTTP.ShutdownTimeout < time.Second {
		bad("http.shutdown_timeout (CRM_HTTP_SHUTDOWN_TIMEOUT)", "must be at least 1s, got %s", c.HTTP.ShutdownTimeout)
	}
	if c.Backup.Keep < 1 || c.Backup.Keep > 1000 {
		bad("backup.keep (CRM_BACKUP_KEEP)", "must be between 1 and 1000, got %d", c.Backup.Keep)
	}
	if c.Backup.MaxUploadBytes < 1<<20 {
		bad("backup.max_upload_bytes (CRM_BACKUP_MAX_UPLOAD_BYTES)", "must be at least 1048576, got %d", c.Backup.MaxUploadBytes)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format (CRM_LOG_FORMAT)", "must be text or json, got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}
