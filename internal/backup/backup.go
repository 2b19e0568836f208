package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/store"
)

// Progress reports how far a backup or restore is: rows done of total
// (total is 0 when unknown) and the table being worked on.
type Progress struct {
	Table string
	Done  int64
	Total int64
}

// Options tune Write.
type Options struct {
	AppVersion string
	// Progress, when set, is called after every batch of rows.
	Progress func(Progress)
}

// Summary says what a backup or restore covered.
type Summary struct {
	SchemaVersion int64
	Dialect       string
	Tables        int
	Rows          int64
}

// progressEvery is how many rows pass between Progress calls.
const progressEvery = 1000

// Write streams a backup of db to w from one consistent snapshot while the
// CRM keeps serving: a read-only REPEATABLE READ transaction WITH
// CONSISTENT SNAPSHOT on MySQL, a deferred (read) transaction on SQLite,
// which WAL turns into a snapshot that does not block writers. Rows are
// streamed, never held, so memory stays constant whatever the size.
func Write(ctx context.Context, db *store.DB, w io.Writer, o Options) (Summary, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: connect: %w", err)
	}
	defer conn.Close()
	snap, end, err := beginSnapshot(ctx, conn, db.Dialect)
	if err != nil {
		return Summary{}, err
	}
	defer end()

	sum := Summary{Dialect: string(db.Dialect)}
	if sum.SchemaVersion, err = schemaVersion(ctx, snap, db.Dialect); err != nil {
		return sum, err
	}
	tables, err := listTables(ctx, snap, db.Dialect)
	if err != nil {
		return sum, err
	}
	tables = withoutDerived(tables)
	counts, total, err := rowCounts(ctx, snap, db.Dialect, tables)
	if err != nil {
		return sum, err
	}

	// BestSpeed: the archive is mostly repetitive JSON that level 1 already
	// shrinks several times, and compression is the costliest step; it
	// runs on its own goroutine (asyncWriter) beside the row encoding.
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	aw := newAsyncWriter(zw)
	defer aw.Close() // on an early return; the success path closes it first
	bw := bufio.NewWriterSize(aw, asyncChunk)
	whole := sha256.New()
	out := io.MultiWriter(bw, whole)
	hdr := Header{Type: "header", Format: FormatVersion, SchemaVersion: sum.SchemaVersion,
		Dialect: string(db.Dialect), CreatedAt: time.Now().UTC().Truncate(time.Millisecond), AppVersion: o.AppVersion}
	if err := writeJSONLine(out, hdr); err != nil {
		return sum, err
	}
	p := Progress{Total: total}
	for i, t := range tables {
		p.Table = t.Name
		n, err := writeTable(ctx, snap, out, t, &p, o.Progress)
		if err != nil {
			return sum, fmt.Errorf("backup: table %s: %w", t.Name, err)
		}
		if counts != nil && n != counts[i] {
			return sum, fmt.Errorf("backup: table %s: read %d rows, the snapshot counted %d", t.Name, n, counts[i])
		}
		sum.Rows += n
		sum.Tables++
	}
	tr := trailerLine{Type: "trailer", Tables: sum.Tables, Rows: sum.Rows, SHA256: hex.EncodeToString(whole.Sum(nil))}
	if err := writeJSONLine(bw, tr); err != nil {
		return sum, err
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	if err := aw.Close(); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return sum, fmt.Errorf("backup: write: %w", err)
	}
	return sum, nil
}

// rowCounts gives the progress total. On SQLite it counts each table in
// the snapshot (cheap, and checked against the rows read). On MySQL an
// exact COUNT(*) is a full scan of every table — a fifth of a large
// backup's time — so the total is InnoDB's estimate (counts is nil) and
// progress is approximate; the archive's own row counts are exact.
func rowCounts(ctx context.Context, q sqlx.QueryerContext, d store.Dialect, tables []tableInfo) ([]int64, int64, error) {
	var total int64
	if d == store.MySQL {
		err := sqlx.GetContext(ctx, q, &total, `SELECT COALESCE(SUM(table_rows), 0) FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'`)
		if err != nil {
			return nil, 0, fmt.Errorf("backup: estimate rows: %w", err)
		}
		return nil, total, nil
	}
	counts := make([]int64, len(tables))
	for i, t := range tables {
		if err := sqlx.GetContext(ctx, q, &counts[i], "SELECT COUNT(*) FROM "+quote(t.Name)); err != nil {
			return nil, 0, fmt.Errorf("backup: count %s: %w", t.Name, err)
		}
		total += counts[i]
	}
	return counts, total, nil
}

// beginSnapshot starts the snapshot on conn and returns what to query
// through and how to end it.
func beginSnapshot(ctx context.Context, conn *sqlx.Conn, d store.Dialect) (sqlx.QueryerContext, func(), error) {
	if d == store.SQLite {
		// ReadOnly makes the driver issue a plain (deferred) BEGIN instead of
		// the DSN's BEGIN IMMEDIATE, so the backup holds no write lock.
		tx, err := conn.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, nil, fmt.Errorf("backup: begin snapshot: %w", err)
		}
		return tx, func() { tx.Rollback() }, nil
	}
	for _, q := range []string{
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, nil, fmt.Errorf("backup: begin snapshot: %w", err)
		}
	}
	return conn, func() { conn.ExecContext(context.Background(), "ROLLBACK") }, nil
}

func writeTable(ctx context.Context, q sqlx.QueryerContext, out io.Writer, t tableInfo, p *Progress, report func(Progress)) (int64, error) {
	if err := writeJSONLine(out, tableLine{Type: "table", Name: t.Name, Columns: t.Columns}); err != nil {
		return 0, err
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quote(c.Name)
	}
	query := "SELECT " + strings.Join(names, ", ") + " FROM " + quote(t.Name)
	if len(t.Key) > 0 {
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = quote(k)
		}
		query += " ORDER BY " + strings.Join(keys, ", ")
	}
	rows, err := q.QueryxContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var (
		n   int64
		buf []byte
	)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		buf = append(buf[:0], '[')
		for i, c := range t.Columns {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendValue(buf, c.Kind, vals[i]); err != nil {
				return n, fmt.Errorf("row %d column %s: %w", n+1, c.Name, err)
			}
		}
		buf = append(buf, ']', '\n')
		if err := writeRow(out, h, buf); err != nil {
			return n, err
		}
		n++
		p.Done++
		if p.Done > p.Total {
			p.Total = p.Done // the estimate was low
		}
		if report != nil && p.Done%progressEvery == 0 {
			report(*p)
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if report != nil {
		report(*p)
	}
	return n, writeJSONLine(out, endLine{Type: "end", Table: t.Name, Rows: n, SHA256: hex.EncodeToString(h.Sum(nil))})
}

func writeRow(out io.Writer, h hash.Hash, line []byte) error {
	h.Write(line)
	if _, err := out.Write(line); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("backup: encode: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// withoutDerived drops the report summary tables: they are sums of other
// tables, recomputed by a restore, so an archive does not carry them.
func withoutDerived(tables []tableInfo) []tableInfo {
	derived := map[string]bool{}
	for _, t := range summary.Tables {
		derived[t] = true
	}
	out := tables[:0]
	for _, t := range tables {
		if !derived[t.Name] {
			out = append(out, t)
		}
	}
	return out
}
