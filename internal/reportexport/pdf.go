package reportexport

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/dingcrm/crm/internal/reportview"
)

const (
	pageMargin = 15.0 // mm
	rowHeight  = 6.0
	chartH     = 85.0
)

// palette is ECharts' default, so a chart looks the same in the browser and
// in the PDF.
var palette = [][3]int{
	{0x54, 0x70, 0xc6}, {0x91, 0xcc, 0x75}, {0xfa, 0xc8, 0x58}, {0xee, 0x66, 0x66}, {0x73, 0xc0, 0xde},
	{0x3b, 0xa2, 0x72}, {0xfc, 0x84, 0x52}, {0x9a, 0x60, 0xb4}, {0xea, 0x7c, 0xcc},
}

// PDF writes the report as an A4 document: the title, the conditions, the
// headline figures, every chart drawn here with fpdf's primitives (bar,
// line, pie, funnel, barline: axes, labels, legend), then every table,
// paginated with its header repeated on each page and its totals row last.
// Text uses the embedded CJK font, so Chinese is real text (searchable,
// extractable), not images.
func PDF(w io.Writer, r reportview.Report) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(false, pageMargin)
	addFonts(pdf)
	pdf.SetTitle(r.Title, true)
	pdf.SetCreator("dingcrm", true)
	pdf.AliasNbPages("{nb}")
	wd := wordsFor(r)
	d := &doc{pdf: pdf, words: wd}
	pdf.SetFooterFunc(func() {
		pdf.SetXY(pageMargin, -12)
		d.setSize(8)
		pdf.SetTextColor(128, 128, 128)
		d.cell(0, 5, r.Title+"   "+fmt.Sprintf(wd.page, pdf.PageNo()), "", 0, "C", false)
	})
	pdf.AddPage()
	d.header(r)
	d.summary(r.Summary)
	for _, c := range r.Charts {
		d.chart(c)
	}
	for _, t := range r.Tables {
		d.table(t)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("reportexport: pdf: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("reportexport: write pdf: %w", err)
	}
	return nil
}

// words are the few labels the exports add themselves, in the report's
// language (told by its title, the one localized text every report has).
type words struct{ total, pop, yoy, generated, page string }

func wordsFor(r reportview.Report) words {
	for _, c := range r.Title {
		if c >= 0x2E80 {
			return words{total: "合计", pop: "环比", yoy: "同比", generated: "生成时间", page: "%d / {nb}"}
		}
	}
	return words{total: "Total", pop: "PoP", yoy: "YoY", generated: "Generated", page: "%d / {nb}"}
}

type doc struct {
	pdf   *fpdf.Fpdf
	words words
	size  float64 // the current font size in points
}

func (d *doc) contentWidth() float64 {
	w, _ := d.pdf.GetPageSize()
	return w - 2*pageMargin
}

// ensure starts a new page unless h millimetres still fit on this one.
func (d *doc) ensure(h float64) bool {
	_, ph := d.pdf.GetPageSize()
	if d.pdf.GetY()+h > ph-pageMargin-5 {
		d.pdf.AddPage()
		return true
	}
	return false
}

func (d *doc) header(r reportview.Report) {
	p := d.pdf
	d.setSize(18)
	p.SetTextColor(0, 0, 0)
	d.cell(0, 10, r.Title, "", 1, "L", false)
	d.setSize(9)
	lw := 0.0
	for _, c := range r.Conditions {
		lw = max(lw, d.width(c.Label))
	}
	lw += 4
	conds := r.Conditions
	if r.GeneratedAt != "" {
		conds = append(conds[:len(conds):len(conds)], reportview.Condition{Label: d.words.generated, Value: r.GeneratedAt})
		lw = max(lw, d.width(d.words.generated)+4)
	}
	for _, c := range conds {
		p.SetTextColor(110, 110, 110)
		d.cell(lw, 5, c.Label, "", 0, "L", false)
		p.SetTextColor(0, 0, 0)
		d.cell(d.contentWidth()-lw, 5, d.fit(c.Value, d.contentWidth()-lw-2), "", 1, "L", false)
	}
	p.Ln(3)
}

// summary draws the headline figures as cards, three to a row.
func (d *doc) summary(ms []reportview.Metric) {
	if len(ms) == 0 {
		return
	}
	p := d.pdf
	const perRow, h, gap = 3, 20.0, 3.0
	w := (d.contentWidth() - gap*(perRow-1)) / perRow
	for i, m := range ms {
		if i%perRow == 0 {
			if i > 0 {
				p.SetY(p.GetY() + h + gap)
			}
			d.ensure(h)
		}
		x := pageMargin + float64(i%perRow)*(w+gap)
		y := p.GetY()
		p.SetDrawColor(220, 220, 220)
		p.SetFillColor(248, 249, 251)
		p.Rect(x, y, w, h, "FD")
		p.SetXY(x+2, y+1.5)
		d.setSize(8)
		p.SetTextColor(110, 110, 110)
		d.cell(w-4, 4, d.fit(m.Label, w-4), "", 2, "L", false)
		d.setSize(13)
		p.SetTextColor(0, 0, 0)
		d.cell(w-4, 7, d.fit(formatValue(m.Format, m.Value), w-4), "", 2, "L", false)
		d.setSize(7.5)
		p.SetX(x + 2)
		change := func(label string, v *float64) {
			if v == nil {
				return
			}
			s := fmt.Sprintf("%s %+.1f%%  ", label, *v*100)
			switch {
			case *v > 0:
				p.SetTextColor(0x3b, 0xa2, 0x72)
			case *v < 0:
				p.SetTextColor(0xd9, 0x3c, 0x3c)
			default:
				p.SetTextColor(110, 110, 110)
			}
			d.cell(d.width(s), 4, s, "", 0, "L", false)
		}
		change(d.words.pop, m.PoP)
		change(d.words.yoy, m.YoY)
		p.SetXY(pageMargin, y)
	}
	p.SetY(p.GetY() + h + 5)
	p.SetTextColor(0, 0, 0)
}

// table draws one table: title, header (repeated on each new page), rows,
// totals. Column widths follow the content and are scaled to the page.
func (d *doc) table(t reportview.Table) {
	if len(t.Columns) == 0 {
		return
	}
	p := d.pdf
	const fontSize = 8.0
	d.ensure(10 + 3*rowHeight)
	if t.Title != "" {
		d.setSize(12)
		p.SetTextColor(0, 0, 0)
		d.cell(0, 8, t.Title, "", 1, "L", false)
	}
	d.setSize(fontSize)
	widths := d.tableWidths(t)
	numeric := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		numeric[i] = c.Format != reportview.Text && c.Format != reportview.Date && c.Format != ""
	}
	head := func() {
		p.SetFillColor(0xdd, 0xeb, 0xf7)
		p.SetDrawColor(190, 190, 190)
		p.SetTextColor(0, 0, 0)
		p.SetX(pageMargin)
		for i, c := range t.Columns {
			align := "L"
			if numeric[i] {
				align = "R"
			}
			d.cell(widths[i], rowHeight+1, d.fit(c.Label, widths[i]-2), "1", 0, align, true)
		}
		p.Ln(-1)
	}
	row := func(cells func(i int, c reportview.Column) (string, bool), fill bool) {
		if d.ensure(rowHeight) {
			head()
		}
		p.SetX(pageMargin)
		for i, c := range t.Columns {
			s, num := cells(i, c)
			align := "L"
			if num {
				align = "R"
			}
			d.cell(widths[i], rowHeight, d.fit(s, widths[i]-2), "1", 0, align, fill)
		}
		p.Ln(-1)
	}
	head()
	for _, rw := range t.Rows {
		row(func(i int, c reportview.Column) (string, bool) {
			v := rw.Cells[c.Key]
			_, isNum := number(v)
			return formatValue(c.Format, v), numeric[i] && isNum
		}, false)
	}
	if len(t.Totals) > 0 {
		p.SetFillColor(242, 242, 242)
		row(func(i int, c reportview.Column) (string, bool) {
			if v, ok := t.Totals[c.Key]; ok {
				return formatValue(c.Format, v), numeric[i]
			}
			if i == 0 {
				return d.words.total, false
			}
			return "", false
		}, true)
	}
	p.Ln(5)
}

func (d *doc) tableWidths(t reportview.Table) []float64 {
	ws := make([]float64, len(t.Columns))
	total := 0.0
	for i, c := range t.Columns {
		w := d.width(c.Label)
		for j, rw := range t.Rows {
			if j == 200 {
				break
			}
			w = max(w, d.width(formatValue(c.Format, rw.Cells[c.Key])))
		}
		if v, ok := t.Totals[c.Key]; ok {
			w = max(w, d.width(formatValue(c.Format, v)))
		}
		ws[i] = min(70, w+4)
		total += ws[i]
	}
	scale := d.contentWidth() / total
	for i := range ws {
		ws[i] *= scale
	}
	return ws
}

func setColor(p *fpdf.Fpdf, i int, fill bool) {
	c := palette[i%len(palette)]
	if fill {
		p.SetFillColor(c[0], c[1], c[2])
	} else {
		p.SetDrawColor(c[0], c[1], c[2])
	}
}

// trim cuts long text for legends and labels.
func trim(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return string(r)
}
