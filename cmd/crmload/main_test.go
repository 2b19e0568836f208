package main

import (
	"io"
	"testing"
)

// TestFlagsStayBounded checks crmload refuses targets off this machine and
// budgets beyond its bounds.
func TestFlagsStayBounded(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"-targets", "http://127.0.0.1:8080,http://localhost:8081,http://[::1]:8082"}, true},
		{[]string{"-targets", "http://10.0.0.5:8080"}, false},
		{[]string{"-targets", "http://example.com"}, false},
		{[]string{"-targets", "http://127.0.0.1:8080,http://192.168.1.2:8080"}, false},
		{[]string{"-targets", "ftp://127.0.0.1"}, false},
		{[]string{"-duration", "31m"}, false},
		{[]string{"-duration", "0s"}, false},
		{[]string{"-requests", "5000001"}, false},
		{[]string{"-workers", "257"}, false},
		{[]string{"-workers", "0"}, false},
		{[]string{"-sample", "100ms"}, false},
		{[]string{"-duration", "10m", "-workers", "48"}, true},
		{[]string{"-faults"}, false}, // which crm to start?
		{[]string{"-faults", "-crm", "/tmp/crm", "-instances", "6"}, false},
		{[]string{"-faults", "-crm", "/tmp/crm", "-drain", "16m"}, false},
		{[]string{"-faults", "-crm", "/tmp/crm", "-duration", "10m"}, true},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("%v: err %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
}
