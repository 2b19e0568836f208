package orgsync

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/store"
)

// Event statuses in org_events.
const (
	EventPending  = "pending"
	EventApplying = "applying"
	EventDone     = "done"
	EventFailed   = "failed"
)

// handled are the event types applied; others are acknowledged and dropped.
var handled = map[string]bool{
	dingtalk.EventUserAdd: true, dingtalk.EventUserModify: true, dingtalk.EventUserLeave: true,
	dingtalk.EventUserActive: true, dingtalk.EventUserDeptChange: true, dingtalk.EventUserRoleChange: true,
	dingtalk.EventDeptCreate: true, dingtalk.EventDeptModify: true, dingtalk.EventDeptRemove: true,
	dingtalk.EventAdminAdd: true, dingtalk.EventAdminRemove: true,
}

// Event application timing: an event being applied is leased for
// eventLease (then another worker may take it); a failed one is retried
// with doubling delays up to maxAttempts; while a full sync runs, events
// wait for it (it re-reads everything anyway, and its snapshot must not
// overwrite what an event applied meanwhile).
const (
	eventLease  = 2 * time.Minute
	maxAttempts = 6
	firstRetry  = 2 * time.Second
	waitForSync = 2 * time.Second
)

// CallbackHandler is the handler of POST /dingtalk/events: the signature,
// timestamp and nonce are checked (403 otherwise), the payload decrypted
// (403 for another app's), check_url answered at once, and every other
// event stored once per event id and acknowledged; a worker applies it.
// Without a configured token and AES key it answers 503.
func (s *Service) CallbackHandler() http.Handler {
	if s.crypto == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.log.WarnContext(r.Context(), "orgsync: event push refused: dingtalk.callback_token and dingtalk.aes_key are not configured")
			http.Error(w, "event subscription not configured", http.StatusServiceUnavailable)
		})
	}
	return &dingtalk.CallbackHandler{Crypto: s.crypto, Guard: s.guard, Handle: s.enqueue, Logger: s.log, Now: s.opts.Now}
}

// CallbackSettings returns the token and AES key pushes must use (the
// simulated mode subscribes its fake platform with them).
func (s *Service) CallbackSettings() (token, aesKey string) {
	return s.opts.CallbackToken, s.opts.CallbackAESKey
}

// enqueue stores an event for the worker; a repeated event id is
// acknowledged without storing it again.
func (s *Service) enqueue(ctx context.Context, ev dingtalk.Event) error {
	if !handled[ev.Type] {
		s.log.InfoContext(ctx, "orgsync: event type not handled", "type", ev.Type)
		return nil
	}
	id := ev.EventID
	if id == "" {
		sum := sha1.Sum(ev.Raw)
		id = "sha1:" + hex.EncodeToString(sum[:])
	}
	users, _ := json.Marshal(nonNil(ev.UserIDs))
	depts, _ := json.Marshal(nonNilIDs(ev.DeptIDs))
	var at any
	if ev.TimeStamp > 0 {
		at = time.UnixMilli(ev.TimeStamp).UTC()
	}
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO org_events (event_id, event_type, user_ids, dept_ids, status, attempts,
		error, event_at, received_at, next_at) VALUES (?, ?, ?, ?, ?, 0, '', ?, ?, ?)`,
		clip(id, 64), ev.Type, string(users), string(depts), EventPending, at, now, now)
	if store.IsUniqueViolation(err) {
		s.log.InfoContext(ctx, "orgsync: event already received", "event_id", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("orgsync: store event: %w", err)
	}
	s.queue.kick()
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilIDs(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

// queue runs at most one worker per process over the stored events.
type queue struct {
	s       *Service
	mu      sync.Mutex
	running bool
	again   bool
	idle    *sync.Cond
	timer   *time.Timer
}

func newQueue(s *Service) *queue {
	q := &queue{s: s}
	q.idle = sync.NewCond(&q.mu)
	return q
}

// kick makes sure a worker runs (again, if one is finishing).
func (q *queue) kick() {
	q.mu.Lock()
	if q.running {
		q.again = true
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	if !q.s.goBackground(q.work) {
		q.finish()
	}
}

func (q *queue) finish() {
	q.mu.Lock()
	q.running = false
	q.idle.Broadcast()
	q.mu.Unlock()
}

// work applies due events until none is left, then schedules itself for
// the next retry, if any.
func (q *queue) work(ctx context.Context) {
	for {
		retry := q.s.applyDue(ctx)
		q.mu.Lock()
		if q.again {
			q.again = false
			q.mu.Unlock()
			continue
		}
		q.running = false
		if retry > 0 && ctx.Err() == nil {
			if q.timer != nil {
				q.timer.Stop()
			}
			q.timer = time.AfterFunc(retry, q.kick)
		}
		q.idle.Broadcast()
		q.mu.Unlock()
		return
	}
}

// ApplyPending applies the stored events that are due now, in this
// goroutine (the CLI, tests, and a start-up catching up on events left
// by a stopped process).
func (s *Service) ApplyPending(ctx context.Context) {
	s.applyDue(ctx)
}

// WaitIdle waits until the event worker has nothing left to do now (tests
// and the simulated mode use it after pushing events).
func (s *Service) WaitIdle(ctx context.Context) error {
	for {
		q := s.queue
		q.mu.Lock()
		running := q.running
		q.mu.Unlock()
		var due int
		if err := s.db.GetContext(ctx, &due, "SELECT COUNT(*) FROM org_events WHERE status IN (?, ?) AND next_at <= ?",
			EventPending, EventApplying, s.now()); err != nil {
			return err
		}
		if !running && due == 0 {
			return nil
		}
		if !running {
			q.kick()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// storedEvent is a row of org_events.
type storedEvent struct {
	ID       int64  `db:"id"`
	EventID  string `db:"event_id"`
	Type     string `db:"event_type"`
	RawUsers string `db:"user_ids"`
	RawDepts string `db:"dept_ids"`
	Status   string `db:"status"`
	Attempts int    `db:"attempts"`
	UserIDs  []string
	DeptIDs  []int64
}

// applyDue applies due events oldest first; it returns when to look again
// (0: nothing waits).
func (s *Service) applyDue(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		if _, held, _ := s.kv.Get(ctx, lockKey); held {
			return waitForSync
		}
		ev, err := s.claim(ctx)
		if err != nil {
			s.log.ErrorContext(ctx, "orgsync: read events", "err", err)
			return firstRetry
		}
		if ev == nil {
			return s.nextDue(ctx)
		}
		s.applyEvent(ctx, ev)
	}
	return 0
}

// claim leases the oldest due event; nil when none is due.
func (s *Service) claim(ctx context.Context) (*storedEvent, error) {
	for {
		now := s.now()
		var evs []storedEvent
		err := s.db.SelectContext(ctx, &evs, `SELECT id, event_id, event_type, user_ids, dept_ids, status, attempts
			FROM org_events WHERE status IN (?, ?) AND next_at <= ? ORDER BY id LIMIT 1`, EventPending, EventApplying, now)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		ev := &evs[0]
		res, err := s.db.ExecContext(ctx, `UPDATE org_events SET status = ?, attempts = attempts + 1, next_at = ?
			WHERE id = ? AND status = ? AND attempts = ?`, EventApplying, now.Add(eventLease), ev.ID, ev.Status, ev.Attempts)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another worker took it
		}
		ev.Attempts++
		_ = json.Unmarshal([]byte(ev.RawUsers), &ev.UserIDs)
		_ = json.Unmarshal([]byte(ev.RawDepts), &ev.DeptIDs)
		return ev, nil
	}
}

// nextDue is how long until the next pending event is due (0: none).
func (s *Service) nextDue(ctx context.Context) time.Duration {
	var next []timeRow
	if err := s.db.SelectContext(ctx, &next, "SELECT next_at FROM org_events WHERE status IN (?, ?) ORDER BY next_at LIMIT 1",
		EventPending, EventApplying); err != nil || len(next) == 0 {
		return 0
	}
	return max(next[0].At.Sub(s.now()), 10*time.Millisecond)
}

type timeRow struct {
	At time.Time `db:"next_at"`
}

// applyEvent re-reads what the event names, applies it and records the
// outcome: done, or retried later, or failed after maxAttempts.
func (s *Service) applyEvent(ctx context.Context, ev *storedEvent) {
	err := s.applyEventOnce(ctx, ev)
	now := s.now()
	var q string
	var args []any
	switch {
	case err == nil:
		q, args = "UPDATE org_events SET status = ?, error = '', applied_at = ? WHERE id = ?", []any{EventDone, now, ev.ID}
	case ev.Attempts >= maxAttempts || errors.Is(err, errPermanent):
		s.log.ErrorContext(ctx, "orgsync: event failed", "event_id", ev.EventID, "type", ev.Type, "err", err)
		q, args = "UPDATE org_events SET status = ?, error = ? WHERE id = ?", []any{EventFailed, clip(err.Error(), 500), ev.ID}
	default:
		s.log.WarnContext(ctx, "orgsync: event will be retried", "event_id", ev.EventID, "type", ev.Type, "err", err)
		delay := firstRetry << (ev.Attempts - 1)
		q, args = "UPDATE org_events SET status = ?, error = ?, next_at = ? WHERE id = ?",
			[]any{EventPending, clip(err.Error(), 500), now.Add(delay), ev.ID}
	}
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), q, args...); err != nil {
		s.log.ErrorContext(ctx, "orgsync: record event outcome", "event_id", ev.EventID, "err", err)
	}
}

// errPermanent marks an event that retrying cannot fix.
var errPermanent = errors.New("orgsync: event cannot be applied")

func (s *Service) applyEventOnce(ctx context.Context, ev *storedEvent) error {
	snap, err := s.fetchEvent(ctx, ev)
	if err != nil {
		return err
	}
	sum, err := s.applySnapshot(ctx, snap, systemWho, false)
	if err != nil {
		return err
	}
	if len(snap.Gone) > 0 {
		if err := s.handoffPending(ctx, sum); err != nil {
			return err
		}
	}
	s.log.InfoContext(ctx, "orgsync: event applied", "type", ev.Type, "event_id", ev.EventID, "changed", sum.Changed())
	return nil
}

// Resume starts the event worker when stored events wait (left by a
// process that stopped before applying them).
func (s *Service) Resume(ctx context.Context) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM org_events WHERE status IN (?, ?)", EventPending, EventApplying); err != nil {
		s.log.WarnContext(ctx, "orgsync: look for pending events", "err", err)
		return
	}
	if n > 0 {
		s.queue.kick()
	}
}
