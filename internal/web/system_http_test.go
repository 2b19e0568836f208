package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/apptest"
)

type backupFileJSON struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Kind string `json:"kind"`
}

type backupListJSON struct {
	Items    []backupFileJSON `json:"items"`
	Progress struct {
		Running bool   `json:"running"`
		Done    int64  `json:"done"`
		Total   int64  `json:"total"`
		File    string `json:"file"`
		Error   string `json:"error"`
	} `json:"progress"`
}

// TestSystemPermissions: only holders of system.view / system.manage reach
// 系统维护; a manager and a salesperson are refused everywhere.
func TestSystemPermissions(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	var info struct {
		Version       string `json:"version"`
		Database      string `json:"database"`
		SchemaVersion int64  `json:"schema_version"`
		Binary        int64  `json:"binary_schema_version"`
		Pending       []any  `json:"pending_migrations"`
		TooNew        bool   `json:"schema_too_new"`
	}
	if st := admin.Do("GET", "/api/v1/system/info", nil, &info); st != 200 || info.SchemaVersion == 0 ||
		info.SchemaVersion != info.Binary || len(info.Pending) != 0 || info.TooNew || info.Database != "sqlite" {
		t.Fatalf("info: %d %+v", st, info)
	}
	for _, who := range []string{"sim_mgr1", "sim_s1"} {
		c := srv.Login(t, who)
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/system/info"}, {"GET", "/api/v1/system/settings"},
			{"PATCH", "/api/v1/system/settings"}, {"GET", "/api/v1/system/backups"},
			{"POST", "/api/v1/system/backups"}, {"GET", "/api/v1/system/backups/progress"},
			{"POST", "/api/v1/system/backups/upload"}, {"GET", "/api/v1/system/backups/crm-20261127-000000.crmbak"},
		} {
			var e errJSON
			body := any(nil)
			if r.method == "PATCH" {
				body = map[string]any{"login_log_days": 1}
			}
			if st := c.Do(r.method, r.path, body, &e); st != 403 || e.Error.Code != "forbidden" {
				t.Errorf("%s %s %s: %d %+v", who, r.method, r.path, st, e)
			}
		}
	}
	var e errJSON
	if st := srv.Anonymous(t).Do("GET", "/api/v1/system/info", nil, &e); st != 401 {
		t.Fatalf("anonymous info: %d", st)
	}
}

// TestBackupsInTheWebApp: an admin starts a backup, follows its progress,
// sees it listed, downloads it and uploads it again (verified, kept as an
// upload); a damaged upload is refused and nothing is kept.
func TestBackupsInTheWebApp(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	var p struct {
		Running bool `json:"running"`
	}
	if st := admin.Do("POST", "/api/v1/system/backups", nil, &p); st != 202 || !p.Running {
		t.Fatalf("start backup: %d %+v", st, p)
	}
	var list backupListJSON
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st := admin.Do("GET", "/api/v1/system/backups", nil, &list); st != 200 {
			t.Fatalf("list: %d", st)
		}
		if !list.Progress.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if list.Progress.Running || list.Progress.Error != "" || list.Progress.Total == 0 || list.Progress.Done != list.Progress.Total ||
		len(list.Items) != 1 || list.Items[0].Kind != "scheduled" || list.Items[0].Name != list.Progress.File {
		t.Fatalf("after backup: %+v", list)
	}
	name := list.Items[0].Name
	if !strings.HasPrefix(name, "crm-") || !strings.HasSuffix(name, ".crmbak") {
		t.Fatalf("name %q", name)
	}

	resp := admin.Raw("GET", "/api/v1/system/backups/"+name, nil, nil)
	archive, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || int64(len(archive)) != list.Items[0].Size || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %d bytes %v", resp.StatusCode, len(archive), resp.Header)
	}
	for _, bad := range []string{"..%2Fcrm.db", "crm.db", "nope.crmbak"} {
		var e errJSON
		if st := admin.Do("GET", "/api/v1/system/backups/"+bad, nil, &e); st != 404 {
			t.Errorf("download %s: %d %+v", bad, st, e)
		}
	}

	// A damaged archive: same gzip framing, one row altered.
	damaged := alterArchive(t, archive)
	var e errJSON
	if st := admin.Do("POST", "/api/v1/system/backups/upload", damaged, &e); st != 400 || e.Error.Code != "validation_failed" ||
		!strings.Contains(e.Error.Message, "checksum") {
		t.Fatalf("damaged upload: %d %+v", st, e)
	}
	if st := admin.Do("POST", "/api/v1/system/backups/upload", "not an archive", &e); st != 400 {
		t.Fatalf("garbage upload: %d %+v", st, e)
	}
	admin.Do("GET", "/api/v1/system/backups", nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("a refused upload was kept: %+v", list.Items)
	}
	var up struct {
		File backupFileJSON `json:"file"`
		Rows int64          `json:"rows"`
	}
	if st := admin.Do("POST", "/api/v1/system/backups/upload", archive, &up); st != 201 || up.File.Kind != "uploaded" || up.Rows == 0 {
		t.Fatalf("upload: %d %+v", st, up)
	}
	admin.Do("GET", "/api/v1/system/backups", nil, &list)
	if len(list.Items) != 2 {
		t.Fatalf("after upload: %+v", list.Items)
	}
	// Nothing is left behind from the refused uploads.
	entries, _ := os.ReadDir(srv.App.System.Dir())
	if len(entries) != 2 {
		t.Fatalf("backup folder: %v", entries)
	}

	// Downloads and uploads are in the operation log.
	var log struct {
		Items []struct {
			Action string `json:"action"`
			Entity string `json:"entity"`
		} `json:"items"`
	}
	admin.Do("GET", "/api/v1/audit?entity=backup", nil, &log)
	seen := map[string]bool{}
	for _, it := range log.Items {
		seen[it.Action] = true
	}
	if !seen["download"] || !seen["upload"] || !seen["backup"] {
		t.Fatalf("audit: %+v", log.Items)
	}
}

// TestBackupUploadSizeCap: an upload over backup.max_upload_bytes (64 MiB
// by default) is 413 before its body is read.
func TestBackupUploadSizeCap(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	big := bytes.Repeat([]byte("x"), 65<<20)
	var e errJSON
	if st := admin.Do("POST", "/api/v1/system/backups/upload", big, &e); st != 413 {
		t.Fatalf("oversize upload: %d %+v", st, e)
	}
}

// alterArchive changes one character of the first row of a gzip'd archive
// and recompresses it, so only the checksums can tell.
func alterArchive(t *testing.T, archive []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(plain, []byte("\n[")) + 2
	for ; plain[i] != '\n'; i++ {
		if plain[i] >= '1' && plain[i] <= '8' {
			plain[i]++
			break
		}
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(plain)
	zw.Close()
	return out.Bytes()
}

// TestRetentionSettings: nonsense is refused field by field and changes
// nothing; a valid change is kept and audited.
func TestRetentionSettings(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	var st0 struct {
		BackupKeep        int  `json:"backup_keep"`
		BackupKeepDefault bool `json:"backup_keep_default"`
		OperationLogDays  int  `json:"operation_log_days"`
		LoginLogDays      int  `json:"login_log_days"`
	}
	if st := admin.Do("GET", "/api/v1/system/settings", nil, &st0); st != 200 || st0.BackupKeep != 7 || !st0.BackupKeepDefault ||
		st0.OperationLogDays != 0 || st0.LoginLogDays != 365 {
		t.Fatalf("defaults: %d %+v", st, st0)
	}
	var e errJSON
	if st := admin.Do("PATCH", "/api/v1/system/settings", map[string]any{"backup_keep": -1, "login_log_days": 5000, "operation_log_days": 30}, &e); st != 400 ||
		e.Error.Fields["backup_keep"] == "" || e.Error.Fields["login_log_days"] == "" || e.Error.Fields["operation_log_days"] != "" {
		t.Fatalf("bad settings: %d %+v", st, e)
	}
	if st := admin.Do("PATCH", "/api/v1/system/settings", map[string]any{"keep": 3}, &e); st != 400 {
		t.Fatalf("unknown field: %d", st)
	}
	var after = st0
	admin.Do("GET", "/api/v1/system/settings", nil, &after)
	if after != st0 {
		t.Fatalf("a refused change changed something: %+v", after)
	}
	if st := admin.Do("PATCH", "/api/v1/system/settings", map[string]any{"backup_keep": 3, "operation_log_days": 730}, &after); st != 200 ||
		after.BackupKeep != 3 || after.BackupKeepDefault || after.OperationLogDays != 730 || after.LoginLogDays != 365 {
		t.Fatalf("update: %d %+v", st, after)
	}
	var log struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	admin.Do("GET", "/api/v1/audit?entity=maintenance_settings", nil, &log)
	if len(log.Items) != 1 || log.Items[0].Action != "update" {
		t.Fatalf("audit: %+v", log.Items)
	}
}

// TestMetricsByRouteTemplate: after a request for one customer, /metrics
// has its latency under the route template, never the raw path; /metrics
// refuses proxied callers unless they bring the token.
func TestMetricsByRouteTemplate(t *testing.T) {
	srv := apptest.Start(t)
	admin := srv.Login(t, "sim_admin")
	var list struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if st := admin.Do("GET", "/api/v1/customers", nil, &list); st != 200 || len(list.Items) == 0 {
		t.Fatalf("customers: %d", st)
	}
	raw := "/api/v1/customers/" + strconv.FormatInt(list.Items[0].ID, 10)
	if st := admin.Do("GET", raw, nil, nil); st != 200 {
		t.Fatalf("customer: %d", st)
	}
	scrape := func(headers map[string]string) (int, string) {
		resp := srv.Anonymous(t).Raw("GET", "/metrics", nil, headers)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, body := scrape(nil)
	if st != 200 {
		t.Fatalf("metrics: %d %s", st, body)
	}
	for _, want := range []string{
		`crm_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/customers/:id"}`,
		`go_sql_open_connections{db_name="crm"}`,
		"crm_outbox_pending", "crm_job_runs_total", "crm_dingtalk_calls_total{",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `route="`+raw+`"`) {
		t.Error("a raw path became a label")
	}
	if st, _ := scrape(map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 403 {
		t.Fatalf("proxied scrape: %d", st)
	}
	srv.App.Web.MetricsToken = "s3cret-token"
	if st, _ := scrape(map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer wrong"}); st != 403 {
		t.Fatalf("wrong token: %d", st)
	}
	if st, _ := scrape(map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer s3cret-token"}); st != 200 {
		t.Fatalf("token scrape: %d", st)
	}
}

// TestReadyzWhenRedisIsDown: with Redis configured and then unreachable,
// /readyz still answers 200 (status degraded, kv unavailable) within its
// bound — the instances keep serving without Redis, so the load balancer
// must keep them — and /healthz stays 200.
func TestReadyzWhenRedisIsDown(t *testing.T) {
	if os.Getenv("CRM_TEST_MYSQL_DSN") == "" || os.Getenv("CRM_TEST_REDIS_ADDR") == "" {
		t.Skip("needs CRM_TEST_MYSQL_DSN and CRM_TEST_REDIS_ADDR (the MySQL engine runs with Redis)")
	}
	srv := apptest.StartOn(t, "mysql")
	c := srv.Anonymous(t)
	var h map[string]string
	if st := c.Do("GET", "/readyz", nil, &h); st != 200 || h["kv"] != "ok" || h["database"] != "ok" {
		t.Fatalf("readyz before: %d %v", st, h)
	}
	srv.App.KV.Close() // Redis gone
	start := time.Now()
	if st := c.Do("GET", "/readyz", nil, &h); st != http.StatusOK || h["status"] != "degraded" || h["kv"] != "unavailable" || h["database"] != "ok" {
		t.Fatalf("readyz with Redis down: %d %v", st, h)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("readyz took %s", d)
	}
	if st := c.Do("GET", "/healthz", nil, &h); st != 200 {
		t.Fatalf("healthz with Redis down: %d", st)
	}
}
