package excel

import (
	"bytes"
	"strconv"
)

// errorFile builds the file of rejected rows: the upload's own columns and
// cells (so the rows can be fixed and uploaded again), then the row's
// number in the upload and what is wrong with it. The passive columns of an
// earlier error file are left out, so a re-uploaded one does not grow.
func (s *Service) errorFile(up *upload, rows []*row, l Locale) ([]byte, error) {
	var keep []int
	var headers []string
	for i, h := range up.headers {
		if i < len(up.layout) && (up.layout[i] == passive+"source_row" || up.layout[i] == passive+"problems") {
			continue
		}
		keep = append(keep, i)
		headers = append(headers, h)
	}
	headers = append(headers, l.T("excel.col.source_row"), l.T("excel.col.problems"))
	w, err := newSheetWriter(l.T("excel.sheet.rejected"), headers)
	if err != nil {
		return nil, err
	}
	defer w.close()
	for _, r := range rows {
		if r.ok() {
			continue
		}
		cells := make([]string, 0, len(headers))
		for _, i := range keep {
			cell := ""
			if i < len(r.rec.cells) {
				cell = r.rec.cells[i]
			}
			cells = append(cells, cell)
		}
		cells = append(cells, strconv.Itoa(r.rec.line), joinProblems(r.problems, l))
		if err := w.add(cells); err != nil {
			return nil, err
		}
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := w.writeTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
