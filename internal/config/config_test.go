package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsRunWithNoFile(t *testing.T) {
	cfg, err := Load("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8080" || cfg.Database.Driver != "sqlite" || !cfg.Simulated() {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestFileThenEnvOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crm.yaml")
	os.WriteFile(path, []byte("http:\n  addr: 0.0.0.0:9000\nlang: en\ntimezone: UTC\n"), 0o600)
	cfg, err := Load(path, envOf(map[string]string{"CRM_LANG": "zh-CN", "CRM_SESSION_TTL": "2h"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "0.0.0.0:9000" || cfg.Timezone != "UTC" {
		t.Errorf("file not applied: %+v", cfg)
	}
	if cfg.Lang != "zh-CN" || cfg.Session.TTL != 2*time.Hour {
		t.Errorf("env did not win: lang=%s ttl=%s", cfg.Lang, cfg.Session.TTL)
	}
}

func TestExampleFileLoads(t *testing.T) {
	cfg, err := Load("../../configs/crm.example.yaml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("example config invalid: %v", err)
	}
}

func TestUnknownKeyInFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.yaml")
	os.WriteFile(path, []byte("htp:\n  addr: x\n"), 0o600)
	if _, err := Load(path, envOf(nil)); err == nil {
		t.Fatal("a misspelt key must fail, not be ignored")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad driver", map[string]string{"CRM_DATABASE_DRIVER": "postgres"}, "must be sqlite or mysql"},
		{"mysql without dsn", map[string]string{"CRM_DATABASE_DRIVER": "mysql"}, "database.dsn"},
		{"bad addr", map[string]string{"CRM_HTTP_ADDR": "8080"}, "http.addr"},
		{"bad tz", map[string]string{"CRM_TIMEZONE": "Mars/Base"}, "unknown time zone"},
		{"bad lang", map[string]string{"CRM_LANG": "fr"}, "zh-CN or en"},
		{"real dingtalk without key", map[string]string{"CRM_DINGTALK_MODE": "real"}, "app_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
	if _, err := Load("", envOf(map[string]string{"CRM_REDIS_DB": "x"})); err == nil {
		t.Fatal("a non-number CRM_REDIS_DB must fail")
	}
}

func TestLogMasksSecrets(t *testing.T) {
	cfg := Default()
	cfg.Database.DSN = "crm:s3cret-pw@tcp(db:3306)/crm"
	cfg.Redis.Password = "redis-pw"
	cfg.DingTalk.AppSecret = "dt-secret"
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", cfg)
	out := buf.String()
	for _, secret := range []string{"s3cret-pw", "redis-pw", "dt-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "crm:***@tcp(db:3306)/crm") {
		t.Errorf("dsn not shown masked: %s", out)
	}
}
