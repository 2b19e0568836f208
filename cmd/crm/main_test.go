package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CRM_DATA_DIR", dir)
	tests := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"version"}, "crm dev", ""},
		{[]string{"migrate", "status"}, "pending", ""},
		{[]string{"migrate", "up"}, "migration(s)", ""},
		{[]string{"migrate", "up"}, "applied 0 migration(s)", ""},
		{[]string{"migrate", "status"}, "applied", ""},
		{[]string{"migrate", "sideways"}, "", "usage: crm migrate up|status"},
		{[]string{"frobnicate"}, "", "unknown command"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(tt.args, &out, &errOut)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("%v: out %q err %v, want %q", tt.args, out.String(), err, tt.wantOut)
		}
	}
}

func TestInvalidConfigIsRefusedWithAClearMessage(t *testing.T) {
	t.Setenv("CRM_DATABASE_DRIVER", "oracle")
	t.Setenv("CRM_HTTP_ADDR", "nowhere")
	err := run([]string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "CRM_DATABASE_DRIVER") || !strings.Contains(err.Error(), "CRM_HTTP_ADDR") {
		t.Fatalf("want both problems named, got %v", err)
	}
}
