package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // the reference database for the emptiness check

	"github.com/dingcrm/crm/internal/report/summary"
	"github.com/dingcrm/crm/internal/store"
)

// ErrNotEmpty means the restore target holds data and --force was not given.
var ErrNotEmpty = errors.New("backup: the target database is not empty (use --force to replace its data)")

// ChecksumError means an archive's content does not match its checksum: it
// was damaged or altered. Table is empty for the whole-archive checksum.
type ChecksumError struct {
	Table string
	What  string
}

func (e *ChecksumError) Error() string {
	if e.Table == "" {
		return "backup: archive damaged: " + e.What + "; nothing was restored"
	}
	return fmt.Sprintf("backup: archive damaged in table %s: %s; nothing was restored", e.Table, e.What)
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force replaces the data of a non-empty target.
	Force bool
	// Progress, when set, is called after every batch of rows (Total 0).
	Progress func(Progress)
}

// maxParams bounds the placeholders of one multi-row INSERT (SQLite allows
// 32766, MySQL 65535); maxBatch bounds its rows.
const (
	maxParams = 30000
	maxBatch  = 2000
)

// Restore loads an archive into db, which must be empty (no tables, or
// only what migrations create) unless o.Force. It migrates db to the
// archive's schema version, verifies every table's row count and checksum
// while loading, and on any failure leaves no data behind: SQLite loads in
// one transaction on either engine (InnoDB rolls back MySQL's just as well).
func Restore(ctx context.Context, db *store.DB, r io.Reader, o RestoreOptions) (Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: not a crm backup archive: %w", err)
	}
	ar := &archiveReader{br: bufio.NewReaderSize(zr, 64<<10), whole: sha256.New()}
	var hdr Header
	if err := ar.next(&hdr); err != nil || hdr.Type != "header" {
		return Summary{}, fmt.Errorf("backup: not a crm backup archive (no header): %v", err)
	}
	if hdr.Format != FormatVersion {
		return Summary{}, fmt.Errorf("backup: archive format %d, this binary reads %d", hdr.Format, FormatVersion)
	}
	sum := Summary{SchemaVersion: hdr.SchemaVersion, Dialect: hdr.Dialect}
	if err := prepareTarget(ctx, db, hdr.SchemaVersion, o.Force); err != nil {
		return sum, err
	}
	targets, err := listTables(ctx, db, db.Dialect)
	if err != nil {
		return sum, err
	}
	byName := map[string]tableInfo{}
	for _, t := range targets {
		byName[t.Name] = t
	}
	l := &loader{db: db, byName: byName, ar: ar, progress: o.Progress}
	// One transaction for everything, on both engines: a damaged archive
	// or a failed insert rolls back to the target exactly as it was.
	err = db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := emptyTables(ctx, tx, targets); err != nil {
			return err
		}
		if err := l.loadAll(ctx, tx); err != nil {
			return err
		}
		// The report summaries are derived: the triggers that keep them
		// fired while tables were emptied and loaded, so recompute them.
		if hdr.SchemaVersion >= summary.Migration {
			if err := summary.Rebuild(ctx, tx, db.Dialect); err != nil {
				return err
			}
		}
		if db.Dialect == store.SQLite {
			return resetSequences(ctx, tx, targets)
		}
		return nil
	})
	sum.Tables, sum.Rows = l.tables, l.rows
	return sum, err
}

// Verify reads a whole archive and checks what a restore would: the
// header, every row's encoding, each table's row count and checksum, and
// the whole-archive checksum. It writes nothing. An uploaded archive is
// verified before it is kept.
func Verify(ctx context.Context, r io.Reader, progress func(Progress)) (Header, Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Header{}, Summary{}, fmt.Errorf("backup: not a crm backup archive: %w", err)
	}
	ar := &archiveReader{br: bufio.NewReaderSize(zr, 64<<10), whole: sha256.New()}
	var hdr Header
	if err := ar.next(&hdr); err != nil || hdr.Type != "header" {
		return hdr, Summary{}, errors.New("backup: not a crm backup archive (no header)")
	}
	if hdr.Format != FormatVersion {
		return hdr, Summary{}, fmt.Errorf("backup: archive format %d, this binary reads %d", hdr.Format, FormatVersion)
	}
	l := &loader{verify: true, ar: ar, progress: progress}
	err = l.loadAll(ctx, nil)
	return hdr, Summary{SchemaVersion: hdr.SchemaVersion, Dialect: hdr.Dialect, Tables: l.tables, Rows: l.rows}, err
}

// prepareTarget refuses a non-empty target (unless force) and an archive
// newer than this binary, and migrates the target to the archive's version.
func prepareTarget(ctx context.Context, db *store.DB, version int64, force bool) error {
	binary, err := BinaryVersion(db)
	if err != nil {
		return err
	}
	if version > binary {
		return fmt.Errorf("backup: the archive has schema version %d, newer than this binary's %d; restore it with the newer crm", version, binary)
	}
	current, err := schemaVersion(ctx, db, db.Dialect)
	if err != nil {
		return err
	}
	if current > version {
		return fmt.Errorf("backup: the target database is at schema version %d, newer than the archive's %d; restore into an empty database", current, version)
	}
	if !force {
		empty, err := isEmpty(ctx, db, current)
		if err != nil {
			return err
		}
		if !empty {
			return ErrNotEmpty
		}
	}
	if current == version {
		return nil
	}
	p, err := provider(db)
	if err != nil {
		return fmt.Errorf("backup: migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("backup: migrate the target to version %d: %w", version, err)
	}
	return nil
}

// isEmpty reports whether db holds no data beyond what its migrations
// insert (opportunity stages, pool rules): it compares row counts with a
// fresh in-memory database migrated to the same version.
func isEmpty(ctx context.Context, db *store.DB, version int64) (bool, error) {
	tables, err := listTables(ctx, db, db.Dialect)
	if err != nil || len(tables) == 0 {
		return err == nil, err
	}
	seeded, err := seededCounts(ctx, version)
	if err != nil {
		return false, err
	}
	for _, t := range tables {
		var n int64
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+quote(t.Name)); err != nil {
			return false, fmt.Errorf("backup: count %s: %w", t.Name, err)
		}
		if n > seeded[t.Name] {
			return false, nil
		}
	}
	return true, nil
}

func seededCounts(ctx context.Context, version int64) (map[string]int64, error) {
	out := map[string]int64{}
	if version == 0 {
		return out, nil
	}
	mem, err := sqlx.Open("sqlite", "file::memory:")
	if err != nil {
		return nil, fmt.Errorf("backup: reference database: %w", err)
	}
	defer mem.Close()
	mem.SetMaxOpenConns(1) // one connection: one in-memory database
	ref := &store.DB{DB: mem, Dialect: store.SQLite}
	p, err := provider(ref)
	if err != nil {
		return nil, fmt.Errorf("backup: migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return nil, fmt.Errorf("backup: reference database: %w", err)
	}
	tables, err := listTables(ctx, ref, store.SQLite)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		var n int64
		if err := mem.GetContext(ctx, &n, "SELECT COUNT(*) FROM "+quote(t.Name)); err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}

func emptyTables(ctx context.Context, x sqlx.ExecerContext, tables []tableInfo) error {
	for _, t := range tables {
		if _, err := x.ExecContext(ctx, "DELETE FROM "+quote(t.Name)+" WHERE 1 = 1"); err != nil {
			return fmt.Errorf("backup: empty %s: %w", t.Name, err)
		}
	}
	return nil
}

// resetSequences sets SQLite's AUTOINCREMENT counters to each table's
// highest id, so new rows never reuse an id.
func resetSequences(ctx context.Context, tx *sqlx.Tx, tables []tableInfo) error {
	for _, t := range tables {
		if len(t.Key) != 1 {
			continue
		}
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ? AND sql LIKE '%AUTOINCREMENT%'", t.Name); err != nil {
			return fmt.Errorf("backup: sequence of %s: %w", t.Name, err)
		}
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sqlite_sequence WHERE name = ?", t.Name); err != nil {
			return fmt.Errorf("backup: sequence of %s: %w", t.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) SELECT ?, MAX("+quote(t.Key[0])+") FROM "+
			quote(t.Name)+" HAVING MAX("+quote(t.Key[0])+") IS NOT NULL", t.Name); err != nil {
			return fmt.Errorf("backup: sequence of %s: %w", t.Name, err)
		}
	}
	return nil
}

// archiveReader reads lines and keeps the whole-archive checksum.
type archiveReader struct {
	br    *bufio.Reader
	whole hash.Hash
	line  []byte
}

// readLine returns the next line (with its newline), hashed into whole
// unless it is the trailer, which the checksum does not cover.
func (a *archiveReader) readLine() ([]byte, error) {
	line, err := a.br.ReadBytes('\n')
	if err == io.EOF && len(line) > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("archive truncated or damaged: %w", err)
	}
	if !bytes.HasPrefix(line, []byte(`{"type":"trailer"`)) {
		a.whole.Write(line)
	}
	a.line = line
	return line, nil
}

func (a *archiveReader) next(v any) error {
	line, err := a.readLine()
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

type loader struct {
	// verify reads and checks the archive without writing anywhere.
	verify   bool
	db       *store.DB
	byName   map[string]tableInfo
	ar       *archiveReader
	progress func(Progress)
	tables   int
	rows     int64
	p        Progress
}

// loadAll reads table sections until the trailer, loading them through x.
func (l *loader) loadAll(ctx context.Context, x sqlx.ExtContext) error {
	for {
		line, err := l.ar.readLine()
		if err != nil {
			return &ChecksumError{What: err.Error()}
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &kind); err != nil {
			return &ChecksumError{What: "unreadable line between tables"}
		}
		switch kind.Type {
		case "table":
			var t tableLine
			if err := json.Unmarshal(line, &t); err != nil {
				return &ChecksumError{What: "unreadable table line"}
			}
			if err := l.loadTable(ctx, x, t); err != nil {
				return err
			}
			l.tables++
		case "trailer":
			var tr trailerLine
			if err := json.Unmarshal(line, &tr); err != nil {
				return &ChecksumError{What: "unreadable trailer"}
			}
			if got := hex.EncodeToString(l.ar.whole.Sum(nil)); got != tr.SHA256 {
				return &ChecksumError{What: "whole-archive checksum mismatch"}
			}
			if tr.Tables != l.tables || tr.Rows != l.rows {
				return &ChecksumError{What: fmt.Sprintf("trailer says %d tables and %d rows, read %d and %d", tr.Tables, tr.Rows, l.tables, l.rows)}
			}
			// Read to the end: nothing may follow the trailer, and only
			// there does gzip check its own CRC and length, which catches a
			// file cut inside the gzip footer.
			if n, err := io.Copy(io.Discard, l.ar.br); err != nil {
				return &ChecksumError{What: "archive truncated or damaged after the trailer: " + err.Error()}
			} else if n > 0 {
				return &ChecksumError{What: "data after the trailer"}
			}
			return nil
		default:
			return &ChecksumError{What: fmt.Sprintf("unexpected %q line", kind.Type)}
		}
	}
}

func (l *loader) loadTable(ctx context.Context, x sqlx.ExtContext, t tableLine) error {
	target, ok := l.byName[t.Name]
	if !ok && !l.verify {
		return fmt.Errorf("backup: table %s of the archive does not exist in the target", t.Name)
	}
	have := map[string]bool{}
	for _, c := range target.Columns {
		have[c.Name] = true
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		if !have[c.Name] && !l.verify {
			return fmt.Errorf("backup: column %s.%s of the archive does not exist in the target", t.Name, c.Name)
		}
		cols[i] = quote(c.Name)
	}
	batch := maxBatch
	if len(cols) > 0 && maxParams/len(cols) < batch {
		batch = maxParams / len(cols)
	}
	prefix := "INSERT INTO " + quote(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES "
	tuple := "(" + store.Placeholders(max(len(cols), 1)) + ")"
	args := make([]any, 0, batch*len(cols))
	pending := 0
	// One INSERT is in flight while the next batch is read and decoded, so
	// the client's work overlaps the server's. inflight carries its result;
	// every path out of here waits for it, so nothing runs on the
	// transaction after this returns.
	var inflight chan error
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	defer wait()
	fullQ := ""
	flush := func() error {
		if l.verify {
			args, pending = args[:0], 0
			return nil
		}
		if pending == 0 {
			return nil
		}
		if err := wait(); err != nil {
			return err
		}
		var q string
		if pending == batch && fullQ != "" {
			q = fullQ
		} else {
			q = prefix + strings.TrimSuffix(strings.Repeat(tuple+", ", pending), ", ")
			if pending == batch {
				fullQ = q
			}
		}
		ch := make(chan error, 1)
		go func(a []any) {
			_, err := x.ExecContext(ctx, q, a...)
			if err != nil {
				err = fmt.Errorf("backup: table %s: insert: %w", t.Name, err)
			}
			ch <- err
		}(args)
		inflight = ch
		args, pending = make([]any, 0, batch*len(cols)), 0
		return nil
	}
	h := sha256.New()
	var n int64
	l.p.Table = t.Name
	for {
		line, err := l.ar.readLine()
		if err != nil {
			return &ChecksumError{Table: t.Name, What: err.Error()}
		}
		if line[0] != '[' {
			var end endLine
			if err := json.Unmarshal(line, &end); err != nil || end.Type != "end" || end.Table != t.Name {
				return &ChecksumError{Table: t.Name, What: fmt.Sprintf("row %d is unreadable", n+1)}
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != end.SHA256 {
				return &ChecksumError{Table: t.Name, What: "checksum mismatch"}
			}
			if end.Rows != n {
				return &ChecksumError{Table: t.Name, What: fmt.Sprintf("%d rows read, %d expected", n, end.Rows)}
			}
			if err := flush(); err != nil {
				return err
			}
			if err := wait(); err != nil {
				return err
			}
			if l.progress != nil {
				l.progress(l.p)
			}
			return nil
		}
		h.Write(line)
		n++
		l.rows++
		vals, err := decodeRow(line, t.Columns)
		if err != nil {
			return &ChecksumError{Table: t.Name, What: fmt.Sprintf("row %d: %v", n, err)}
		}
		args = append(args, vals...)
		pending++
		if pending == batch {
			if err := flush(); err != nil {
				return err
			}
		}
		l.p.Done++
		if l.progress != nil && l.p.Done%progressEvery == 0 {
			l.progress(l.p)
		}
	}
}

func decodeRow(line []byte, cols []Column) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	if len(raw) != len(cols) {
		return nil, fmt.Errorf("%d values for %d columns", len(raw), len(cols))
	}
	out := make([]any, len(raw))
	for i, v := range raw {
		d, err := decodeValue(cols[i].Kind, v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", cols[i].Name, err)
		}
		out[i] = d
	}
	return out, nil
}
