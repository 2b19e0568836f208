package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// quantity is a measured figure with its unit ("ms", "s", "MB", "calls",
// "/s", "" for a plain count). A zero-unit zero-value means "none".
type quantity struct {
	v    float64
	unit string
}

func (q quantity) none() bool { return q.v == 0 && q.unit == "" }

func (q quantity) String() string {
	if q.none() {
		return "–"
	}
	switch q.unit {
	case "ms":
		if q.v >= 10000 {
			return fmt.Sprintf("%.1f s", q.v/1000)
		}
		return ms(time.Duration(q.v * float64(time.Millisecond)))
	case "s":
		if q.v >= 120 {
			return fmt.Sprintf("%.0f s", q.v)
		}
		return fmt.Sprintf("%.2f s", q.v)
	case "":
		return trimFloat(q.v)
	}
	return trimFloat(q.v) + " " + q.unit
}

// trimFloat prints whole numbers without decimals and others with three
// significant figures.
func trimFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%.0f", v)
	}
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// benchRow is one line of the `crmbench all` table: a figure, the baseline
// measured in the same run, their ratio, the target and whether it is met.
type benchRow struct {
	bench    string // which benchmark (search, import, …)
	name     string // what was measured
	figure   quantity
	baseline quantity
	ratio    float64 // 0: no ratio
	speedup  bool    // ratio is baseline ÷ figure ("faster"), else figure ÷ baseline
	target   string  // "" when the issue names no target
	result   string  // "pass", "FAIL", "" (reported only) or "ERROR"
	note     string
}

// faster is a row whose target is a minimum speed-up: ratio = baseline ÷ figure.
func faster(bench, name string, fig, base quantity, min float64) benchRow {
	r := benchRow{bench: bench, name: name, figure: fig, baseline: base, speedup: true, target: fmt.Sprintf("≥ %s faster", times(min))}
	if fig.v > 0 {
		r.ratio = base.v / fig.v
	}
	r.result = passIf(r.ratio >= min)
	return r
}

// within is a row whose target is a maximum slow-down: ratio = figure ÷ baseline.
func within(bench, name string, fig, base quantity, max float64) benchRow {
	r := benchRow{bench: bench, name: name, figure: fig, baseline: base, target: fmt.Sprintf("≤ %s", times(max))}
	if base.v > 0 {
		r.ratio = fig.v / base.v
	}
	r.result = passIf(base.v > 0 && r.ratio <= max)
	return r
}

// atLeast is a row whose figure must reach a share of the baseline (a
// ceiling): ratio = figure ÷ baseline.
func atLeast(bench, name string, fig, base quantity, share float64) benchRow {
	r := benchRow{bench: bench, name: name, figure: fig, baseline: base, target: fmt.Sprintf("≥ %.0f %% of baseline", share*100)}
	if base.v > 0 {
		r.ratio = fig.v / base.v
	}
	r.result = passIf(r.ratio >= share)
	return r
}

// below is a row with an absolute limit and no baseline.
func below(bench, name string, fig quantity, limit float64) benchRow {
	r := benchRow{bench: bench, name: name, figure: fig, target: "< " + quantity{limit, fig.unit}.String()}
	r.result = passIf(fig.v < limit)
	return r
}

// reported is a row the issues ask to report without a target; with a
// baseline the ratio says how much faster or slower the figure is.
func reported(bench, name string, fig, base quantity) benchRow {
	r := benchRow{bench: bench, name: name, figure: fig, baseline: base}
	switch {
	case fig.v <= 0 || base.v <= 0:
	case fig.v <= base.v:
		r.ratio, r.speedup = base.v/fig.v, true
	default:
		r.ratio = fig.v / base.v
	}
	return r
}

// failed is the row of a benchmark that could not run.
func failed(bench string, err error) benchRow {
	return benchRow{bench: bench, name: "(did not run)", result: "ERROR", note: err.Error()}
}

// ratioText is times() with two decimals below 1, where 0.85 against a
// 0.9 target must not read as 0.8 or 0.9.
func ratioText(r float64) string {
	if r < 1 {
		return fmt.Sprintf("%.2f×", r)
	}
	return times(r)
}

func passIf(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func (r benchRow) cells() []string {
	ratio := "–"
	if r.ratio > 0 {
		switch {
		case r.speedup && r.ratio < 1:
			ratio = times(1/r.ratio) + " slower"
		case r.speedup:
			ratio = times(r.ratio) + " faster"
		default:
			ratio = ratioText(r.ratio)
		}
	}
	target := r.target
	if target == "" {
		target = "(report)"
	}
	return []string{r.bench, r.name, r.figure.String(), r.baseline.String(), ratio, target, r.result}
}

var tableHeader = []string{"benchmark", "measure", "figure", "baseline", "ratio", "target", "result"}

// rightAligned are the numeric columns.
var rightAligned = map[int]bool{2: true, 3: true, 4: true}

// printTable writes the rows as one aligned plain-text table, then the
// notes of the rows that have one.
func printTable(w io.Writer, rows []benchRow) {
	all := [][]string{tableHeader}
	for _, r := range rows {
		all = append(all, r.cells())
	}
	width := make([]int, len(tableHeader))
	for _, cells := range all {
		for i, c := range cells {
			width[i] = max(width[i], displayWidth(c))
		}
	}
	for n, cells := range all {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-displayWidth(c))
			if rightAligned[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(cells)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			total := len(width)*2 - 2
			for _, x := range width {
				total += x
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
	printNotes(w, rows, "")
}

// printMarkdown writes the rows as a markdown table, then the notes.
func printMarkdown(w io.Writer, rows []benchRow) {
	fmt.Fprintln(w, "| "+strings.Join(tableHeader, " | ")+" |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|---|---|")
	for _, r := range rows {
		cells := r.cells()
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		if cells[6] == "FAIL" || cells[6] == "ERROR" {
			cells[6] = "**" + cells[6] + "**"
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	printNotes(w, rows, "- ")
}

func printNotes(w io.Writer, rows []benchRow, bullet string) {
	first := true
	for _, r := range rows {
		if r.note == "" {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "%s%s, %s: %s\n", bullet, r.bench, r.name, r.note)
	}
}

// displayWidth counts East Asian wide characters (CJK, ×-like symbols are
// narrow) as two columns so Chinese query words line up in a terminal.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
			(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
			(r >= 0xffe0 && r <= 0xffe6)):
			n += 2
		default:
			n++
		}
	}
	return n
}

// summary counts the rows by result.
func summary(rows []benchRow) (pass, fail, errs, info int) {
	for _, r := range rows {
		switch r.result {
		case "pass":
			pass++
		case "FAIL":
			fail++
		case "ERROR":
			errs++
		default:
			info++
		}
	}
	return
}
