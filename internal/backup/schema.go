package backup

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/dingcrm/crm/internal/store"
	sqlmig "github.com/dingcrm/crm/sql"
)

// gooseTable is goose's bookkeeping table; its content is the schema
// version, which the archive carries in its header instead.
const gooseTable = "goose_db_version"

// tableInfo is one table as the schema describes it.
type tableInfo struct {
	Name    string
	Columns []Column
	Key     []string // primary key columns, for a stable row order
}

// listTables lists every data table (not goose's, not SQLite's own), by
// name, with typed stored columns (generated columns are left out: the
// target computes them), reading through q so a snapshot transaction
// sees the schema it reads rows from.
func listTables(ctx context.Context, q sqlx.QueryerContext, d store.Dialect) ([]tableInfo, error) {
	var names []string
	var err error
	if d == store.SQLite {
		err = sqlx.SelectContext(ctx, q, &names, `SELECT name FROM sqlite_master
			WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name <> ? ORDER BY name`, gooseTable)
	} else {
		err = sqlx.SelectContext(ctx, q, &names, `SELECT TABLE_NAME FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ? ORDER BY TABLE_NAME`, gooseTable)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: list tables: %w", err)
	}
	out := make([]tableInfo, 0, len(names))
	for _, n := range names {
		t, err := describeTable(ctx, q, d, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func describeTable(ctx context.Context, q sqlx.QueryerContext, d store.Dialect, name string) (tableInfo, error) {
	t := tableInfo{Name: name}
	if strings.ContainsAny(name, "`\"") {
		return t, fmt.Errorf("backup: unsupported table name %q", name)
	}
	if d == store.SQLite {
		var cols []struct {
			CID     int     `db:"cid"`
			Name    string  `db:"name"`
			Type    string  `db:"type"`
			NotNull int     `db:"notnull"`
			Default *string `db:"dflt_value"`
			PK      int     `db:"pk"`
		}
		if err := sqlx.SelectContext(ctx, q, &cols, "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", name); err != nil {
			return t, fmt.Errorf("backup: describe %s: %w", name, err)
		}
		keys := map[int]string{}
		for _, c := range cols {
			t.Columns = append(t.Columns, Column{Name: c.Name, Kind: kindOfSQLite(c.Type)})
			if c.PK > 0 {
				keys[c.PK] = c.Name
			}
		}
		for i := 1; i <= len(keys); i++ {
			t.Key = append(t.Key, keys[i])
		}
		return t, nil
	}
	var cols []struct {
		Name string `db:"COLUMN_NAME"`
		Type string `db:"DATA_TYPE"`
		Key  string `db:"COLUMN_KEY"`
	}
	if err := sqlx.SelectContext(ctx, q, &cols, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_KEY FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION`, name); err != nil {
		return t, fmt.Errorf("backup: describe %s: %w", name, err)
	}
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Name: c.Name, Kind: kindOfMySQL(c.Type)})
	}
	if err := sqlx.SelectContext(ctx, q, &t.Key, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, name); err != nil {
		return t, fmt.Errorf("backup: primary key of %s: %w", name, err)
	}
	return t, nil
}

// quote quotes an identifier; backticks work on both engines.
func quote(name string) string { return "`" + name + "`" }

// schemaVersion is the applied goose version as seen through q (0 when the
// database was never migrated).
func schemaVersion(ctx context.Context, q sqlx.QueryerContext, d store.Dialect) (int64, error) {
	exists, err := hasTable(ctx, q, d, gooseTable)
	if err != nil || !exists {
		return 0, err
	}
	var v int64
	if err := sqlx.GetContext(ctx, q, &v, "SELECT COALESCE(MAX(version_id), 0) FROM "+gooseTable+" WHERE is_applied = 1"); err != nil {
		return 0, fmt.Errorf("backup: schema version: %w", err)
	}
	return v, nil
}

func hasTable(ctx context.Context, q sqlx.QueryerContext, d store.Dialect, name string) (bool, error) {
	var n int
	var err error
	if d == store.SQLite {
		err = sqlx.GetContext(ctx, q, &n, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name)
	} else {
		err = sqlx.GetContext(ctx, q, &n, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", name)
	}
	if err != nil {
		return false, fmt.Errorf("backup: look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// provider is goose over the embedded migrations of db's dialect (the same
// source store.DB.MigrateUp uses); restore needs UpTo, which store does not
// offer.
func provider(db *store.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(sqlmig.FS, string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectMySQL
	if db.Dialect == store.SQLite {
		dialect = goose.DialectSQLite3
	}
	return goose.NewProvider(dialect, db.DB.DB, sub)
}

// BinaryVersion is the newest schema version this binary knows.
func BinaryVersion(db *store.DB) (int64, error) {
	p, err := provider(db)
	if err != nil {
		return 0, fmt.Errorf("backup: migrations: %w", err)
	}
	src := p.ListSources()
	if len(src) == 0 {
		return 0, nil
	}
	return src[len(src)-1].Version, nil
}
