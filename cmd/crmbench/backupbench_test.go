package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestWatchPeakRSS: a small child's peak is its own, not the resident size
// of the test binary that forked it (what the kernel's ru_maxrss reports).
func TestWatchPeakRSS(t *testing.T) {
	self, err := readProcStatus(os.Getpid())
	if err != nil {
		t.Skip("no /proc (not Linux):", err)
	}
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	got := peak()
	if got <= 0 || got >= self["VmRSS"] {
		t.Fatalf("sleep's peak RSS %d kB; want above 0 and below this test's own %d kB", got, self["VmRSS"])
	}
}
