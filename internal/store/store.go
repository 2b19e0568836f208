// Package store opens the database (MySQL or the embedded SQLite), runs the
// migrations and owns the few places where the two dialects differ.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Dialect names the SQL engine.
type Dialect string

// The supported engines.
const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// DB is the database handle with its dialect.
type DB struct {
	*sqlx.DB
	Dialect Dialect
}

// Options are what Open needs; the app builds them from the Config.
type Options struct {
	Driver     string
	DSN        string // mysql
	SQLitePath string // sqlite
}

// Open connects and checks the connection.
func Open(ctx context.Context, o Options) (*DB, error) {
	var (
		db  *sqlx.DB
		err error
	)
	switch Dialect(o.Driver) {
	case MySQL:
		dsn, derr := NormalizeMySQLDSN(o.DSN)
		if derr != nil {
			return nil, derr
		}
		db, err = sqlx.Open("mysql", dsn)
		if err == nil {
			db.SetMaxOpenConns(50)
			db.SetMaxIdleConns(10)
			db.SetConnMaxLifetime(30 * time.Minute)
		}
	case SQLite:
		if mkErr := os.MkdirAll(filepath.Dir(o.SQLitePath), 0o750); mkErr != nil {
			return nil, fmt.Errorf("store: create data dir: %w", mkErr)
		}
		db, err = sqlx.Open("sqlite", sqliteDSN(o.SQLitePath))
		if err == nil {
			// One writer at a time is SQLite's nature; a small pool lets reads
			// proceed under WAL while immediate transactions queue on busy_timeout.
			db.SetMaxOpenConns(4)
		}
	default:
		return nil, fmt.Errorf("store: unknown driver %q", o.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", o.Driver, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", o.Driver, err)
	}
	return &DB{DB: db, Dialect: Dialect(o.Driver)}, nil
}

func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
}

// mysqlDialTimeout bounds connecting to MySQL (and its handshake) unless the
// DSN sets timeout=.
const mysqlDialTimeout = 3 * time.Second

// NormalizeMySQLDSN adds what the CRM relies on: UTC times parsed into
// time.Time and utf8mb4 on the connection. Arguments are interpolated by
// the driver (safe with utf8mb4), so a query is one round trip instead of
// prepare, execute and close.
func NormalizeMySQLDSN(dsn string) (string, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("store: bad mysql dsn: %w", err)
	}
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Collation == "" || !strings.HasPrefix(c.Collation, "utf8mb4") {
		c.Collation = "utf8mb4_unicode_ci"
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["time_zone"] = "'+00:00'"
	c.MultiStatements = false
	c.InterpolateParams = true
	if c.Timeout == 0 {
		// The driver's default is the OS's (minutes): with MySQL unreachable
		// a request would wait that long before its 503.
		c.Timeout = mysqlDialTimeout
	}
	return c.FormatDSN(), nil
}

// WithTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (and on panic).
func (db *DB) WithTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports a duplicate-key error from either engine, so
// stores can turn it into a domain error instead of a 500.
func IsUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsDeadlock reports that MySQL rolled the transaction back to break a
// deadlock (or gave up waiting for a lock): running it again may succeed.
func IsDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// IsNoRows reports sql.ErrNoRows.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Now is the current time as stored: UTC, millisecond precision (what
// DATETIME(3) keeps), so a value read back equals the value written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Placeholders returns "?, ?, ?" for n values (n ≥ 1).
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Int64Args turns ids into query arguments.
func Int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// LikeEscape is the ESCAPE clause for patterns made by EscapeLike and
// Contains. It is '!' rather than a backslash: inside a quoted literal a
// backslash is itself an escape on MySQL (so ESCAPE '\' is a syntax error
// there) but not on SQLite, while '!' means the same on both.
const LikeEscape = "ESCAPE '!'"

// EscapeLike escapes LIKE metacharacters so user text is matched literally
// (with LikeEscape).
func EscapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// Contains is a LIKE pattern (used with LikeEscape) matching s literally
// anywhere in a value.
func Contains(s string) string { return "%" + EscapeLike(s) + "%" }
