package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSyncOrg: `crm sync-org` syncs the (simulated) organization and
// prints the summary; run again, it reports that nothing changed.
func TestSyncOrg(t *testing.T) {
	t.Setenv("CRM_DATA_DIR", t.TempDir())
	for i, want := range []string{"sync 2 done", "sync 3 done"} { // sync 1 was the first start's
		var out, errOut bytes.Buffer
		if err := run([]string{"sync-org"}, &out, &errOut); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, errOut.String())
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "12 people in 5 departments") {
			t.Errorf("run %d: %q, want %q", i, out.String(), want)
		}
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"sync-org", "--bogus"}, &out, &errOut); err == nil {
		t.Error("an unknown flag was accepted")
	}
}
