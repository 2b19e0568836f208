// Package reportexport renders a computed report (reportview.Report) as an
// Excel workbook or a PDF document. Both take the report exactly as the JSON
// API returns it, so the three outputs cannot disagree; neither computes
// anything of its own beyond formatting.
package reportexport

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/dingcrm/crm/internal/reportview"
)

// number reads a cell value as a number: reports carry float64 or int64
// (float64 once decoded from JSON), and the odd json.Number or numeric text.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// text reads a cell value that is not a number.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "✓"
		}
		return ""
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// formatValue shows a value as the report's reader would read it: money
// from fen as ¥ with two decimals, ratios as percentages, counts with
// thousands separators.
func formatValue(f reportview.Format, v any) string {
	n, ok := number(v)
	if !ok {
		return text(v)
	}
	switch f {
	case reportview.Money:
		return money(int64(math.Round(n)))
	case reportview.Percent:
		return strconv.FormatFloat(n*100, 'f', 1, 64) + "%"
	case reportview.Int:
		return group(strconv.FormatInt(int64(math.Round(n)), 10))
	case reportview.Number:
		return strconv.FormatFloat(n, 'f', 2, 64)
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// money shows integer fen as ¥1,234.56 without going through floats.
func money(fen int64) string {
	sign := ""
	if fen < 0 {
		sign = "-"
		fen = -fen
	}
	yuan, cents := fen/100, fen%100
	c := strconv.FormatInt(cents, 10)
	if cents < 10 {
		c = "0" + c
	}
	return sign + "¥" + group(strconv.FormatInt(yuan, 10)) + "." + c
}

// group puts thousands separators into a run of digits (with an optional
// leading minus).
func group(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// axisValue is the shorter form of a value used on chart axes: money in
// whole yuan, percentages without decimals.
func axisValue(f reportview.Format, n float64) string {
	switch f {
	case reportview.Money:
		y := n / 100
		if math.Abs(y) >= 10000 && math.Mod(y, 1000) == 0 {
			return "¥" + group(strconv.FormatFloat(y/1000, 'f', 0, 64)) + "k"
		}
		return "¥" + group(strconv.FormatFloat(math.Round(y), 'f', 0, 64))
	case reportview.Percent:
		return strconv.FormatFloat(n*100, 'f', 0, 64) + "%"
	}
	if n == math.Trunc(n) {
		return group(strconv.FormatFloat(n, 'f', 0, 64))
	}
	return strconv.FormatFloat(n, 'f', 1, 64)
}
