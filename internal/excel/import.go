package excel

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/dingcrm/crm/internal/auth"
)

// Permissions the import checks.
const permImport auth.Perm = "customer.import"

// ImportRequest is one uploaded file.
type ImportRequest struct {
	FileName string
	// Body is the file's content; at most MaxFileBytes of it are read.
	Body io.Reader
	// DryRun checks every row and reports, writing no customer.
	DryRun bool
	// Lang is the uploader's language: row problems, the file of rejected
	// rows and the job's messages use it.
	Lang string
}

// ImportCustomers checks an uploaded file and imports its valid rows as
// customers of the Actor (with DryRun, only reports what it would do). The
// file as a whole is checked first (type, size, unpacked size, headers,
// row count): a problem there is a 400 and nothing is recorded. Then every
// row is validated by the customer service's rules and compared for
// duplicates, and the valid rows are written in batches. A file of more
// than BackgroundRows rows continues in the background: the job returned
// is still running and background is true.
func (s *Service) ImportCustomers(ctx context.Context, a *auth.Actor, req ImportRequest) (j *Job, background bool, err error) {
	if err := a.Require(permImport); err != nil {
		return nil, false, err
	}
	l := s.Locale(req.Lang)
	data, err := s.readBody(req.Body)
	if err != nil {
		return nil, false, err
	}
	up, err := s.readChecked(ctx, a, data, l)
	if err != nil {
		return nil, false, err
	}
	j = &Job{Kind: "customer", DryRun: req.DryRun, FileName: cleanFileName(req.FileName), Lang: l.Lang,
		Total: len(up.rows), Problems: []string{}}
	if err := insertJob(ctx, s.db, a, j); err != nil {
		return nil, false, err
	}
	if len(up.rows) <= s.limits.BackgroundRows {
		return j, false, s.run(ctx, a, j, up, l)
	}
	go s.runInBackground(context.WithoutCancel(ctx), a, j, up, l)
	return j, true, nil
}

// readChecked reads an upload and checks its rows (see checker) while it
// is being read.
func (s *Service) readChecked(ctx context.Context, a *auth.Actor, data []byte, l Locale) (*upload, error) {
	c, err := s.startChecker(ctx, a, l)
	if err != nil {
		return nil, err
	}
	up, err := s.readUpload(data, l, c.add)
	rows, crm, cerr := c.finish()
	if err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, cerr
	}
	up.checked, up.crm = rows, crm
	return up, nil
}

// readBody reads an upload, refusing one over MaxFileBytes without
// reading further. A failure of the reader itself (the client went away,
// or the HTTP layer's own cap) is returned as it is.
func (s *Service) readBody(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, s.limits.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("excel: read upload: %w", err)
	}
	if int64(len(data)) > s.limits.MaxFileBytes {
		return nil, s.tooLarge()
	}
	return data, nil
}

// runInBackground runs an import after its request has been answered. It
// keeps the request's context values (the audit log's IP and request id)
// but not its cancellation, and waits for a free slot first.
func (s *Service) runInBackground(ctx context.Context, a *auth.Actor, j *Job, up *upload, l Locale) {
	defer s.keepAlive(ctx, j)()
	s.slots <- struct{}{}
	defer func() { <-s.slots }()
	defer func() {
		if p := recover(); p != nil {
			s.fail(ctx, j, fmt.Errorf("panic: %v", p))
		}
	}()
	if err := s.run(ctx, a, j, up, l); err != nil {
		s.log.Error("excel: background import failed", "job", j.ID, "err", err)
	}
}

// run checks the rows and, unless it is a dry run, writes the valid ones;
// then it records the outcome and the file of rejected rows. A failure
// midway leaves the committed batches in place and marks the job failed.
func (s *Service) run(ctx context.Context, a *auth.Actor, j *Job, up *upload, l Locale) error {
	rows := up.checked
	checkRows(a, rows, up.crm, l)
	j.Rejected = rejectedCount(rows)
	j.Processed = j.Rejected
	if j.DryRun {
		j.Processed = j.Total
	} else if err := s.write(ctx, a, j, rows, l); err != nil {
		return s.fail(ctx, j, err)
	}
	return s.finish(ctx, a, j, up, rows, l)
}

// finish records a completed job: counts, the first problems, the file of
// rejected rows and (for a real run) the import's summary in the audit log.
func (s *Service) finish(ctx context.Context, a *auth.Actor, j *Job, up *upload, rows []*row, l Locale) error {
	j.Status = StatusDone
	j.Rejected = rejectedCount(rows)
	j.Problems = firstProblems(rows, l)
	var file []byte
	if j.Rejected > 0 {
		var err error
		if file, err = s.errorFile(up, rows, l); err != nil {
			return s.fail(ctx, j, err)
		}
	}
	if j.DryRun {
		return finishJob(ctx, s.db, j, file)
	}
	return s.recordSummary(ctx, a, j, file)
}

// fail marks a job failed (best effort: the database may be what failed)
// and returns err.
func (s *Service) fail(ctx context.Context, j *Job, err error) error {
	j.Status, j.ErrorKey = StatusFailed, "excel.failed"
	if ferr := finishJob(context.WithoutCancel(ctx), s.db, j, nil); ferr != nil {
		s.log.Error("excel: could not mark job failed", "job", j.ID, "err", ferr)
	}
	return err
}

func rejectedCount(rows []*row) int {
	n := 0
	for _, r := range rows {
		if !r.ok() {
			n++
		}
	}
	return n
}

// firstProblems are the messages of the first rejected rows, one line per
// row: "第 17 行：联系电话：请输入正确的手机号或固定电话".
func firstProblems(rows []*row, l Locale) []string {
	out := []string{}
	for _, r := range rows {
		if r.ok() {
			continue
		}
		if len(out) == maxStoredProblems {
			break
		}
		out = append(out, l.T("excel.row_problem", "row", r.rec.line, "problem", joinProblems(r.problems, l)))
	}
	return out
}

func joinProblems(problems []string, l Locale) string {
	if l.Lang == "en" {
		return strings.Join(problems, "; ")
	}
	return strings.Join(problems, "；")
}

// cleanFileName keeps the base name of an upload, bounded, for display.
func cleanFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	for utf8.RuneCountInString(name) > 200 {
		r := []rune(name)
		name = string(r[len(r)-200:])
	}
	return name
}
