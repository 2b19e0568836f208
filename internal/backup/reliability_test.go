package backup_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dingcrm/crm/internal/apptest"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/store/storetest"
)

// TestTruncatedArchiveRefused: an archive cut short anywhere (in the gzip
// stream, so in the middle of a table, or just before the trailer) is
// refused with a message that says so, and nothing is left in the target.
func TestTruncatedArchiveRefused(t *testing.T) {
	archive := writeArchive(t, populated(t, "sqlite").App.DB)
	seeded := countData(t, storetest.SQLite(t))
	for _, to := range apptest.Engines(t) {
		for _, cut := range []int{len(archive) / 3, len(archive) - 40, len(archive) - 1} {
			target, _ := emptyTarget(t, to)
			_, err := backup.Restore(context.Background(), target, bytes.NewReader(archive[:cut]), backup.RestoreOptions{})
			if err == nil || !(strings.Contains(err.Error(), "truncated") || strings.Contains(err.Error(), "damaged")) ||
				!strings.Contains(err.Error(), "nothing was restored") {
				t.Fatalf("%s, cut at %d of %d: got %v, want a clear refusal", to, cut, len(archive), err)
			}
			if n := countData(t, target); n != seeded {
				t.Fatalf("%s, cut at %d: %d rows left behind, want the %d migrations insert", to, cut, n, seeded)
			}
			if _, _, err := backup.Verify(context.Background(), bytes.NewReader(archive[:cut]), nil); err == nil {
				t.Fatalf("Verify accepted an archive cut at %d", cut)
			}
		}
	}
	hdr, sum, err := backup.Verify(context.Background(), bytes.NewReader(archive), nil)
	if err != nil || sum.Rows == 0 || hdr.SchemaVersion == 0 || hdr.Dialect != "sqlite" {
		t.Fatalf("Verify of a good archive: %v %+v %+v", err, sum, hdr)
	}
}

// TestInterruptedRestoreRunsAgain: a restore stopped halfway (here by
// cancelling it after its first tables, as Ctrl-C or a lost connection
// would) leaves the target as it was, so the same command simply runs again
// and succeeds, without --force.
func TestInterruptedRestoreRunsAgain(t *testing.T) {
	src := populated(t, "sqlite").App.DB
	archive := writeArchive(t, src)
	want := dump(t, src)
	for _, to := range apptest.Engines(t) {
		t.Run(to, func(t *testing.T) {
			target, _ := emptyTarget(t, to)
			ctx, cancel := context.WithCancel(context.Background())
			tables := 0
			_, err := backup.Restore(ctx, target, bytes.NewReader(archive), backup.RestoreOptions{Progress: func(p backup.Progress) {
				if tables++; tables == 5 {
					cancel()
				}
			}})
			cancel()
			if err == nil {
				t.Fatal("the interrupted restore reported success")
			}
			if _, err := backup.Restore(context.Background(), target, bytes.NewReader(archive), backup.RestoreOptions{}); err != nil {
				if errors.Is(err, backup.ErrNotEmpty) {
					t.Fatal("the interrupted restore left data behind: the rerun needs --force")
				}
				t.Fatalf("rerun: %v", err)
			}
			got := dump(t, target)
			for table, rows := range want {
				if strings.Join(got[table], "\n") != strings.Join(rows, "\n") {
					t.Errorf("table %s differs after the rerun", table)
				}
			}
		})
	}
}
