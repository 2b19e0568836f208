package excel

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/store"
)

// Source is one resource's list as the rows of an export. An adapter per
// resource binds the list's own filter and pages through the resource's
// service, so an export holds exactly what the list shows the person: the
// same filters, the same order, the same data scope.
type Source interface {
	// Entity names the resource: the audit log's entity, and the key of the
	// sheet and file names (excel.sheet.<entity>, excel.file.<entity>).
	Entity() string
	// Perm is the permission an export needs, "<module>.export".
	Perm() auth.Perm
	// Headers are the column titles in l's language.
	Headers(l Locale) []string
	// Rows calls emit with each row in the list's order, as the Actor sees
	// them; it stops at emit's first error and returns it.
	Rows(ctx context.Context, a *auth.Actor, l Locale, emit func(row []string) error) error
	// Filter summarizes the filter for the audit log, e.g. "level=a q=华信".
	Filter() string
}

// ErrExportTooLarge answers an export with more rows than MaxExportRows.
func (s *Service) errExportTooLarge() error {
	return &errs.Error{Kind: errs.KindInvalid, Key: "excel.export_too_large",
		Args: map[string]any{"max": s.limits.MaxExportRows}}
}

// Export is a written export, ready to send. Close it when done.
type Export struct {
	FileName string
	Rows     int
	w        *sheetWriter
}

// Write streams the workbook to out.
func (e *Export) Write(out io.Writer) error { return e.w.writeTo(out) }

// Close removes the export's temporary files.
func (e *Export) Close() { e.w.close() }

// Export writes src's rows into a workbook (headers and option labels in
// lang, times in the company time zone, formula-like cells neutralized)
// and records the export in the audit log: entity, filter and row count.
// The rows stream through excelize's StreamWriter, so memory stays flat
// whatever the size; the caller sends the result with Write.
func (s *Service) Export(ctx context.Context, a *auth.Actor, src Source, lang string) (*Export, error) {
	if err := a.Require(src.Perm()); err != nil {
		return nil, err
	}
	l := s.Locale(lang)
	w, err := newSheetWriter(l.T("excel.sheet."+src.Entity()), src.Headers(l))
	if err != nil {
		return nil, err
	}
	n := 0
	err = src.Rows(ctx, a, l, func(row []string) error {
		if n == s.limits.MaxExportRows {
			return s.errExportTooLarge()
		}
		n++
		return w.add(row)
	})
	if err == nil {
		err = w.finish()
	}
	if err == nil {
		err = s.recordExport(ctx, a, src, n)
	}
	if err != nil {
		w.close()
		return nil, err
	}
	name := fmt.Sprintf("%s-%s.xlsx", l.T("excel.file."+src.Entity()), store.Now().In(s.loc).Format("20060102-1504"))
	return &Export{FileName: name, Rows: n, w: w}, nil
}

func (s *Service) recordExport(ctx context.Context, a *auth.Actor, src Source, n int) error {
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		return audit.Record(ctx, tx, audit.Who{ID: a.UserID, Name: a.Name}, audit.Entry{Action: actExport,
			Entity: src.Entity(), Changes: map[string]audit.Change{
				"filter": {New: src.Filter()}, "rows": {New: n},
			}})
	})
}

// summarize writes a filter as "name=value" pairs in name order, leaving
// out empty values; Sources use it for Filter.
func summarize(fields map[string]string) string {
	var parts []string
	for k, v := range fields {
		if v != "" && v != "0" {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
