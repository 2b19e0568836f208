package reminder

import (
	"testing"
	"time"
)

// TestNextOccurrence: repeats step in the company zone from the reminder's
// own time until after now (a reminder left overdue for days skips the
// missed ones), and "none" has no next.
func TestNextOccurrence(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	s := &Service{loc: sh}
	at := func(v string) time.Time { x, _ := time.Parse(time.RFC3339, v); return x }
	for _, tc := range []struct {
		repeat, at, now, want string
	}{
		{"daily", "2026-11-27T09:00:00+08:00", "2026-11-27T09:00:01+08:00", "2026-11-28T09:00:00+08:00"},
		{"daily", "2026-11-20T09:00:00+08:00", "2026-11-27T10:00:00+08:00", "2026-11-28T09:00:00+08:00"},
		{"weekly", "2026-11-27T09:00:00+08:00", "2026-11-27T09:30:00+08:00", "2026-12-04T09:00:00+08:00"},
		{"monthly", "2026-01-15T23:30:00+08:00", "2026-01-16T00:00:00+08:00", "2026-02-15T23:30:00+08:00"},
		{"none", "2026-11-27T09:00:00+08:00", "2026-11-27T10:00:00+08:00", ""},
	} {
		got := s.next(&Reminder{Repeat: tc.repeat, RemindAt: at(tc.at).UTC()}, at(tc.now))
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%s: next %v, want none", tc.repeat, got)
			}
			continue
		}
		if !got.Equal(at(tc.want)) {
			t.Errorf("%s from %s at %s: %s, want %s", tc.repeat, tc.at, tc.now, got.In(sh).Format(time.RFC3339), tc.want)
		}
	}
}
