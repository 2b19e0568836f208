package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// benchResults are the figures `go test -bench` printed: benchmark name
// (without the -GOMAXPROCS suffix) → unit → value, b.ReportMetric's
// included.
type benchResults map[string]map[string]float64

// get returns one figure, or an error naming what is missing, so a
// renamed metric shows up as an ERROR row instead of a silent zero.
func (r benchResults) get(name, unit string) (float64, error) {
	m, ok := r[name]
	if !ok {
		return 0, fmt.Errorf("no result for %s", name)
	}
	v, ok := m[unit]
	if !ok {
		return 0, fmt.Errorf("%s reported no %q metric", name, unit)
	}
	return v, nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBenchOutput reads `go test -bench` output. A result line is
// "<iterations> <value> <unit> [<value> <unit>]…"; it usually follows its
// benchmark's name on the same line, but a benchmark that prints while it
// runs splits the two (the name is written before the run), so the last
// name seen is remembered until its result arrives.
func parseBenchOutput(r io.Reader) (benchResults, error) {
	out := benchResults{}
	current := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Benchmark") {
			name, rest, _ := strings.Cut(line, "\t")
			name = strings.TrimSpace(name)
			if f := strings.Fields(name); len(f) > 0 {
				name = f[0]
			}
			current = procsSuffix.ReplaceAllString(name, "")
			line = rest
		}
		if current == "" {
			continue
		}
		if m, ok := parseResultLine(line); ok {
			out[current] = m
			current = ""
		}
	}
	return out, sc.Err()
}

// parseResultLine parses "<N> <v> <unit> …" into unit → value.
func parseResultLine(line string) (map[string]float64, bool) {
	f := strings.Fields(line)
	if len(f) < 3 || len(f)%2 == 0 {
		return nil, false
	}
	if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
		return nil, false
	}
	m := map[string]float64{}
	for i := 1; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		m[f[i+1]] = v
	}
	return m, true
}

// goBench is a benchmark that lives in a package's _test.go file.
type goBench struct {
	pkg       string // import path
	name      string // BenchmarkX
	benchtime string // "1x" for the ones that do one big run
	env       []string
}

// run runs the benchmark with `go test` (the Go toolchain and the
// repository are needed: these are test files) and parses its figures.
// Its output goes to progress as it comes.
func (g goBench) run(ctx context.Context, mysqlDSN string, progress io.Writer) (benchResults, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+g.name+"$", "-benchtime", g.benchtime,
		"-count", "1", "-timeout", "90m", g.pkg)
	cmd.Env = append(envWithoutCRM(), g.env...)
	if mysqlDSN != "" {
		cmd.Env = append(cmd.Env, "CRM_TEST_MYSQL_DSN="+mysqlDSN)
	}
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, progress)
	cmd.Stderr = io.MultiWriter(&buf, progress)
	fmt.Fprintf(progress, "$ %s\n", strings.Join(cmd.Args, " "))
	runErr := cmd.Run()
	if bytes.Contains(buf.Bytes(), []byte("--- SKIP")) {
		return nil, fmt.Errorf("%s skipped (is CRM_TEST_MYSQL_DSN reachable?)", g.name)
	}
	if runErr != nil {
		return nil, fmt.Errorf("go test %s -bench %s: %w (output above)", g.pkg, g.name, runErr)
	}
	return parseBenchOutput(&buf)
}
