// Package backup writes and restores portable archives of the whole CRM
// database: `crm backup` and `crm restore`. An archive taken from SQLite
// restores into MySQL and the other way round, which is how a company moves
// from the embedded default to a production server (docs/backup.md).
//
// The archive is a gzip'd stream of JSON lines: a header, then per table a
// "table" line (name and typed column list), one JSON array per row and an
// "end" line with the row count and the SHA-256 of the row lines, and last a
// trailer with the SHA-256 of everything before it. Values are typed
// portably, so the two engines' storage differences (SQLite keeps DATETIME
// as text) do not leak into the archive.
package backup

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion is the archive layout this binary writes and reads.
const FormatVersion = 1

// Kind is the portable type of a column in the archive.
type Kind string

// The portable kinds. Time is a DATETIME/TIMESTAMP (RFC 3339 UTC with
// milliseconds), Date a calendar date ("2006-01-02"), Bytes base64.
const (
	KindInt   Kind = "int"
	KindFloat Kind = "float"
	KindText  Kind = "text"
	KindTime  Kind = "time"
	KindDate  Kind = "date"
	KindBytes Kind = "bytes"
)

// timeLayout is how times are written: UTC, milliseconds (what DATETIME(3)
// keeps), always three digits so the encoding is canonical.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Column is one column of a table in the archive.
type Column struct {
	Name string `json:"name"`
	Kind Kind   `json:"type"`
}

// Header is the first line of an archive.
type Header struct {
	Type          string    `json:"type"` // "header"
	Format        int       `json:"format"`
	SchemaVersion int64     `json:"schema_version"`
	Dialect       string    `json:"dialect"`
	CreatedAt     time.Time `json:"created_at"`
	AppVersion    string    `json:"app_version,omitempty"`
}

type tableLine struct {
	Type    string   `json:"type"` // "table"
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

type endLine struct {
	Type   string `json:"type"` // "end"
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

type trailerLine struct {
	Type   string `json:"type"` // "trailer"
	Tables int    `json:"tables"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// kindOfSQLite maps a declared SQLite column type to its portable kind,
// following SQLite's own affinity rules plus the date types.
func kindOfSQLite(decl string) Kind {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "INT"):
		return KindInt
	case strings.Contains(d, "DATETIME"), strings.Contains(d, "TIMESTAMP"):
		return KindTime
	case strings.Contains(d, "DATE"):
		return KindDate
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"), strings.Contains(d, "JSON"):
		return KindText
	case strings.Contains(d, "BLOB"), d == "":
		return KindBytes
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return KindFloat
	}
	return KindText
}

// kindOfMySQL maps information_schema DATA_TYPE to its portable kind.
func kindOfMySQL(dataType string) Kind {
	switch strings.ToLower(dataType) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bit", "year":
		return KindInt
	case "datetime", "timestamp":
		return KindTime
	case "date":
		return KindDate
	case "tinyblob", "blob", "mediumblob", "longblob", "binary", "varbinary":
		return KindBytes
	case "float", "double", "real":
		return KindFloat
	}
	return KindText
}

// appendValue appends the canonical JSON encoding of a scanned value of
// kind k. The encoding is deterministic: the same data read from either
// engine gives the same bytes, which is what the checksums cover.
func appendValue(b []byte, k Kind, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	if bs, ok := v.([]byte); ok && k != KindBytes {
		if k == KindInt {
			return appendInt(b, bs)
		}
		v = string(bs)
	}
	switch k {
	case KindInt:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		case bool:
			if x {
				return append(b, '1'), nil
			}
			return append(b, '0'), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("integer column holds %q", x)
			}
			return strconv.AppendInt(b, n, 10), nil
		case float64:
			return strconv.AppendInt(b, int64(x), 10), nil
		}
	case KindFloat:
		switch x := v.(type) {
		case float64:
			return strconv.AppendFloat(b, x, 'g', -1, 64), nil
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("float column holds %q", x)
			}
			return strconv.AppendFloat(b, f, 'g', -1, 64), nil
		}
	case KindTime, KindDate:
		t, ok := v.(time.Time)
		if !ok {
			s := fmt.Sprint(v)
			if t, ok = parseStoredTime(s); !ok {
				// Unparseable text in a time column is kept as it is.
				return appendString(b, s), nil
			}
		}
		if k == KindDate {
			return appendString(b, t.UTC().Format(time.DateOnly)), nil
		}
		return appendString(b, t.UTC().Truncate(time.Millisecond).Format(timeLayout)), nil
	case KindBytes:
		switch x := v.(type) {
		case []byte:
			return appendString(b, base64.StdEncoding.EncodeToString(x)), nil
		case string:
			return appendString(b, base64.StdEncoding.EncodeToString([]byte(x))), nil
		}
	case KindText:
		switch x := v.(type) {
		case string:
			return appendString(b, x), nil
		case time.Time:
			return appendString(b, x.UTC().Format(timeLayout)), nil
		default:
			return appendString(b, fmt.Sprint(x)), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T in a %s column", v, k)
}

// appendString appends s exactly as json.Marshal encodes it (the format's
// canonical form), without json.Marshal's allocations for the common case:
// printable text with nothing to escape is copied between quotes.
func appendString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}

// plainJSON reports whether json.Marshal would write s unchanged between
// quotes: no control characters, quotes, backslashes or the HTML
// characters it escapes, valid UTF-8, and no U+2028/U+2029.
func plainJSON(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	if ascii {
		return true
	}
	return utf8.ValidString(s) && !strings.Contains(s, "\u2028") && !strings.Contains(s, "\u2029")
}

// appendInt appends an integer column's value given as decimal text (what
// MySQL's text protocol returns) when it is already canonical, else
// parses and rewrites it.
func appendInt(b []byte, x []byte) ([]byte, error) {
	digits := x
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	canonical := len(digits) > 0 && len(digits) < 19 && (digits[0] != '0' || len(digits) == 1) &&
		!(len(x) == 2 && x[0] == '-' && x[1] == '0')
	for _, c := range digits {
		if c < '0' || c > '9' {
			canonical = false
			break
		}
	}
	if canonical {
		return append(b, x...), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("integer column holds %q", x)
	}
	return strconv.AppendInt(b, n, 10), nil
}

// storedTimeLayouts are the text forms a time can have in SQLite.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
	time.DateOnly,
}

func parseStoredTime(s string) (time.Time, bool) {
	for _, l := range storedTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decodeValue turns one archived JSON value into an argument for INSERT.
func decodeValue(k Kind, raw any) (any, error) {
	if raw == nil {
		return nil, nil
	}
	switch k {
	case KindInt:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want an integer, got %T", raw)
		}
		return n.Int64()
	case KindFloat:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want a number, got %T", raw)
		}
		return n.Float64()
	}
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("want a string, got %T", raw)
	}
	switch k {
	case KindTime:
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
		return s, nil
	case KindBytes:
		return base64.StdEncoding.DecodeString(s)
	}
	return s, nil // text and dates ("2006-01-02", as both engines store it)
}
