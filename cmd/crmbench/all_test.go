package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// benchSample is `go test -bench` output of the shapes `crmbench all`
// reads: sub-benchmarks, custom metrics, a benchmark that prints while it
// runs (its name and its result on different lines) and log lines.
const benchSample = `goos: linux
goarch: amd64
pkg: github.com/dingcrm/crm/internal/outbox
cpu: AMD EPYC
BenchmarkCustomerTimeline/timeline_page1-2         	      30	   3412345 ns/op	         3.400 p50-ms	         8.500 p95-ms
BenchmarkCustomerTimeline/baseline_all_timeline-2  	      30	 158000000 ns/op	       158.0 p50-ms	       198.0 p95-ms
BenchmarkDispatchWindow-2   	reminders 1000, people 100, window 30s, engine mysql
work-notice calls 120 (accepted 120, batches 120) vs distinct (person, minute) pairs 150: 0.80 of the pairs
       1	41000000000 ns/op	       120.0 calls	         0 drops	       150.0 pairs	        18.70 sends/s
BenchmarkFullSync-2   	       1	30000000000 ns/op	      1003 min_calls	      1027 calls	         1.024 calls/min
    bench_test.go:70: engine mysql, client 19.0 calls/s per API
PASS
ok  	github.com/dingcrm/crm/internal/outbox	45.1s
`

func TestParseBenchOutput(t *testing.T) {
	res, err := parseBenchOutput(strings.NewReader(benchSample))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkCustomerTimeline/timeline_page1", "p95-ms", 8.5},
		{"BenchmarkCustomerTimeline/baseline_all_timeline", "p95-ms", 198},
		{"BenchmarkDispatchWindow", "sends/s", 18.7},
		{"BenchmarkDispatchWindow", "drops", 0},
		{"BenchmarkFullSync", "calls", 1027},
		{"BenchmarkFullSync", "ns/op", 3e10},
	} {
		got, err := res.get(c.name, c.unit)
		if err != nil || got != c.want {
			t.Errorf("%s %s = %v, %v; want %v", c.name, c.unit, got, err, c.want)
		}
	}
	if _, err := res.get("BenchmarkFullSync", "wall_s"); err == nil {
		t.Error("a metric the output does not have must be an error, not a zero")
	}
}

func TestRowsFromBenchOutput(t *testing.T) {
	res, _ := parseBenchOutput(strings.NewReader(benchSample))
	rows, err := remindersRows(reminderSize{1000, 100, 30})(res)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ result, ratio string }{{"pass", "0.80×"}, {"pass", "0.93×"}, {"pass", "–"}}
	if got := rows[2].cells()[2]; got != "0 drops" {
		t.Errorf("zero drops shown as %q, want 0 drops", got)
	}
	for i, w := range want {
		cells := rows[i].cells()
		if cells[6] != w.result || cells[4] != w.ratio {
			t.Errorf("row %d %q: ratio %s result %s, want %s %s", i, rows[i].name, cells[4], cells[6], w.ratio, w.result)
		}
	}
	// The full sync's sample lacks wall_s: the mapping must report it.
	if _, err := orgSyncRows(res); err == nil || !strings.Contains(err.Error(), "wall_s") {
		t.Errorf("missing metric not reported: %v", err)
	}
}

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		row    benchRow
		result string
		ratio  string
	}{
		{faster("search", "q", msQ(2), msQ(200), 50), "pass", "100× faster"},
		{faster("search", "q", msQ(10), msQ(200), 50), "FAIL", "20× faster"},
		{faster("search", "q", msQ(10), msQ(5), 50), "FAIL", "2.0× slower"},
		{within("import", "i", sQ(9), sQ(3), 3), "pass", "3.0×"},
		{within("import", "i", sQ(10), sQ(3), 3), "FAIL", "3.3×"},
		{atLeast("reminders", "r", quantity{17, "/s"}, quantity{20, "/s"}, 0.9), "FAIL", "0.85×"},
		{below("idle", "rss", quantity{41.5, "MB"}, 60), "pass", "–"},
		{below("idle", "rss", quantity{61, "MB"}, 60), "FAIL", "–"},
		{reported("list", "l", msQ(5), quantity{}), "", "–"},
		{reported("pool", "p", msQ(300), msQ(30)), "", "10×"},
	} {
		cells := c.row.cells()
		if cells[6] != c.result || cells[4] != c.ratio {
			t.Errorf("%s: ratio %q result %q, want %q %q", c.row.bench, cells[4], cells[6], c.ratio, c.result)
		}
	}
}

func TestTableFormats(t *testing.T) {
	rows := []benchRow{
		faster("search", "sales: 王芳, p50", msQ(1.5), msQ(120), 50),
		within("import", "20,000 rows", sQ(6.6), sQ(1.9), 3),
		failed("backup", io.ErrUnexpectedEOF),
	}
	var text bytes.Buffer
	printTable(&text, rows)
	lines := strings.Split(text.String(), "\n")
	// Columns line up: "figure" ends at the same display column in every row.
	end := displayWidth(lines[0][:strings.Index(lines[0], "figure")+len("figure")])
	if i := strings.Index(lines[2], "1.50 ms"); i < 0 || displayWidth(lines[2][:i+len("1.50 ms")]) != end {
		t.Errorf("figure column not aligned (header ends at %d):\n%s", end, text.String())
	}
	if !strings.Contains(text.String(), "backup, (did not run): unexpected EOF") {
		t.Errorf("the error's note is missing:\n%s", text.String())
	}
	var md bytes.Buffer
	printMarkdown(&md, rows)
	for _, want := range []string{"| search | sales: 王芳, p50 | 1.50 ms | 120 ms | 80× faster | ≥ 50× faster | pass |",
		"| import | 20,000 rows | 6.60 s | 1.90 s | 3.5× | ≤ 3.0× | **FAIL** |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestAllFlags(t *testing.T) {
	o, err := parseAllFlags([]string{"--scale", "tiny", "--only", "idle,search", "--skip", "search"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.wants("startup") || o.wants("search") || o.wants("backup") || o.size.customers != 2000 ||
		o.dsn != "root@tcp(127.0.0.1:3306)/crm_bench_tiny" {
		t.Errorf("flags parsed wrong: %+v", o)
	}
	if _, err := parseAllFlags([]string{"--only", "serach"}, io.Discard); err == nil {
		t.Error("a misspelt benchmark name must be refused")
	}
	o, _ = parseAllFlags([]string{"--customers", "5000"}, io.Discard)
	if o.size.customers != 5000 || o.size.salesSteps[1] != scales["small"].salesSteps[1] {
		t.Errorf("--customers: %+v", o.size)
	}
}
