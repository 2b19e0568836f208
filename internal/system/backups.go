package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/backup"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/metrics"
)

// Backup file names. Scheduled (and admin-started) backups are
// crm-YYYYmmdd-HHMMSS.crmbak and are the ones retention prunes; uploads are
// uploaded-…, and `crm migrate up` writes pre-migrate-…, which are kept
// until an operator removes them.
const (
	ext            = ".crmbak"
	stampLayout    = "20060102-150405"
	uploadedPrefix = "uploaded-"
)

// validName is every name the API accepts: no path separators, no dots
// beyond the extension, so a name can never leave the backup folder.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}\.crmbak$`)

// scheduled matches the names retention may delete.
var scheduled = regexp.MustCompile(`^crm-\d{8}-\d{6}(-\d+)?\.crmbak$`)

// BackupFile is one archive in the backup folder.
type BackupFile struct {
	Name    string    `json:"name"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"created_at"`
	// Kind is scheduled, uploaded or pre-migrate (or other).
	Kind string `json:"kind"`
}

func kindOf(name string) string {
	switch {
	case scheduled.MatchString(name):
		return "scheduled"
	case strings.HasPrefix(name, uploadedPrefix):
		return "uploaded"
	case strings.HasPrefix(name, "pre-migrate-"):
		return "pre-migrate"
	}
	return "other"
}

// Dir is the backup folder.
func (s *Service) Dir() string { return s.opts.Dir }

// Backups lists the archives, newest first.
func (s *Service) Backups(ctx context.Context, a *auth.Actor) ([]BackupFile, error) {
	if err := a.Require(PermView); err != nil {
		return nil, err
	}
	return s.list()
}

func (s *Service) list() ([]BackupFile, error) {
	entries, err := os.ReadDir(s.opts.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return []BackupFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("system: list backups: %w", err)
	}
	out := []BackupFile{}
	for _, e := range entries {
		if e.IsDir() || !validName.MatchString(e.Name()) {
			continue // .partial files of a backup in progress, anything else
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, BackupFile{Name: e.Name(), Size: fi.Size(), ModTime: fi.ModTime().UTC(), Kind: kindOf(e.Name())})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.After(out[j].ModTime)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

// OpenBackup opens an archive for download and records who took it: a
// backup is every record of the company.
func (s *Service) OpenBackup(ctx context.Context, a *auth.Actor, name string) (*os.File, BackupFile, error) {
	if err := a.Require(PermManage); err != nil {
		return nil, BackupFile{}, err
	}
	if !validName.MatchString(name) {
		return nil, BackupFile{}, ErrBackupNotFound
	}
	f, err := os.Open(filepath.Join(s.opts.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, BackupFile{}, ErrBackupNotFound
	}
	if err != nil {
		return nil, BackupFile{}, fmt.Errorf("system: open backup: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, BackupFile{}, fmt.Errorf("system: open backup: %w", err)
	}
	err = audit.Record(ctx, s.db, audit.By(a), audit.Entry{Action: "download", Entity: "backup", EntityName: name,
		Changes: map[string]audit.Change{"size": {New: fi.Size()}}})
	if err != nil {
		f.Close()
		return nil, BackupFile{}, err
	}
	return f, BackupFile{Name: name, Size: fi.Size(), ModTime: fi.ModTime().UTC(), Kind: kindOf(name)}, nil
}

// Progress is the state of the latest admin-started or scheduled backup,
// shared through kv so that any instance answers the page's polling.
type Progress struct {
	Running    bool       `json:"running"`
	Table      string     `json:"table"`
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	File       string     `json:"file"`
	Error      string     `json:"error"`
}

const (
	progressKey = "system:backup:progress"
	lockKey     = "system:backup:lock"
	// lockTTL is renewed while a backup runs, so a crashed instance's lock
	// lapses on its own.
	lockTTL = 2 * time.Minute
)

// BackupProgress returns the latest backup's progress (zero when none).
func (s *Service) BackupProgress(ctx context.Context, a *auth.Actor) (Progress, error) {
	if err := a.Require(PermView); err != nil {
		return Progress{}, err
	}
	var p Progress
	v, ok, err := s.kv.Get(ctx, progressKey)
	if err != nil || !ok {
		return p, nil // no backup seen (or kv down: nothing to show)
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return Progress{}, nil
	}
	return p, nil
}

func (s *Service) saveProgress(ctx context.Context, p Progress) {
	b, _ := json.Marshal(p)
	if err := s.kv.Set(ctx, progressKey, string(b), 24*time.Hour); err != nil {
		s.log.Warn("backup progress not shared", "err", err)
	}
}

// StartBackup starts a backup in the background (an admin's "back up now")
// and returns at once; the page polls BackupProgress. Only one backup runs
// at a time across all instances.
func (s *Service) StartBackup(ctx context.Context, a *auth.Actor) (Progress, error) {
	if err := a.Require(PermManage); err != nil {
		return Progress{}, err
	}
	ok, err := s.kv.SetNX(ctx, lockKey, "1", lockTTL)
	if err != nil {
		return Progress{}, err
	}
	if !ok {
		return Progress{}, ErrBackupRunning
	}
	who := audit.By(a)
	p := Progress{Running: true, StartedAt: time.Now().UTC()}
	s.saveProgress(ctx, p)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.kv.Del(context.Background(), lockKey)
		start := time.Now()
		_, err := s.backupLocked(s.bg, who)
		metrics.JobRun("backup", err == nil, time.Since(start))
		if err != nil {
			s.log.Error("backup failed", "err", err)
		}
	}()
	return p, nil
}

// RunBackup is the scheduled job "backup": write a new archive to the
// backup folder and delete the oldest scheduled ones beyond the number to
// keep. It returns a one-line summary.
func (s *Service) RunBackup(ctx context.Context) (string, error) {
	ok, err := s.kv.SetNX(ctx, lockKey, "1", lockTTL)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrBackupRunning
	}
	defer s.kv.Del(context.Background(), lockKey)
	s.saveProgress(ctx, Progress{Running: true, StartedAt: time.Now().UTC()})
	return s.backupLocked(ctx, audit.Who{Name: "system"})
}

// backupLocked writes the archive, prunes, audits and keeps the progress
// up to date. The caller holds the lock.
func (s *Service) backupLocked(ctx context.Context, who audit.Who) (string, error) {
	p := Progress{Running: true, StartedAt: time.Now().UTC()}
	name := s.newName("crm-", p.StartedAt)
	p.File = name
	last := time.Time{}
	sum, err := backup.WriteFile(ctx, s.db, filepath.Join(s.opts.Dir, name), backup.Options{AppVersion: s.opts.AppVersion,
		Progress: func(bp backup.Progress) {
			p.Table, p.Done, p.Total = bp.Table, bp.Done, bp.Total
			if time.Since(last) >= time.Second {
				last = time.Now()
				s.saveProgress(ctx, p)
				s.kv.Set(ctx, lockKey, "1", lockTTL)
			}
		}})
	now := time.Now().UTC()
	p.Running, p.FinishedAt = false, &now
	if err != nil {
		p.Error = err.Error()
		s.saveProgress(context.WithoutCancel(ctx), p)
		return "", err
	}
	p.Done, p.Total = sum.Rows, sum.Rows // exact now (MySQL's total was an estimate)
	s.saveProgress(ctx, p)
	removed, err := s.prune(ctx)
	if err != nil {
		return "", err
	}
	err = audit.Record(ctx, s.db, who, audit.Entry{Action: "backup", Entity: "backup", EntityName: name,
		Changes: map[string]audit.Change{"rows": {New: sum.Rows}, "tables": {New: sum.Tables}, "removed": {New: removed}}})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %d tables, %d rows; removed %d old backup(s)", name, sum.Tables, sum.Rows, len(removed)), nil
}

// newName is <prefix>YYYYmmdd-HHMMSS.crmbak, with a counter if two
// backups start in the same second.
func (s *Service) newName(prefix string, t time.Time) string {
	base := prefix + t.Format(stampLayout)
	name := base + ext
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(s.opts.Dir, name)); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d%s", base, i, ext)
	}
}

// prune deletes the oldest scheduled backups beyond the number to keep.
// Uploaded and pre-migrate archives are never deleted by retention.
func (s *Service) prune(ctx context.Context) ([]string, error) {
	keep, err := s.keep(ctx)
	if err != nil {
		return nil, err
	}
	files, err := s.list()
	if err != nil {
		return nil, err
	}
	removed := []string{}
	n := 0
	for _, f := range files { // newest first
		if f.Kind != "scheduled" {
			continue
		}
		n++
		if n <= keep {
			continue
		}
		if err := os.Remove(filepath.Join(s.opts.Dir, f.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("system: remove old backup: %w", err)
		}
		removed = append(removed, f.Name)
	}
	return removed, nil
}

// Upload stores an archive an admin uploads, after verifying every
// checksum, as uploaded-YYYYmmdd-HHMMSS.crmbak. It never touches the
// database: restoring is `crm restore` with the CRM stopped
// (docs/OPERATIONS.md says why). r must be capped by the caller.
func (s *Service) Upload(ctx context.Context, a *auth.Actor, r io.Reader) (BackupFile, backup.Summary, error) {
	if err := a.Require(PermManage); err != nil {
		return BackupFile{}, backup.Summary{}, err
	}
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return BackupFile{}, backup.Summary{}, fmt.Errorf("system: upload: %w", err)
	}
	tmp, err := os.CreateTemp(s.opts.Dir, "upload-*.partial")
	if err != nil {
		return BackupFile{}, backup.Summary{}, fmt.Errorf("system: upload: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return BackupFile{}, backup.Summary{}, err // the handler maps a size cap to 413
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return BackupFile{}, backup.Summary{}, fmt.Errorf("system: upload: %w", err)
	}
	_, sum, err := backup.Verify(ctx, tmp, nil)
	if err != nil {
		s.log.Info("uploaded backup refused", "err", err)
		return BackupFile{}, sum, &errs.Error{Kind: errs.KindInvalid, Key: ErrBadArchive.Key, Args: map[string]any{"reason": err.Error()}}
	}
	if err := tmp.Sync(); err != nil {
		return BackupFile{}, sum, fmt.Errorf("system: upload: %w", err)
	}
	name := s.newName(uploadedPrefix, time.Now().UTC())
	if err := os.Rename(tmp.Name(), filepath.Join(s.opts.Dir, name)); err != nil {
		return BackupFile{}, sum, fmt.Errorf("system: upload: %w", err)
	}
	os.Chmod(filepath.Join(s.opts.Dir, name), 0o600)
	fi, err := os.Stat(filepath.Join(s.opts.Dir, name))
	if err != nil {
		return BackupFile{}, sum, fmt.Errorf("system: upload: %w", err)
	}
	err = audit.Record(ctx, s.db, audit.By(a), audit.Entry{Action: "upload", Entity: "backup", EntityName: name,
		Changes: map[string]audit.Change{"rows": {New: sum.Rows}, "schema_version": {New: sum.SchemaVersion}, "dialect": {New: sum.Dialect}}})
	if err != nil {
		return BackupFile{}, sum, err
	}
	return BackupFile{Name: name, Size: fi.Size(), ModTime: fi.ModTime().UTC(), Kind: "uploaded"}, sum, nil
}
