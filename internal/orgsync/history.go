package orgsync

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/paging"
	"github.com/dingcrm/crm/internal/store"
)

const syncCols = `SELECT s.id, s.origin, s.started_by, COALESCE(u.name, '') AS started_by_name, s.status, s.phase,
	s.done, s.total, s.calls, s.summary, s.error, s.started_at, s.updated_at, s.finished_at
	FROM org_syncs s LEFT JOIN users u ON u.id = s.started_by`

func (s *Service) insertSync(ctx context.Context, o RunOptions) (int64, error) {
	var by int64
	if o.Actor != nil {
		by = o.Actor.UserID
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO org_syncs (origin, started_by, status, phase, done, total, calls,
		summary, error, started_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, 0, '', '', ?, ?)`,
		o.Origin, by, StatusRunning, PhaseStart, now, now)
	if err != nil {
		return 0, fmt.Errorf("orgsync: record sync: %w", err)
	}
	return res.LastInsertId()
}

func (s *Service) progressSync(ctx context.Context, r *run, p Progress) {
	_, err := s.db.ExecContext(ctx, "UPDATE org_syncs SET phase = ?, done = ?, total = ?, calls = ?, updated_at = ? WHERE id = ?",
		p.Phase, p.Done, p.Total, r.cnt.calls.Load(), s.now(), r.id)
	if err != nil {
		s.log.WarnContext(ctx, "orgsync: record progress", "sync", r.id, "err", err)
	}
}

func (s *Service) finishSync(ctx context.Context, r *run, sum *Summary, runErr error) {
	status, text, raw := StatusDone, "", ""
	if runErr != nil {
		status, text = StatusFailed, errText(runErr)
	}
	if sum != nil {
		b, _ := json.Marshal(sum)
		raw = string(b)
	}
	p := r.progress()
	now := s.now()
	_, err := s.db.ExecContext(ctx, `UPDATE org_syncs SET status = ?, phase = ?, done = ?, total = ?, calls = ?,
		summary = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
		status, p.Phase, p.Done, p.Total, r.cnt.calls.Load(), raw, text, now, now, r.id)
	if err != nil {
		s.log.ErrorContext(ctx, "orgsync: record the end of a sync", "sync", r.id, "err", err)
	}
}

// show decodes the summary and marks a sync whose process ended as
// interrupted.
func (s *Service) show(x *Sync) {
	if x.RawSummary != "" {
		x.Summary = &Summary{}
		_ = json.Unmarshal([]byte(x.RawSummary), x.Summary)
	}
	if x.Status == StatusRunning && s.now().Sub(x.UpdatedAt) > staleSyncAge {
		x.Status = StatusInterrupted
	}
}

func (s *Service) get(ctx context.Context, id int64) (*Sync, error) {
	var x Sync
	err := s.db.GetContext(ctx, &x, syncCols+" WHERE s.id = ?", id)
	if store.IsNoRows(err) {
		return nil, ErrSyncNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("orgsync: read sync %d: %w", id, err)
	}
	s.show(&x)
	return &x, nil
}

// Get returns one sync with its progress and, once finished, its summary
// (needs user.view).
func (s *Service) Get(ctx context.Context, a *auth.Actor, id int64) (*Sync, error) {
	if err := a.Require(auth.UserView); err != nil {
		return nil, err
	}
	return s.get(ctx, id)
}

// List returns the history of syncs, newest first (needs user.view).
func (s *Service) List(ctx context.Context, a *auth.Actor, page, size int) ([]Sync, int, error) {
	if err := a.Require(auth.UserView); err != nil {
		return nil, 0, err
	}
	var v errs.Invalid
	paging.Check(&v, &page, &size)
	if err := v.Err(); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM org_syncs"); err != nil {
		return nil, 0, fmt.Errorf("orgsync: count syncs: %w", err)
	}
	out := []Sync{}
	if err := s.db.SelectContext(ctx, &out, syncCols+" ORDER BY s.id DESC LIMIT ? OFFSET ?", size, (page-1)*size); err != nil {
		return nil, 0, fmt.Errorf("orgsync: list syncs: %w", err)
	}
	for i := range out {
		s.show(&out[i])
	}
	return out, total, nil
}
