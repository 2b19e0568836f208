package excel

import (
	"archive/zip"
	"bytes"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/customer"
	"github.com/dingcrm/crm/internal/errs"
)

// Errors about the uploaded file. ErrFileTooLarge is answered with 413.
var (
	ErrFileRequired = fileError("excel.file_required")
	ErrNotXLSX      = fileError("excel.not_xlsx")
	ErrFileTooLarge = &errs.Error{Kind: errs.KindInvalid, Key: "excel.file_too_large"}
)

// zipMagic starts every .xlsx (a zip archive's local file header).
var zipMagic = []byte("PK\x03\x04")

// record is one data row of an uploaded sheet: its row number as Excel
// shows it and its cells as they were (for the file of rejected rows).
type record struct {
	line  int
	cells []string
}

// upload is a parsed import file.
type upload struct {
	headers []string
	layout  layout
	rows    []record
	// checked are rows, validated by the checker as they were read, and
	// crm the CRM's customers sharing a duplicate key with one of them.
	checked []*row
	crm     map[string]customer.Duplicate
}

// readUpload checks an uploaded file and reads its first sheet: a zip with
// a sane unpacked size that excelize opens, a known header row, and at most
// MaxRows data rows (blank rows are skipped). Nothing is written. Each
// chunk of data rows goes to emit as soon as it is read.
func (s *Service) readUpload(data []byte, l Locale, emit func(*upload, []record)) (*upload, error) {
	if len(data) == 0 {
		return nil, ErrFileRequired
	}
	if int64(len(data)) > s.limits.MaxFileBytes {
		return nil, s.tooLarge()
	}
	if !bytes.HasPrefix(data, zipMagic) {
		return nil, ErrNotXLSX
	}
	if err := s.checkUnzippedSize(data); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: s.limits.MaxUnzippedBytes,
		UnzipXMLSizeLimit: min(16<<20, s.limits.MaxUnzippedBytes),
	})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return nil, s.unzippedTooLarge()
		}
		return nil, ErrNotXLSX
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, ErrNotXLSX
	}
	return s.readSheet(f, sheets[0], l, emit)
}

// checkUnzippedSize refuses a zip whose entries declare more than the
// limit in total. The declared sizes can be trusted as a cap: archive/zip
// fails a read that inflates past an entry's declared size.
func (s *Service) checkUnzippedSize(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ErrNotXLSX
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(s.limits.MaxUnzippedBytes) {
			return s.unzippedTooLarge()
		}
	}
	return nil
}

func (s *Service) tooLarge() error {
	e := *ErrFileTooLarge
	e.Args = map[string]any{"mb": s.limits.MaxFileBytes >> 20}
	return &e
}

func (s *Service) unzippedTooLarge() error {
	return fileError("excel.unzipped_too_large", "mb", s.limits.MaxUnzippedBytes>>20)
}

func (s *Service) readSheet(f *excelize.File, sheet string, l Locale, emit func(*upload, []record)) (*upload, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, ErrNotXLSX
	}
	defer rows.Close()
	up := &upload{}
	sent := 0 // up.rows[:sent] went to emit
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, ErrNotXLSX
		}
		if line == 1 {
			if up.layout, err = readHeaders(s.msg, l, cells); err != nil {
				return nil, err
			}
			up.headers = cells
			continue
		}
		if blank(cells) {
			continue
		}
		if len(up.rows) == s.limits.MaxRows {
			return nil, fileError("excel.too_many_rows", "max", s.limits.MaxRows)
		}
		up.rows = append(up.rows, record{line: line, cells: cells})
		if len(up.rows)-sent == checkChunk {
			emit(up, up.rows[sent:])
			sent = len(up.rows)
		}
	}
	if rows.Error() != nil {
		return nil, ErrNotXLSX
	}
	if up.layout == nil {
		return nil, fileError("excel.missing_headers", "headers", l.T("excel.col.name"))
	}
	if len(up.rows) == 0 {
		return nil, fileError("excel.no_rows")
	}
	if sent < len(up.rows) {
		emit(up, up.rows[sent:])
	}
	return up, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// cell returns the cell of a record in the column with this key ("" when
// the sheet lacks the column or the row is short).
func (u *upload) cell(r record, key string) string {
	for i, k := range u.layout {
		if k == key {
			if i < len(r.cells) {
				return r.cells[i]
			}
			return ""
		}
	}
	return ""
}
