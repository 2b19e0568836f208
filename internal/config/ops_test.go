package config

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpsSettings: the backup, metrics and shutdown settings come from the
// environment, are validated, and the metrics token is never logged.
func TestOpsSettings(t *testing.T) {
	cfg, err := Load("", envOf(map[string]string{"CRM_BACKUP_KEEP": "3", "CRM_BACKUP_DIR": "/srv/b",
		"CRM_BACKUP_MAX_UPLOAD_BYTES": "2097152", "CRM_METRICS_TOKEN": "m-secret-token", "CRM_HTTP_SHUTDOWN_TIMEOUT": "45s"}))
	if err != nil || cfg.Validate() != nil {
		t.Fatalf("load: %v %v", err, cfg.Validate())
	}
	if cfg.Backup.Keep != 3 || cfg.BackupDir() != "/srv/b" || cfg.Backup.MaxUploadBytes != 2<<20 ||
		cfg.Metrics.Token != "m-secret-token" || cfg.HTTP.ShutdownTimeout != 45*time.Second {
		t.Fatalf("got %+v", cfg)
	}
	if d := Default(); d.BackupDir() != filepath.Join("data", "backups") {
		t.Fatalf("default backup dir %q", d.BackupDir())
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", cfg)
	if strings.Contains(buf.String(), "m-secret-token") {
		t.Errorf("log leaks the metrics token: %s", buf.String())
	}
	bad := Default()
	bad.Backup.Keep, bad.Backup.MaxUploadBytes, bad.HTTP.ShutdownTimeout = 0, 10, 0
	err = bad.Validate()
	for _, want := range []string{"CRM_BACKUP_KEEP", "CRM_BACKUP_MAX_UPLOAD_BYTES", "CRM_HTTP_SHUTDOWN_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation does not name %s: %v", want, err)
		}
	}
	if _, err := Load("", envOf(map[string]string{"CRM_BACKUP_KEEP": "many"})); err == nil {
		t.Error("CRM_BACKUP_KEEP=many accepted")
	}
}
