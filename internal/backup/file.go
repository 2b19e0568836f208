package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dingcrm/crm/internal/store"
)

// WriteFile writes a backup of db to path through a temporary file next to
// it (path + ".partial", mode 0600: the archive holds personal data and
// session hashes), synced and renamed into place when complete, so a failed
// or interrupted backup never leaves a partial archive under the real name.
func WriteFile(ctx context.Context, db *store.DB, path string, o Options) (Summary, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	sum, err := Write(ctx, db, f, o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return sum, err
	}
	return sum, nil
}
