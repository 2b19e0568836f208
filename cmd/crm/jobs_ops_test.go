package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestBackupAndRetentionJobs runs `crm jobs run backup` three times with
// backup.keep 2: each run writes data_dir/backups/crm-….crmbak and the
// oldest beyond two is deleted; `crm jobs run log-retention` reports what
// it deleted.
func TestBackupAndRetentionJobs(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CRM_DATA_DIR", dir)
	t.Setenv("CRM_DATABASE_DRIVER", "sqlite")
	t.Setenv("CRM_BACKUP_KEEP", "2")
	var out bytes.Buffer
	if err := run([]string{"jobs", "list"}, &out, &bytes.Buffer{}); err != nil ||
		!regexp.MustCompile(`(?m)^backup `).Match(out.Bytes()) || !regexp.MustCompile(`(?m)^log-retention `).Match(out.Bytes()) {
		t.Fatalf("jobs list: %v %q", err, out.String())
	}
	summary := regexp.MustCompile(`^backup: crm-\d{8}-\d{6}(?:-\d+)?\.crmbak: \d+ tables, \d+ rows; removed (\d) old backup\(s\)\n$`)
	for i := 0; i < 3; i++ {
		out.Reset()
		if err := run([]string{"jobs", "run", "backup"}, &out, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		m := summary.FindStringSubmatch(out.String())
		if m == nil || (i < 2) != (m[1] == "0") {
			t.Fatalf("run %d: %q", i, out.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "backups", "crm-*.crmbak"))
	if len(files) != 2 {
		t.Fatalf("backups kept: %v", files)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	out.Reset()
	if err := run([]string{"jobs", "run", "log-retention"}, &out, &bytes.Buffer{}); err != nil ||
		!regexp.MustCompile(`^log-retention: deleted \d+ operation-log and \d+ login-log entries\n$`).Match(out.Bytes()) {
		t.Fatalf("log-retention: %v %q", err, out.String())
	}
}
