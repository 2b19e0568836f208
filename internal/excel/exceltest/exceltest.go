// Package exceltest builds and reads .xlsx files for tests of the import
// and the exports: workbooks from rows, a file's rows back, and hostile
// files (a zip bomb, a text file named .xlsx).
package exceltest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Workbook returns an .xlsx whose first sheet holds headers then rows.
func Workbook(t testing.TB, headers []string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range append([][]string{headers}, rows...) {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Rows reads the first sheet of an .xlsx (or the sheet named, if given):
// every row, each padded to the width of the first.
func Rows(t testing.TB, b []byte, sheet ...string) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an xlsx: %v", err)
	}
	defer f.Close()
	name := f.GetSheetList()[0]
	if len(sheet) > 0 {
		name = sheet[0]
	}
	rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < len(rows[0]) {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// Sheets lists a workbook's sheets.
func Sheets(t testing.TB, b []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an xlsx: %v", err)
	}
	defer f.Close()
	return f.GetSheetList()
}

// ZipBomb returns a valid .xlsx whose sheet XML unpacks to about size
// bytes (rows of one repeated cell) while the file stays small: what a
// decompression bomb looks like to the import.
func ZipBomb(t testing.TB, headers []string, size int64) []byte {
	t.Helper()
	base := Workbook(t, headers, [][]string{{"x"}})
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			writeHugeSheet(t, w, headers, size)
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, r)
		r.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func writeHugeSheet(t testing.TB, w io.Writer, headers []string, size int64) {
	t.Helper()
	var head strings.Builder
	head.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
	for _, h := range headers {
		fmt.Fprintf(&head, `<c t="inlineStr"><is><t>%s</t></is></c>`, h)
	}
	head.WriteString(`</row>`)
	io.WriteString(w, head.String())
	chunk := []byte(strings.Repeat(`<row><c t="inlineStr"><is><t>炸弹炸弹炸弹炸弹</t></is></c></row>`, 4096))
	for n := int64(0); n < size; n += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(w, `</sheetData></worksheet>`)
}

// NotXLSX is a text file, as someone would upload it renamed to .xlsx.
func NotXLSX() []byte {
	return []byte("客户名称,联系电话\n张三,13912345678\n")
}
