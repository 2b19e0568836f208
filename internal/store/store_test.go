package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/store"
	"github.com/dingcrm/crm/internal/store/storetest"
)

func TestMigrationsApplyAndReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pending, err := db.CheckSchema(ctx)
		if err != nil || pending != 0 {
			t.Fatalf("after migrate: pending=%d err=%v", pending, err)
		}
		st, err := db.Migrations(ctx)
		if err != nil || len(st) == 0 || !st[0].Applied {
			t.Fatalf("status: %+v %v", st, err)
		}
		// A schema version from the future must be refused.
		if _, err := db.ExecContext(ctx, db.Rebind("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)"), 99999, true); err != nil {
			t.Fatal(err)
		}
		var tooNew *store.ErrSchemaTooNew
		if _, err := db.CheckSchema(ctx); !errors.As(err, &tooNew) {
			t.Fatalf("want ErrSchemaTooNew, got %v", err)
		}
	})
}

func TestWithTxRollsBackAndUniqueIsDetected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ins := "INSERT INTO roles (code, name, data_scope, permissions, builtin, created_at, updated_at) VALUES (?, ?, 'self', '', 0, ?, ?)"
		boom := errors.New("boom")
		err := db.WithTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, ins, "x1", "X", store.Now(), store.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		db.GetContext(ctx, &n, "SELECT COUNT(*) FROM roles WHERE code = 'x1'")
		if n != 0 {
			t.Fatal("rolled-back insert is visible")
		}
		if _, err := db.ExecContext(ctx, ins, "x2", "X", store.Now(), store.Now()); err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, ins, "x2", "X", store.Now(), store.Now())
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate not detected as unique violation: %v", err)
		}
	})
}

func TestUTF8MB4RoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		name := "客户😀𠮷"
		now := store.Now()
		if _, err := db.ExecContext(ctx, "INSERT INTO departments (name, created_at, updated_at) VALUES (?, ?, ?)", name, now, now); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Name      string `db:"name"`
			CreatedAt any    `db:"created_at"`
		}
		if err := db.GetContext(ctx, &got, "SELECT name, created_at FROM departments WHERE name = ?", name); err != nil {
			t.Fatal(err)
		}
		if got.Name != name {
			t.Fatalf("got %q", got.Name)
		}
	})
}
