package reportexport

import (
	_ "embed"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// The PDF's text uses two embedded TrueType fonts, because no single
// freely licensed TrueType font (fpdf reads TrueType outlines, not the CFF
// of Noto CJK) has both good Latin and the CJK ideographs: Droid Sans
// Fallback (Apache 2.0) has the ideographs but no Latin letters or digits,
// DejaVu Sans (Bitstream Vera licence) has Latin, Greek, Cyrillic,
// punctuation and ¥. Text is split into runs and each run is set in the
// font that has its characters. fpdf embeds only the glyphs used, so a
// report PDF stays small. Licences: fonts/NOTICE.
var (
	//go:embed fonts/DroidSansFallbackFull.ttf
	cjkFont []byte
	//go:embed fonts/DejaVuSans.ttf
	latinFont []byte
)

const (
	cjkFamily   = "droid"
	latinFamily = "dejavu"
)

// latin says whether DejaVu Sans should set r: everything below the CJK
// blocks except the fullwidth forms, which Droid has.
func latin(r rune) bool { return r < 0x2E80 }

type run struct {
	family string
	text   string
}

func runs(s string) []run {
	var out []run
	start := 0
	cur := ""
	for i, r := range s {
		fam := cjkFamily
		if latin(r) {
			fam = latinFamily
		}
		if fam != cur && i > start {
			out = append(out, run{cur, s[start:i]})
			start = i
		}
		cur = fam
	}
	if start < len(s) {
		out = append(out, run{cur, s[start:]})
	}
	return out
}

func addFonts(p *fpdf.Fpdf) {
	p.AddUTF8FontFromBytes(cjkFamily, "", cjkFont)
	p.AddUTF8FontFromBytes(latinFamily, "", latinFont)
}

// setSize sets the size, in points, of the text that follows.
func (d *doc) setSize(pt float64) {
	d.size = pt
	d.pdf.SetFont(latinFamily, "", pt)
}

// width is how wide s is at the current size, run by run.
func (d *doc) width(s string) float64 {
	w := 0.0
	for _, r := range runs(s) {
		d.pdf.SetFont(r.family, "", d.size)
		w += d.pdf.GetStringWidth(r.text)
	}
	return w
}

// text writes s with its baseline at (x, y).
func (d *doc) text(x, y float64, s string) {
	for _, r := range runs(s) {
		d.pdf.SetFont(r.family, "", d.size)
		d.pdf.Text(x, y, r.text)
		x += d.pdf.GetStringWidth(r.text)
	}
}

// cell is fpdf's CellFormat (border, fill, cursor movement by ln) with the
// text set run by run: align is L, C or R, always vertically centred.
// w == 0 reaches the right margin.
func (d *doc) cell(w, h float64, s, border string, ln int, align string, fill bool) {
	p := d.pdf
	x, y := p.GetXY()
	if w == 0 {
		pw, _ := p.GetPageSize()
		_, _, right, _ := p.GetMargins()
		w = pw - right - x
	}
	p.CellFormat(w, h, "", border, ln, "", fill, 0, "")
	if s == "" {
		return
	}
	tw := d.width(s)
	tx := x + 1
	switch align {
	case "R":
		tx = x + w - 1 - tw
	case "C":
		tx = x + (w-tw)/2
	}
	// The baseline sits about a third of the font size below the middle.
	d.text(tx, y+h/2+d.size*0.3528*0.35, s)
}

// fit shortens s with an ellipsis until it is at most w wide.
func (d *doc) fit(s string, w float64) string {
	if d.width(s) <= w {
		return s
	}
	r := []rune(s)
	// Cut roughly first, then exactly.
	if n := utf8.RuneCountInString(s); n > 200 {
		r = r[:200]
	}
	for len(r) > 0 && d.width(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
