package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestJobsCommand: `crm jobs list` shows every scheduled job with its
// schedule; `crm jobs run NAME` runs one through the scheduler's registry
// (recorded, then shown as the last run); an unknown name is an error that
// lists the jobs.
func TestJobsCommand(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	var out bytes.Buffer
	if err := run([]string{"jobs", "list"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dispatch-reminders  * * * * *", "check-send-results", "morning-digest", "team-summary",
		"weekly-summary", "pool-reclaim", "org-sync", "cleanup"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("jobs list lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"jobs", "run", "cleanup"}, &out, &bytes.Buffer{}); err != nil || !strings.HasPrefix(out.String(), "cleanup: ") {
		t.Fatalf("run cleanup: %v %q", err, out.String())
	}
	out.Reset()
	if err := run([]string{"jobs"}, &out, &bytes.Buffer{}); err != nil || !regexpLine(out.String(), "cleanup", " ok") {
		t.Errorf("the run is not the last run: %v\n%s", err, out.String())
	}
	err := run([]string{"jobs", "run", "nope"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "pool-reclaim") {
		t.Errorf("unknown job: %v", err)
	}
}

func regexpLine(s, prefix, contains string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, contains) {
			return true
		}
	}
	return false
}
