package excel

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/dingcrm/crm/internal/excel/exceltest"
	"github.com/dingcrm/crm/internal/i18n"
)

// The import reader takes a file anyone with the import permission can
// upload. Whatever the bytes, it must answer with an error or rows, never
// a panic, a hang or an allocation out of proportion to its limits.

// fuzzLimits keep the fuzzer's inputs cheap while exercising every limit.
var fuzzLimits = Limits{MaxFileBytes: 1 << 20, MaxUnzippedBytes: 4 << 20, MaxRows: 200}

// maxFuzzAlloc bounds what reading one input may allocate: a generous
// multiple of the unzipped limit, far below what a decompression or
// preallocation bomb would take.
const maxFuzzAlloc = 64 * (4 << 20)

// fuzzDeadline is far above what any accepted input needs (milliseconds).
const fuzzDeadline = 5 * time.Second

func fuzzService(t testing.TB) *Service {
	t.Helper()
	return NewService(nil, i18n.MustLoad(), time.UTC, slog.New(slog.DiscardHandler)).WithLimits(fuzzLimits)
}

func checkUpload(t *testing.T, s *Service, data []byte) {
	t.Helper()
	start := time.Now()
	// A hung read never returns to the check below: crash the fuzzing
	// process instead, which makes the fuzzer keep the input.
	hung := time.AfterFunc(2*fuzzDeadline, func() { panic(fmt.Sprintf("reading %d bytes hangs", len(data))) })
	defer hung.Stop()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	emitted := 0 // rows handed to the checker while the sheet is read
	up, err := s.readUpload(data, s.Locale("zh-CN"), func(_ *upload, rs []record) { emitted += len(rs) })
	runtime.ReadMemStats(&after)
	if d := time.Since(start); d > fuzzDeadline {
		t.Fatalf("reading %d bytes took %v", len(data), d)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > maxFuzzAlloc {
		t.Fatalf("reading %d bytes allocated %d MB", len(data), n>>20)
	}
	if err != nil {
		return
	}
	if len(up.rows) == 0 || len(up.rows) > fuzzLimits.MaxRows || up.layout == nil {
		t.Fatalf("accepted an upload of %d rows, layout %v", len(up.rows), up.layout)
	}
	if emitted != len(up.rows) {
		t.Fatalf("read %d rows but handed %d to the checker", len(up.rows), emitted)
	}
}

var fuzzHeaders = []string{"客户名称", "联系电话", "公司名称"}

// FuzzReadUpload feeds arbitrary bytes (and valid files the fuzzer mutates).
func FuzzReadUpload(f *testing.F) {
	f.Add(exceltest.Workbook(f, fuzzHeaders, [][]string{{"王芳", "13800138000", "瑞丰"}, {"", "", ""}, {"李四"}}))
	f.Add(exceltest.Workbook(f, []string{"Customer name", "Phone"}, [][]string{{"ACME", "=1+1"}}))
	f.Add(exceltest.Workbook(f, []string{"nothing", "known"}, [][]string{{"a", "b"}}))
	f.Add(exceltest.ZipBomb(f, fuzzHeaders, 8<<20))
	f.Add(exceltest.NotXLSX())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	s := fuzzService(f)
	f.Fuzz(func(t *testing.T, data []byte) { checkUpload(t, s, data) })
}

// FuzzReadUploadSheet puts arbitrary XML into the sheet and shared strings
// of an otherwise valid workbook, so the fuzzer works on what excelize
// parses instead of on zip checksums.
func FuzzReadUploadSheet(f *testing.F) {
	base := exceltest.Workbook(f, fuzzHeaders, [][]string{{"王芳", "13800138000", "瑞丰"}})
	sheet := zipEntry(f, base, "xl/worksheets/sheet1.xml")
	shared := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>客户名称</t></si><si><t>王芳</t></si></sst>`
	f.Add(sheet, "")
	f.Add(sheet, shared)
	f.Add(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>`, shared)
	f.Add(`<worksheet><sheetData><row r="1"><c r="XFD1" t="inlineStr"><is><t>客户名称</t></is></c></row><row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>`, "")
	f.Add(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>99999999</v></c></row></sheetData></worksheet>`, shared)
	f.Add(`<worksheet><sheetData><row r="-1"><c r="A0"/></row><row r="2147483648"/></sheetData></worksheet>`, "<sst>")
	s := fuzzService(f)
	f.Fuzz(func(t *testing.T, sheetXML, sharedXML string) {
		checkUpload(t, s, replaceEntries(t, base, map[string]string{
			"xl/worksheets/sheet1.xml": sheetXML, "xl/sharedStrings.xml": sharedXML}))
	})
}

func zipEntry(t testing.TB, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
	}
	t.Fatalf("no %s in the workbook", name)
	return ""
}

// replaceEntries rewrites a zip with some entries' content replaced (an
// empty replacement leaves the entry out, a missing entry is added).
func replaceEntries(t testing.TB, b []byte, repl map[string]string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	done := map[string]bool{}
	write := func(name string, content []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(content)
	}
	for _, f := range zr.File {
		if content, ok := repl[f.Name]; ok {
			done[f.Name] = true
			if content != "" {
				write(f.Name, []byte(content))
			}
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(r)
		r.Close()
		write(f.Name, content)
	}
	for name, content := range repl {
		if !done[name] && content != "" {
			write(name, []byte(content))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
