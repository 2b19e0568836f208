package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/app"
	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/config"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

const emojiName = "深圳云帆科技🚀有限公司"

// emptyTarget is a fresh, unmigrated database of the engine and the config
// that opens it.
func emptyTarget(t *testing.T, engine string) (*store.DB, config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if engine == "mysql" {
		db, name := storetest.OpenEmptyMySQL(t)
		dsn, err := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
		if err != nil {
			t.Fatal(err)
		}
		dsn.DBName = name
		cfg.Database.Driver, cfg.Database.DSN, cfg.Database.AutoMigrate = "mysql", dsn.FormatDSN(), true
		return db, cfg
	}
	db, err := store.Open(context.Background(), store.Options{Driver: "sqlite", SQLitePath: cfg.SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, cfg
}

// populated starts the real app on engine and adds records through its API.
func populated(t *testing.T, engine string) *apptest.Server {
	t.Helper()
	srv := apptest.StartOn(t, engine)
	c := srv.Login(t, "sim_admin")
	var cu struct {
		ID int64 `json:"id"`
	}
	if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": emojiName, "address": "广东省深圳市南山区 🏢"}, &cu); st != 201 {
		t.Fatalf("create customer: %d", st)
	}
	if st := c.Do("POST", "/api/v1/contacts", map[string]any{"customer_id": cu.ID, "name": "诸葛青",
		"phones": []string{"138 0013 8000"}, "birthday": "1988-08-08"}, nil); st != 201 {
		t.Fatalf("create contact: %d", st)
	}
	if st := c.Do("POST", "/api/v1/sales", map[string]any{"customer_id": cu.ID, "amount_fen": 123456, "sale_date": "2026-11-27"}, nil); st != 201 {
		t.Fatalf("create sale: %d", st)
	}
	if st := c.Do("POST", "/api/v1/followups", map[string]any{"customer_id": cu.ID, "followed_at": "2026-11-20T02:00:00Z",
		"method": "phone", "content": "电话沟通，客户很满意 👍"}, nil); st != 201 {
		t.Fatalf("create followup: %d", st)
	}
	return srv
}

func writeArchive(t *testing.T, db *store.DB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := backup.Write(context.Background(), db, &buf, backup.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dump reads every table through a backup and returns its rows by table,
// keyed by column name, sorted: the normalized view both engines share.
func dump(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(writeArchive(t, db)))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	out := map[string][]string{}
	var table string
	var cols []backup.Column
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line[0] == '[' {
			var vals []any
			json.Unmarshal([]byte(line), &vals)
			row := map[string]any{}
			for i, c := range cols {
				v := vals[i]
				if s, ok := v.(string); ok && (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) {
					var j any
					if json.Unmarshal([]byte(s), &j) == nil { // JSON columns: compare the value, not the spacing
						b, _ := json.Marshal(j)
						v = string(b)
					}
				}
				row[c.Name] = v
			}
			b, _ := json.Marshal(row)
			out[table] = append(out[table], string(b))
			continue
		}
		var tl struct {
			Type    string          `json:"type"`
			Name    string          `json:"name"`
			Columns []backup.Column `json:"columns"`
		}
		json.Unmarshal([]byte(line), &tl)
		if tl.Type == "table" {
			table, cols = tl.Name, tl.Columns
			out[table] = []string{}
		}
	}
	for _, rows := range out {
		sort.Strings(rows)
	}
	return out
}

func countAll(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var total int64
	for _, rows := range dump(t, db) {
		total += int64(len(rows))
	}
	return total
}

func TestRoundTrip(t *testing.T) {
	engines := apptest.Engines(t)
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from+"_to_"+to, func(t *testing.T) {
				ctx := context.Background()
				srv := populated(t, from)
				archive := writeArchive(t, srv.App.DB)
				want := dump(t, srv.App.DB)

				target, cfg := emptyTarget(t, to)
				sum, err := backup.Restore(ctx, target, bytes.NewReader(archive), backup.RestoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Rows == 0 || sum.Tables != len(want) {
					t.Fatalf("summary %+v, want %d tables", sum, len(want))
				}
				got := dump(t, target)
				for table, rows := range want {
					if strings.Join(got[table], "\n") != strings.Join(rows, "\n") {
						t.Errorf("table %s differs after restore:\n got %d rows %.400v\nwant %d rows %.400v", table, len(got[table]), got[table], len(rows), rows)
					}
				}

				// New rows get ids past the restored ones.
				a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatalf("app on the restored database: %v", err)
				}
				defer a.Close()
				searchFinds(t, a, emojiName)
				res, err := target.ExecContext(ctx, "INSERT INTO departments (name, sort_order, created_at, updated_at) VALUES ('新部门', 0, ?, ?)", store.Now(), store.Now())
				if err != nil {
					t.Fatal(err)
				}
				want2 := int64(0)
				for _, r := range want["departments"] {
					var m map[string]any
					json.Unmarshal([]byte(r), &m)
					if id := int64(m["id"].(float64)); id > want2 {
						want2 = id
					}
				}
				if id, _ := res.LastInsertId(); id <= want2 {
					t.Errorf("new department got id %d, reusing a restored id (max %d)", id, want2)
				}
			})
		}
	}
}

// searchFinds searches the running app for name through its HTTP API.
func searchFinds(t *testing.T, a *app.App, name string) {
	t.Helper()
	ts := httptest.NewServer(a.Handler())
	defer ts.Close()
	c := (&apptest.Server{URL: ts.URL, App: a}).Login(t, "sim_admin")
	var l struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if st := c.Do("GET", "/api/v1/customers?page_size=100&q="+url.QueryEscape(name), nil, &l); st != 200 {
		t.Fatalf("search: %d", st)
	}
	for _, it := range l.Items {
		if it.Name == name {
			return
		}
	}
	t.Fatalf("search for %s on the restored database found %+v", name, l.Items)
}

func TestTamperedArchiveRefused(t *testing.T) {
	for _, to := range apptest.Engines(t) {
		t.Run(to, func(t *testing.T) {
			srv := populated(t, "sqlite")
			archive := writeArchive(t, srv.App.DB)
			zr, _ := gzip.NewReader(bytes.NewReader(archive))
			raw, _ := io.ReadAll(zr)
			sec := bytes.Index(raw, []byte(`{"type":"table","name":"contacts"`))
			i := bytes.Index(raw[sec:], []byte("诸葛青")) + sec
			if sec < 0 || i < sec {
				t.Fatal("contact not in archive")
			}
			raw[i+2] ^= 0x01 // still valid UTF-8 and JSON, different text
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(raw)
			zw.Close()

			target, _ := emptyTarget(t, to)
			_, err := backup.Restore(context.Background(), target, &buf, backup.RestoreOptions{})
			var ce *backup.ChecksumError
			if !errors.As(err, &ce) || ce.Table != "contacts" || !strings.Contains(err.Error(), "contacts") {
				t.Fatalf("got %v, want a checksum error naming contacts", err)
			}
			// Only what migrations insert (stages, pool rules) may be there.
			if n, seeded := countData(t, target), countData(t, storetest.SQLite(t)); n != seeded {
				t.Fatalf("%d rows left behind after a refused restore, want the %d migrations insert", n, seeded)
			}
		})
	}
}

// countData counts every row in every data table.
func countData(t *testing.T, db *store.DB) int64 { return countAll(t, db) }

func TestNonEmptyTargetNeedsForce(t *testing.T) {
	for _, to := range apptest.Engines(t) {
		t.Run(to, func(t *testing.T) {
			ctx := context.Background()
			archive := writeArchive(t, populated(t, "sqlite").App.DB)
			target := populated(t, to).App.DB
			if _, err := backup.Restore(ctx, target, bytes.NewReader(archive), backup.RestoreOptions{}); !errors.Is(err, backup.ErrNotEmpty) {
				t.Fatalf("got %v, want ErrNotEmpty", err)
			}
			// A freshly migrated (seeded by migrations only) database counts as empty.
			fresh := storetest.SQLite(t)
			if _, err := backup.Restore(ctx, fresh, bytes.NewReader(archive), backup.RestoreOptions{}); err != nil {
				t.Fatalf("migrated-but-empty target refused: %v", err)
			}
			if _, err := backup.Restore(ctx, target, bytes.NewReader(archive), backup.RestoreOptions{Force: true}); err != nil {
				t.Fatalf("--force: %v", err)
			}
			var n int
			target.GetContext(ctx, &n, "SELECT COUNT(*) FROM customers WHERE name = ?", emojiName)
			if n != 1 {
				t.Fatalf("after a forced restore %d customers named %s, want 1", n, emojiName)
			}
		})
	}
}

func TestBackupWhileWriting(t *testing.T) {
	for _, engine := range apptest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			srv := apptest.StartOn(t, engine)
			c := srv.Login(t, "sim_admin")
			var stop atomic.Bool
			var wg sync.WaitGroup
			var made atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					if st := c.Do("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("并发客户%d号", i)}, nil); st == 201 {
						made.Add(1)
					}
				}
			}()
			for made.Load() < 3 {
				time.Sleep(10 * time.Millisecond)
			}
			archive := writeArchive(t, srv.App.DB)
			stop.Store(true)
			wg.Wait()
			target, _ := emptyTarget(t, engine)
			if _, err := backup.Restore(ctx, target, bytes.NewReader(archive), backup.RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			var missing, customers int
			target.GetContext(ctx, &customers, "SELECT COUNT(*) FROM customers")
			if err := target.GetContext(ctx, &missing, `SELECT COUNT(*) FROM customers c
				WHERE NOT EXISTS (SELECT 1 FROM customer_grams g WHERE g.customer_id = c.id)`); err != nil {
				t.Fatal(err)
			}
			if missing != 0 || customers == 0 {
				t.Fatalf("%d of %d customers restored without their search index rows", missing, customers)
			}
			t.Logf("%d customers written during the test, %d in the snapshot", made.Load(), customers)
		})
	}
}

// TestBackupMemoryBounded backs up 50,000 rows of ~1 KiB (about 50 MiB of
// data) and checks the heap never grows by more than 16 MiB while it runs.
func TestBackupMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ctx := context.Background()
	db := storetest.SQLite(t)
	pad := strings.Repeat("备份", 170) // ~1 KiB of UTF-8
	if _, err := db.ExecContext(ctx, "CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at DATETIME NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	now := store.Now()
	for i := 0; i < 50000; i += 500 {
		q := "INSERT INTO bulk_probe (id, body, at) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", 500), ", ")
		args := make([]any, 0, 1500)
		for j := i; j < i+500; j++ {
			args = append(args, j+1, fmt.Sprintf("%d %s", j, pad), now)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "big.crmbak"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	sum, err := backup.Write(ctx, db, f, backup.Options{})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows < 50000 {
		t.Fatalf("backed up %d rows", sum.Rows)
	}
	grew := int64(peak.Load()) - int64(base)
	t.Logf("50,000 rows of ~1 KiB: heap peak %d KiB above the %d KiB baseline", grew>>10, base>>10)
	if grew > 16<<20 {
		t.Fatalf("heap grew by %d MiB during the backup; rows are being held", grew>>20)
	}
}
