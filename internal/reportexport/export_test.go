package reportexport

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dingcrm/crm/internal/reportview"
	"github.com/dingcrm/crm/internal/reportview/reportviewtest"
)

// pdfText extracts a PDF's text with poppler's pdftotext, the way a reader's
// copy-and-paste or a search engine would see it.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext missing (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// chartPixels renders page 1 at 72 dpi (pdftoppm) and counts the pixels
// close to a colour of the chart palette.
func chartPixels(t *testing.T, pdf []byte) int {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftoppm missing (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-r", "72", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "p")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	img, err := os.ReadFile(filepath.Join(dir, "p.ppm"))
	if err != nil {
		t.Fatal(err)
	}
	// P6 header: magic, width, height, maxval, each followed by whitespace.
	fields, rest := 0, img
	for fields < 4 {
		for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '\t') {
			rest = rest[1:]
		}
		for len(rest) > 0 && !(rest[0] == ' ' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '\t') {
			rest = rest[1:]
		}
		fields++
	}
	rest = rest[1:]
	n := 0
	for i := 0; i+2 < len(rest); i += 3 {
		for _, c := range palette {
			d := abs(int(rest[i])-c[0]) + abs(int(rest[i+1])-c[1]) + abs(int(rest[i+2])-c[2])
			if d < 30 {
				n++
				break
			}
		}
	}
	return n
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func withChart(kind string) reportview.Report {
	r := reportviewtest.Sales(31)
	c := r.Charts[0]
	c.Kind = kind
	c.Title = "图表-" + kind
	c.Categories = c.Categories[:6]
	for i := range c.Series {
		c.Series[i].Values = c.Series[i].Values[:6]
	}
	r.Charts = []reportview.Chart{c}
	return r
}

func TestPDFChineseTextAndEveryChartKind(t *testing.T) {
	cases := []struct {
		name   string
		report reportview.Report
		want   []string
	}{
		{"bar", withChart("bar"), []string{"图表-bar", "销售金额"}},
		{"line", withChart("line"), []string{"图表-line", "成交笔数"}},
		{"pie", withChart("pie"), []string{"图表-pie", "2026-11-01"}},
		{"barline", withChart("barline"), []string{"图表-barline", "销售金额", "成交笔数"}},
		{"funnel", reportviewtest.Funnel(), []string{"销售漏斗", "初步接洽", "加权金额", "¥3,015,000.00", "赢单"}},
		{"english", func() reportview.Report {
			r := withChart("bar")
			r.Title = "Sales report"
			return r
		}(), []string{"Sales report", "Total", "PoP +12.5%", "1 / 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := PDF(&b, tc.report); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", b.Bytes()[:min(20, b.Len())])
			}
			// The chart is drawn: page 1 has pixels in the chart palette's colours
			// (the KPI cards and tables use none of them).
			if n := chartPixels(t, b.Bytes()); n < 300 {
				t.Errorf("page 1 has %d pixels in chart colours; the chart was not drawn", n)
			}
			text := pdfText(t, b.Bytes())
			want := append([]string{tc.report.Title}, tc.want...)
			for _, c := range tc.report.Conditions {
				want = append(want, c.Label, c.Value)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("PDF text lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestPDFTablesPaginateWithHeaderAndTotals(t *testing.T) {
	r := reportviewtest.Sales(120)
	r.Charts = nil
	var b bytes.Buffer
	if err := PDF(&b, r); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, b.Bytes())
	pages := strings.Split(text, "\f")
	if len(pages) < 4 {
		t.Fatalf("120 rows fit on %d pages; want pagination", len(pages))
	}
	// The by-day table spans pages 1..3: each of its pages repeats the header.
	for i, pg := range pages[:3] {
		if !strings.Contains(pg, "成交笔数") || !strings.Contains(pg, "销售金额") {
			t.Errorf("page %d lacks the repeated header:\n%s", i+1, pg)
		}
	}
	day := r.Tables[0]
	cells := []string{
		"2026-08-03", // the first day
		"2026-11-30", // the last day
		formatValue(reportview.Money, day.Rows[5].Cells["amount"]),
		"合计",
		formatValue(reportview.Money, day.Totals["amount"]),
		"100.0%",
		"张伟", "企业版年费", "转介绍",
		"1 / 4",
	}
	for _, c := range cells {
		if !strings.Contains(text, c) {
			t.Errorf("PDF text lacks %q", c)
		}
	}
}

func TestXLSXSheetsHeaderTotalsConditions(t *testing.T) {
	r := reportviewtest.Sales(31)
	r.Tables[1].Rows[0].Cells["name"] = "=HYPERLINK(\"x\")" // must stay text
	var b bytes.Buffer
	if err := XLSX(&b, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if want := []string{"按日", "按销售人员", "按产品", "按来源"}; strings.Join(sheets, ",") != strings.Join(want, ",") {
		t.Fatalf("sheets %v, want %v", sheets, want)
	}
	rows, err := f.GetRows("按日")
	if err != nil {
		t.Fatal(err)
	}
	cell := func(sheet, ref string) string {
		v, err := f.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Title, three conditions, generated at, three figures, blank, header.
	if got := cell("按日", "A1"); got != "销售报表 — 按日" {
		t.Errorf("A1 = %q", got)
	}
	for i, c := range r.Conditions {
		row := rows[1+i]
		if row[0] != c.Label || row[1] != c.Value {
			t.Errorf("condition row %d = %v, want %s %s", i+2, row, c.Label, c.Value)
		}
	}
	header := 1 + len(r.Conditions) + 1 + len(r.Summary) + 1 + 1
	if got := strings.Join(rows[header-1], ","); got != "日期,成交笔数,销售金额,占比" {
		t.Errorf("header row %d = %q", header, got)
	}
	first := rows[header]
	if first[0] != "2026-10-31" || first[2] != money(int64(r.Tables[0].Rows[0].Cells["amount"].(int64))) {
		t.Errorf("first row %v", first)
	}
	if !strings.HasSuffix(first[3], "%") {
		t.Errorf("share %q is not shown as a percent", first[3])
	}
	last := rows[header+31]
	if last[0] != "合计" || last[2] != formatValue(reportview.Money, r.Tables[0].Totals["amount"]) || last[3] != "100.00%" {
		t.Errorf("totals row %v", last)
	}
	// Money is a number (yuan) under a ¥ format, not text.
	ref, _ := excelize.CoordinatesToCellName(3, header+1)
	raw, _ := f.GetCellValue("按日", ref, excelize.Options{RawCellValue: true})
	if got, err := strconv.ParseFloat(raw, 64); err != nil || got != float64(r.Tables[0].Rows[0].Cells["amount"].(int64))/100 {
		t.Errorf("raw money cell %q: want the amount in yuan as a number", raw)
	}
	panes, err := f.GetPanes("按日")
	if err != nil || !panes.Freeze || panes.YSplit != header {
		t.Errorf("panes %+v %v, want header row %d frozen", panes, err, header)
	}
	// The other sheets carry the conditions too, and no figures.
	other, _ := f.GetRows("按销售人员")
	if other[1][1] != r.Conditions[0].Value || other[len(r.Conditions)+3][0] != "销售人员" {
		t.Errorf("second sheet top %v", other[:len(r.Conditions)+4])
	}
	if got := other[len(r.Conditions)+4][0]; got != "'=HYPERLINK(\"x\")" {
		t.Errorf("formula-looking text = %q, want it quoted", got)
	}
	if w, _ := f.GetColWidth("按日", "C"); w < 12 {
		t.Errorf("money column width %v", w)
	}
}

func TestXLSXWithoutTables(t *testing.T) {
	r := reportviewtest.Funnel()
	r.Tables = nil
	var b bytes.Buffer
	if err := XLSX(&b, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if rows[0][0] != "销售漏斗" || rows[1][1] != r.Conditions[0].Value || rows[3][0] != "加权金额" {
		t.Errorf("rows %v", rows)
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		f    reportview.Format
		v    any
		want string
	}{
		{reportview.Money, int64(123456789), "¥1,234,567.89"},
		{reportview.Money, float64(-5), "-¥0.05"},
		{reportview.Money, float64(100), "¥1.00"},
		{reportview.Percent, 0.125, "12.5%"},
		{reportview.Int, float64(1234567), "1,234,567"},
		{reportview.Number, 4.5, "4.50"},
		{reportview.Text, "客户", "客户"},
		{reportview.Date, "2026-11-01", "2026-11-01"},
		{reportview.Money, nil, ""},
	}
	for _, c := range cases {
		if got := formatValue(c.f, c.v); got != c.want {
			t.Errorf("formatValue(%s, %v) = %q, want %q", c.f, c.v, got, c.want)
		}
	}
}

// BenchmarkExportYear renders a year-sized report (365 days by day plus
// three smaller tables and four charts with 365 points) and reports the
// peak heap in use beside the time.
func BenchmarkExportYear(b *testing.B) {
	r := reportviewtest.Sales(365)
	for _, format := range []struct {
		name string
		fn   func(*bytes.Buffer, reportview.Report) error
	}{
		{"xlsx", func(w *bytes.Buffer, r reportview.Report) error { return XLSX(w, r) }},
		{"pdf", func(w *bytes.Buffer, r reportview.Report) error { return PDF(w, r) }},
	} {
		b.Run(format.name, func(b *testing.B) {
			var size int
			peak := peakHeap(func() {
				for i := 0; i < b.N; i++ {
					var buf bytes.Buffer
					if err := format.fn(&buf, r); err != nil {
						b.Fatal(err)
					}
					size = buf.Len()
				}
			})
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(size)/1024, "file-KB")
		})
	}
}

// peakHeap runs fn while sampling the heap in use every millisecond.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var s runtime.MemStats
		for {
			select {
			case <-done:
				peak <- top
				return
			default:
			}
			runtime.ReadMemStats(&s)
			top = max(top, s.HeapInuse)
			time.Sleep(time.Millisecond)
		}
	}()
	fn()
	close(done)
	p := <-peak
	if p < base {
		return 0
	}
	return p - base
}
