package customer_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// keysVersion is the migration that adds the duplicate keys.
const keysVersion = 5

// TestKeyMigrationToleratesOldDuplicates migrates a database that already
// holds duplicates to the keys: the migration succeeds, the oldest customer
// keeps each key, later duplicates and deleted customers get none, and the
// keys the SQL computed equal what customer.PhoneKey and NameKey compute
// (full-width letters, spaces, quotes and backslashes included).
func TestKeyMigrationToleratesOldDuplicates(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.MigratedTo(t, e.Name, keysVersion-1)
			old := []struct {
				name, phone, company string
				deleted              bool
				wantPhone, wantName  bool
			}{
				{"张三", "13912345678", "ＡＢＣ 科技", false, true, true},
				{"张 三", "13912345678", "abc科技", false, false, false},  // both keys taken by the first
				{"李四", "13912345678", "", true, false, false},         // deleted: no keys
				{"王五", "021-68888888", "", false, true, false},        // no company: no name key
				{"赵六", "02168888888", "星辰", false, false, true},       // same digits as 王五
				{"Ｂｏｂ　Ｓｍｉｔｈ", "", "Ａｃｍｅ＼Ｌｔｄ＇ＭＩＸ", false, false, true}, // width, case, quote, backslash
				{"bobsmith", "", "acme\\ltd'mix", false, false, false},
			}
			now := store.Now()
			ids := make([]int64, len(old))
			for i, o := range old {
				var deleted any
				if o.deleted {
					deleted = now
				}
				res, err := db.ExecContext(ctx, `INSERT INTO customers (name, phone, company, note, owner_id, department_id,
					created_by, created_at, updated_at, deleted_at) VALUES (?, ?, ?, '', 1, 1, 1, ?, ?, ?)`,
					o.name, o.phone, o.company, now, now, deleted)
				if err != nil {
					t.Fatal(err)
				}
				ids[i], _ = res.LastInsertId()
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatalf("migration refused old duplicates: %v", err)
			}
			for i, o := range old {
				var pk, nk sql.NullString
				if err := db.QueryRowContext(ctx, "SELECT phone_key, name_key FROM customers WHERE id = ?", ids[i]).Scan(&pk, &nk); err != nil {
					t.Fatal(err)
				}
				if pk.Valid != o.wantPhone || pk.Valid && pk.String != customer.PhoneKey(o.phone) {
					t.Errorf("%s: phone_key %v, want set=%v (%q)", o.name, pk, o.wantPhone, customer.PhoneKey(o.phone))
				}
				if nk.Valid != o.wantName || nk.Valid && nk.String != customer.NameKey(o.name, o.company) {
					t.Errorf("%s: name_key %q (%v), want set=%v (%q)", o.name, nk.String, nk.Valid, o.wantName, customer.NameKey(o.name, o.company))
				}
			}
			// The keys are unique from now on.
			_, err := db.ExecContext(ctx, `INSERT INTO customers (name, phone, company, note, owner_id, department_id,
				created_by, created_at, updated_at, phone_key) VALUES ('x', '', '', '', 1, 1, 1, ?, ?, '13912345678')`,
				time.Now().UTC(), time.Now().UTC())
			if !store.IsUniqueViolation(err) {
				t.Fatalf("duplicate phone key accepted: %v", err)
			}
		})
	}
}
