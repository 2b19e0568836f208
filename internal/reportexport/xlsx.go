package reportexport

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/reportview"
)

// XLSX writes the report as an Excel workbook: one sheet per table, each
// starting with the report's title, its conditions and when it was made,
// then the table with a bold frozen header, typed cells (money as ¥ with two
// decimals from fen, percentages, counts) and the totals row. The first
// sheet also lists the headline figures. A report without tables gets one
// sheet with the conditions and figures. Rows are streamed, so a large table
// costs little memory, and the zip goes straight to w.
func XLSX(w io.Writer, r reportview.Report) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	tables := r.Tables
	if len(tables) == 0 {
		tables = []reportview.Table{{Title: r.Title}}
	}
	used := map[string]bool{}
	for i, t := range tables {
		name := uniqueSheetName(t.Title, i, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("reportexport: name sheet: %w", err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("reportexport: add sheet: %w", err)
		}
		var summary []reportview.Metric
		if i == 0 {
			summary = r.Summary
		}
		if err := writeSheet(f, name, st, r, summary, t); err != nil {
			return err
		}
	}
	f.ZipWriter = func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) }
	if _, err := f.WriteToBuffer(); err != nil {
		return fmt.Errorf("reportexport: write workbook: %w", err)
	}
	return nil
}

// xlsxStyles are the workbook's cell styles, made once.
type xlsxStyles struct {
	title, label, header, totalsLabel int
	byFormat                          map[reportview.Format]int
	totalsBy                          map[reportview.Format]int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	st := xlsxStyles{byFormat: map[reportview.Format]int{}, totalsBy: map[reportview.Format]int{}}
	moneyFmt := `"¥"#,##0.00;-"¥"#,##0.00`
	border := []excelize.Border{{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	totalsFill := excelize.Fill{Type: "pattern", Color: []string{"F2F2F2"}, Pattern: 1}
	defs := []struct {
		dst   *int
		style excelize.Style
	}{
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.label, excelize.Style{Font: &excelize.Font{Color: "666666"}}},
		{&st.header, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"DDEBF7"}, Pattern: 1}, Border: border, Alignment: &excelize.Alignment{Vertical: "center"}}},
		{&st.totalsLabel, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: totalsFill, Border: border}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.style)
		if err != nil {
			return st, fmt.Errorf("reportexport: style: %w", err)
		}
		*d.dst = id
	}
	formats := map[reportview.Format]excelize.Style{
		reportview.Text:    {},
		reportview.Date:    {},
		reportview.Int:     {NumFmt: 3},  // #,##0
		reportview.Number:  {NumFmt: 2},  // 0.00
		reportview.Percent: {NumFmt: 10}, // 0.00%
		reportview.Money:   {CustomNumFmt: &moneyFmt},
	}
	for k, s := range formats {
		id, err := f.NewStyle(&s)
		if err != nil {
			return st, fmt.Errorf("reportexport: style: %w", err)
		}
		st.byFormat[k] = id
		s.Font = &excelize.Font{Bold: true}
		s.Fill = totalsFill
		s.Border = border
		if id, err = f.NewStyle(&s); err != nil {
			return st, fmt.Errorf("reportexport: style: %w", err)
		}
		st.totalsBy[k] = id
	}
	return st, nil
}

func (st xlsxStyles) cell(f reportview.Format) int {
	if id, ok := st.byFormat[f]; ok {
		return id
	}
	return st.byFormat[reportview.Text]
}

func (st xlsxStyles) totals(f reportview.Format) int {
	if id, ok := st.totalsBy[f]; ok {
		return id
	}
	return st.totalsBy[reportview.Text]
}

// writeSheet streams one sheet: title, conditions, figures, then the table.
func writeSheet(f *excelize.File, sheet string, st xlsxStyles, r reportview.Report, summary []reportview.Metric, t reportview.Table) error {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("reportexport: stream writer: %w", err)
	}
	// The rows above the table, known up front so the header row number is
	// known before anything is written (widths and panes come first).
	var top [][]any
	title := r.Title
	if t.Title != "" && t.Title != r.Title {
		title += " — " + t.Title
	}
	top = append(top, []any{excelize.Cell{StyleID: st.title, Value: safe(title)}})
	for _, c := range r.Conditions {
		top = append(top, []any{excelize.Cell{StyleID: st.label, Value: safe(c.Label)}, excelize.Cell{Value: safe(c.Value)}})
	}
	if r.GeneratedAt != "" {
		top = append(top, []any{excelize.Cell{StyleID: st.label, Value: "⏱"}, excelize.Cell{Value: r.GeneratedAt}})
	}
	for _, m := range summary {
		top = append(top, []any{excelize.Cell{StyleID: st.label, Value: safe(m.Label)}, xlsxValue(m.Format, m.Value, st.cell(m.Format))})
	}
	top = append(top, nil) // a blank row before the table
	headerRow := len(top) + 1

	widths := columnWidths(t)
	if len(widths) < 2 {
		widths = append(widths, 14, 30)[:2]
	}
	widths[0] = max(widths[0], 14)
	if len(widths) > 1 {
		widths[1] = max(widths[1], 20)
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("reportexport: column width: %w", err)
		}
	}
	if len(t.Columns) > 0 {
		first, _ := excelize.CoordinatesToCellName(1, headerRow+1)
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: first, ActivePane: "bottomLeft"}); err != nil {
			return fmt.Errorf("reportexport: freeze header: %w", err)
		}
	}
	row := 1
	put := func(values []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		if err := sw.SetRow(cell, values); err != nil {
			return fmt.Errorf("reportexport: write row %d: %w", row-1, err)
		}
		return nil
	}
	for _, v := range top {
		if err := put(v); err != nil {
			return err
		}
	}
	if len(t.Columns) > 0 {
		head := make([]any, len(t.Columns))
		for i, c := range t.Columns {
			head[i] = excelize.Cell{StyleID: st.header, Value: safe(c.Label)}
		}
		if err := put(head); err != nil {
			return err
		}
		values := make([]any, len(t.Columns))
		for _, rw := range t.Rows {
			for i, c := range t.Columns {
				values[i] = xlsxValue(c.Format, rw.Cells[c.Key], st.cell(c.Format))
			}
			if err := put(values); err != nil {
				return err
			}
		}
		if len(t.Totals) > 0 {
			tot := make([]any, len(t.Columns))
			for i, c := range t.Columns {
				v, ok := t.Totals[c.Key]
				switch {
				case ok:
					tot[i] = xlsxValue(c.Format, v, st.totals(c.Format))
				case i == 0:
					tot[i] = excelize.Cell{StyleID: st.totalsLabel, Value: totalLabel(r)}
				default:
					tot[i] = excelize.Cell{StyleID: st.totalsLabel}
				}
			}
			if err := put(tot); err != nil {
				return err
			}
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("reportexport: finish sheet: %w", err)
	}
	return nil
}

// xlsxValue is a typed cell: money in yuan (the number format adds ¥ and two
// decimals), ratios as ratios under a percent format, text neutralized.
func xlsxValue(f reportview.Format, v any, style int) excelize.Cell {
	n, ok := number(v)
	if !ok || f == reportview.Text || f == reportview.Date {
		return excelize.Cell{StyleID: style, Value: safe(text(v))}
	}
	if f == reportview.Money {
		// float64(fen)/100 is the double nearest the exact yuan amount (IEEE
		// division rounds correctly and fen is exact below 2^53).
		y := float64(int64(math.Round(n))) / 100
		return excelize.Cell{StyleID: style, Value: y}
	}
	return excelize.Cell{StyleID: style, Value: n}
}

// totalLabel is the first cell of the totals row, in the report's language
// (guessed from its title, the one localized text every report has).
func totalLabel(r reportview.Report) string {
	for _, c := range r.Title {
		if c >= 0x2E80 {
			return "合计"
		}
	}
	return "Total"
}

// safe stops text from being read as a formula (OWASP CSV injection): a
// leading =, +, -, @, tab or carriage return gets a quote in front.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// uniqueSheetName keeps within Excel's rules (31 characters, none of
// []:*?/\, unique regardless of case).
func uniqueSheetName(title string, i int, used map[string]bool) string {
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(title))
	s = strings.Trim(s, "'")
	if s == "" {
		s = "Sheet" + strconv.Itoa(i+1)
	}
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	base := s
	for n := 2; used[strings.ToLower(s)]; n++ {
		suffix := " (" + strconv.Itoa(n) + ")"
		r := []rune(base)
		if len(r)+len([]rune(suffix)) > 31 {
			r = r[:31-len([]rune(suffix))]
		}
		s = string(r) + suffix
	}
	used[strings.ToLower(s)] = true
	return s
}

// columnWidths fits each column to its header and the first rows' shown
// values (CJK characters count double), between 8 and 50.
func columnWidths(t reportview.Table) []float64 {
	out := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		w := displayWidth(c.Label)
		for j, rw := range t.Rows {
			if j == 200 {
				break
			}
			w = max(w, displayWidth(formatValue(c.Format, rw.Cells[c.Key])))
		}
		if v, ok := t.Totals[c.Key]; ok {
			w = max(w, displayWidth(formatValue(c.Format, v)))
		}
		out[i] = min(50, max(8, w+3))
	}
	return out
}

func displayWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return w
}
