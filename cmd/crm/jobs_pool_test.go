package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestPoolReclaimJob runs `crm jobs run pool-reclaim` on a fresh simulated
// installation (whose demo customers have never been followed up) on every
// engine: the first run only warns, a second run changes nothing, and once
// the warnings are older than the notice period the overdue customers
// return to the pool.
func TestPoolReclaimJob(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := jobEnv(t, e.Name)
			var out bytes.Buffer
			if err := run([]string{"jobs", "list"}, &out, &bytes.Buffer{}); err != nil || !bytes.Contains(out.Bytes(), []byte("pool-reclaim")) {
				t.Fatalf("jobs list: %v %q", err, out.String())
			}
			summary := regexp.MustCompile(`^pool-reclaim: checked (\d+), warned (\d+), reclaimed (\d+)\n$`)
			runJob := func() (warned, reclaimed int) {
				t.Helper()
				var out bytes.Buffer
				if err := run([]string{"jobs", "run", "pool-reclaim"}, &out, &bytes.Buffer{}); err != nil {
					t.Fatal(err)
				}
				m := summary.FindStringSubmatch(out.String())
				if m == nil {
					t.Fatalf("output %q", out.String())
				}
				warned, _ = strconv.Atoi(m[2])
				reclaimed, _ = strconv.Atoi(m[3])
				return warned, reclaimed
			}
			if w, r := runJob(); w == 0 || r != 0 {
				t.Fatalf("first run: warned %d, reclaimed %d (want warnings only)", w, r)
			}
			if w, r := runJob(); w != 0 || r != 0 {
				t.Fatalf("second run: warned %d, reclaimed %d (want nothing)", w, r)
			}
			if db == nil {
				db = openSQLite(t)
			}
			// Pretend the warnings went out four days ago (the notice is three).
			if _, err := db.Exec("UPDATE pool_warnings SET warned_at = ?", store.Now().AddDate(0, 0, -4)); err != nil {
				t.Fatal(err)
			}
			_, r := runJob()
			var pooled int
			db.Get(&pooled, "SELECT COUNT(*) FROM customers WHERE owner_id = 0 AND deleted_at IS NULL")
			if r == 0 || pooled != r {
				t.Fatalf("third run reclaimed %d; %d customers in the pool", r, pooled)
			}
		})
	}
}

// jobEnv points the CLI at a fresh database of the engine; for MySQL it
// returns the handle the test inspects through.
func jobEnv(t *testing.T, engine string) *store.DB {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	if engine != "mysql" {
		return nil
	}
	db, name := storetest.OpenEmptyMySQL(t)
	cfg, err := mysql.ParseDSN(os.Getenv("CRM_TEST_MYSQL_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	t.Setenv("CRM_DATABASE_DRIVER", "mysql")
	t.Setenv("CRM_DATABASE_DSN", cfg.FormatDSN())
	t.Setenv("CRM_DATABASE_AUTO_MIGRATE", "true")
	return db
}

func openSQLite(t *testing.T) *store.DB {
	db, err := store.Open(context.Background(), store.Options{Driver: "sqlite",
		SQLitePath: filepath.Join(os.Getenv("CRM_DATA_DIR"), "crm.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
