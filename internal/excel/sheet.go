package excel

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// formulaStarts are the first characters that make a spreadsheet
// application (or a CSV made from the file) read a cell as a formula:
// OWASP's CSV-injection list.
const formulaStarts = "=+-@\t\r"

// neutralize makes a cell that would start a formula plain text by
// prefixing a single quote, OWASP's advice. The quote is visible, which is
// the point: the value is shown as the text it is, in Excel, in WPS and in
// any CSV saved from the file. The import removes it again (unquote), so an
// export imports back unchanged.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// sheetWriter streams rows into a one-sheet workbook in constant memory:
// excelize's StreamWriter keeps at most a chunk of the sheet in memory and
// the rest in a temporary file.
type sheetWriter struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	next int // the next row number
}

// newSheetWriter starts a workbook whose only sheet is named sheet, with a
// bold, frozen header row.
func newSheetWriter(sheet string, headers []string) (*sheetWriter, error) {
	f := excelize.NewFile()
	w := &sheetWriter{f: f, next: 1}
	if err := f.SetSheetName("Sheet1", sheetName(sheet)); err != nil {
		w.close()
		return nil, fmt.Errorf("excel: name sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheetName(sheet))
	if err != nil {
		w.close()
		return nil, fmt.Errorf("excel: stream writer: %w", err)
	}
	w.sw = sw
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		w.close()
		return nil, fmt.Errorf("excel: header style: %w", err)
	}
	for i, h := range headers {
		if err := sw.SetColWidth(i+1, i+1, columnWidth(h)); err != nil {
			w.close()
			return nil, fmt.Errorf("excel: column width: %w", err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		w.close()
		return nil, fmt.Errorf("excel: freeze header: %w", err)
	}
	if err := w.addStyled(headers, bold); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// sheetName keeps a sheet name within Excel's rules (31 characters, none
// of []:*?/\).
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	return s
}

// columnWidth fits a column to its header, wider for CJK text.
func columnWidth(header string) float64 {
	w := 0.0
	for _, r := range header {
		if r > 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return max(12, w+4)
}

// add appends one row of text cells, neutralized.
func (w *sheetWriter) add(cells []string) error { return w.addStyled(cells, 0) }

func (w *sheetWriter) addStyled(cells []string, style int) error {
	values := make([]any, len(cells))
	for i, c := range cells {
		values[i] = excelize.Cell{StyleID: style, Value: neutralize(c)}
	}
	cell, _ := excelize.CoordinatesToCellName(1, w.next)
	if err := w.sw.SetRow(cell, values); err != nil {
		return fmt.Errorf("excel: write row %d: %w", w.next, err)
	}
	w.next++
	return nil
}

// finish ends the sheet; the workbook can then be written.
func (w *sheetWriter) finish() error {
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("excel: finish sheet: %w", err)
	}
	return nil
}

// writeTo writes the finished workbook to out. excelize normally zips the
// whole workbook into a memory buffer first; pointing its ZipWriter hook
// at out streams the zip straight there instead, keeping an export of any
// size in constant memory.
func (w *sheetWriter) writeTo(out io.Writer) error {
	w.f.ZipWriter = func(io.Writer) excelize.ZipWriter { return zip.NewWriter(out) }
	if _, err := w.f.WriteToBuffer(); err != nil {
		return fmt.Errorf("excel: write workbook: %w", err)
	}
	return nil
}

// close removes the workbook's temporary files.
func (w *sheetWriter) close() { w.f.Close() }
