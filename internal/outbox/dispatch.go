package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/store"
)

// DingTalk is what the dispatcher needs of the DingTalk client.
type DingTalk interface {
	SendWorkNotice(ctx context.Context, n dingtalk.WorkNotice) (int64, error)
	GetSendResult(ctx context.Context, taskID int64) (*dingtalk.SendResult, error)
}

// Options configure a Dispatcher; zero values take the defaults.
type Options struct {
	DB *store.DB
	// DingTalk sends work notifications; nil keeps everything in the in-app
	// inbox only.
	DingTalk DingTalk
	// Usage reports the month's DingTalk calls (dingtalk.Client.Usage); nil
	// never switches to digests only.
	Usage func(ctx context.Context, at time.Time) (dingtalk.Usage, error)
	// LowQuota is the remaining monthly quota below which only digests go
	// out (default a tenth of the quota).
	LowQuota int64
	// Quiet holds messages at night (default 22:00–08:00 in Location).
	Quiet    QuietHours
	Location *time.Location
	// BaseURL is where the micro-app is served (the card's button opens
	// BaseURL + "/" + the message's URL).
	BaseURL string
	// Owner names this instance in leases (default host, pid and a random
	// suffix).
	Owner string
	// Lease is how long a claimed batch is this instance's (default 2 min);
	// SendTimeout bounds one send, retries included (default 1 min, must be
	// shorter than Lease).
	Lease       time.Duration
	SendTimeout time.Duration
	// MaxAttempts bounds the sends of one batch (default 6); Backoff is the
	// wait after the first failed one, doubling up to MaxBackoff (defaults
	// 30 s and 30 min).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// Claim is how many batches one claim takes (default 20: about a
	// second of sending at DingTalk's pace, so leases stay fresh).
	Claim int
	// Workers is how many sends run at once (default 4); the client's rate
	// limit sets the pace, the workers keep the database writes off it.
	Workers int
	// Prepare runs at the start of each Dispatch (the reminders' repeats).
	Prepare func(ctx context.Context, now time.Time) error
	// Alert tells admins something needs them (default: an "alert" entry
	// in the operation log, entity "outbox").
	Alert func(ctx context.Context, kind, detail string)
	Now   func() time.Time
	Log   *slog.Logger
}

// Dispatcher forms, sends and checks batches.
type Dispatcher struct {
	o   Options
	seq atomic.Int64
}

// NewDispatcher returns a dispatcher with the defaults filled in.
func NewDispatcher(o Options) *Dispatcher {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Quiet == nil {
		o.Quiet = DefaultQuietHours(o.Location)
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	o.Owner = cut(o.Owner, 48)
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.SendTimeout <= 0 || o.SendTimeout >= o.Lease {
		o.SendTimeout = o.Lease / 2
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Minute
	}
	if o.Claim <= 0 {
		o.Claim = 20
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	d := &Dispatcher{o: o}
	if d.o.Alert == nil {
		d.o.Alert = d.auditAlert
	}
	return d
}

func (d *Dispatcher) now() time.Time { return d.o.Now().UTC().Truncate(time.Millisecond) }

// Stats counts what one Dispatch did.
type Stats struct {
	Formed, Messages, Sent, Retried, Failed, InboxOnly int
	Quiet, LowQuota                                    bool
}

func (s Stats) String() string {
	switch {
	case s.Quiet:
		return "quiet hours: nothing sent"
	}
	out := fmt.Sprintf("formed %d batches of %d messages, sent %d, retry %d, failed %d, inbox only %d",
		s.Formed, s.Messages, s.Sent, s.Retried, s.Failed, s.InboxOnly)
	if s.LowQuota {
		out += " (quota low: digests only)"
	}
	return out
}

// Dispatch is the dispatch-reminders job: it groups due messages into
// batches and sends every batch that is due, until none is left or ctx
// ends. It holds everything during quiet hours.
func (d *Dispatcher) Dispatch(ctx context.Context) (string, error) {
	st, err := d.Run(ctx)
	return st.String(), err
}

// tally is a Run's counts, shared by its former and its senders.
type tally struct {
	mu sync.Mutex
	s  Stats
}

func (t *tally) add(f func(*Stats)) {
	t.mu.Lock()
	f(&t.s)
	t.mu.Unlock()
}

// Run is Dispatch with the counts. One goroutine forms batches while the
// caller's claims them and Workers goroutines send them, so the database
// work never holds up the sends (DingTalk's pace is the limit).
func (d *Dispatcher) Run(ctx context.Context) (Stats, error) {
	st := &tally{}
	now := d.now()
	if d.o.Prepare != nil {
		if err := d.o.Prepare(ctx, now); err != nil {
			d.o.Log.WarnContext(ctx, "outbox: prepare", "err", err)
		}
	}
	if quiet, _ := d.o.Quiet.Quiet(now); quiet {
		st.s.Quiet = true
		return st.s, nil
	}
	st.s.LowQuota = d.lowQuota(ctx, now)
	low := st.s.LowQuota
	formCtx, stopForming := context.WithCancel(ctx)
	defer stopForming()
	formed := make(chan error, 1)
	go func() { formed <- d.formLoop(formCtx, low, st) }()
	var (
		wg       sync.WaitGroup
		workers  = make(chan struct{}, d.o.Workers)
		finished bool
		err      error
	)
	for ctx.Err() == nil && d.o.DingTalk != nil {
		batches, found, cerr := d.claim(ctx)
		if cerr != nil {
			err = cerr
			break
		}
		if !found {
			if finished {
				break
			}
			select {
			case err = <-formed:
				finished = true
			case <-time.After(50 * time.Millisecond):
			}
			if err != nil {
				break
			}
			continue
		}
		for _, b := range batches {
			workers <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-workers; wg.Done() }()
				if ctx.Err() == nil {
					d.send(ctx, b, st)
				}
			}()
		}
	}
	wg.Wait()
	if !finished {
		if d.o.DingTalk != nil {
			stopForming()
		}
		if ferr := <-formed; err == nil && !errors.Is(ferr, context.Canceled) {
			err = ferr
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	return st.s, err
}

// formLoop forms batches just before they can be sent (no more than two
// claims' worth waiting): a person's messages that fall due while the
// queue drains join their next batch instead of making another call. It
// ends when nothing more is due.
func (d *Dispatcher) formLoop(ctx context.Context, low bool, st *tally) error {
	for ctx.Err() == nil {
		now := d.now()
		var backlog int
		if err := d.o.DB.GetContext(ctx, &backlog, `SELECT COUNT(*) FROM outbox_batches WHERE status = 'pending'
			AND next_at <= ?`, now); err != nil {
			return fmt.Errorf("outbox: backlog: %w", err)
		}
		room := 2*d.o.Claim - backlog
		if d.o.DingTalk == nil {
			room = 2 * d.o.Claim
		}
		if room <= 0 {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		n, err := d.form(ctx, now, low, st, room)
		if err != nil || n == 0 {
			return err
		}
	}
	return ctx.Err()
}

// form turns the messages due by the start of the current minute into
// batches for up to limit people, those waiting longest first: one batch per
// person (split only when it does not fit one card; a digest goes alone).
// Messages due within the current minute wait for its end, so a person
// never gets two notifications for one minute.
func (d *Dispatcher) form(ctx context.Context, now time.Time, low bool, st *tally, limit int) (int, error) {
	cutoff := now.Truncate(time.Minute)
	var users []int64
	err := d.o.DB.SelectContext(ctx, &users, `SELECT user_id FROM outbox_messages WHERE status = 'pending' AND due_at <= ?
		GROUP BY user_id ORDER BY MIN(due_at), user_id LIMIT ?`, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("outbox: due people: %w", err)
	}
	formed := 0
	for _, uid := range users {
		ok, err := d.formFor(ctx, uid, cutoff, now, low, st)
		if err != nil {
			if ctx.Err() != nil {
				return formed, ctx.Err()
			}
			d.o.Log.WarnContext(ctx, "outbox: form batch", "user", uid, "err", err)
			continue
		}
		if ok {
			formed++
		}
	}
	return formed, nil
}

var errRace = errors.New("outbox: another dispatcher took these messages")

// person is who a batch goes to.
type person struct {
	UserID string `db:"userid"`
	Lang   string `db:"lang"`
	Active bool   `db:"active"`
}

// formFor makes one batch of uid's due messages. It reports false when
// another dispatcher took them first.
func (d *Dispatcher) formFor(ctx context.Context, uid int64, cutoff, now time.Time, low bool, st *tally) (bool, error) {
	var items []item
	err := d.o.DB.SelectContext(ctx, &items, `SELECT id, kind, title, body, url, customer_id, due_at FROM outbox_messages
		WHERE user_id = ? AND status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT 30`, uid, cutoff)
	if err != nil || len(items) == 0 {
		return false, err
	}
	if items[0].Kind == KindDigest {
		items = items[:1]
	} else {
		for i, it := range items {
			if it.Kind == KindDigest {
				items = items[:i]
				break
			}
		}
	}
	var p person
	if err := d.o.DB.GetContext(ctx, &p, "SELECT userid, lang, active FROM users WHERE id = ?", uid); err != nil && !store.IsNoRows(err) {
		return false, fmt.Errorf("outbox: recipient %d: %w", uid, err)
	}
	status, reason := "pending", ""
	switch {
	case d.o.DingTalk == nil:
		status, reason = "inbox", "no_dingtalk"
	case !p.Active || p.UserID == "":
		status, reason = "inbox", "inactive"
	case low && items[0].Kind != KindDigest:
		status, reason = "inbox", "quota_low"
	}
	lang := p.Lang
	if lang == "" {
		lang = "zh-CN"
	}
	err = d.o.DB.WithTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox_batches (user_id, kind, title, body, url, customer_id, items, msg,
			status, attempts, next_at, reason, created_at) VALUES (?, ?, '', '', '', 0, 0, '', ?, 0, ?, ?, ?)`,
			uid, items[0].Kind, status, now, reason, now)
		if err != nil {
			return fmt.Errorf("outbox: insert batch: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		c, n, err := fit(id, items, lang, d.o.BaseURL, d.o.Location)
		if err != nil {
			return err
		}
		items = items[:n]
		ids := make([]int64, n)
		for i, it := range items {
			ids[i] = it.ID
		}
		res, err = tx.ExecContext(ctx, `UPDATE outbox_messages SET status = 'batched', batch_id = ?
			WHERE status = 'pending' AND id IN (`+store.Placeholders(n)+")", append([]any{id}, store.Int64Args(ids)...)...)
		if err != nil {
			return fmt.Errorf("outbox: batch messages: %w", err)
		}
		if got, _ := res.RowsAffected(); got != int64(n) {
			return errRace
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox_batches SET title = ?, body = ?, url = ?, customer_id = ?, items = ?, msg = ?
			WHERE id = ?`, cut(c.Title, 200), c.Body, cut(c.URL, 500), c.CustomerID, n, string(c.Msg), id)
		return err
	})
	if errors.Is(err, errRace) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	st.add(func(s *Stats) {
		s.Formed++
		s.Messages += len(items)
		if status == "inbox" {
			s.InboxOnly++
		}
	})
	return true, nil
}

// claimed is a batch this instance holds the lease of.
type claimed struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	Msg      string `db:"msg"`
	Attempts int    `db:"attempts"`
	To       string `db:"userid"`
	Token    string `db:"lease_owner"`
}

// claim leases up to Claim due batches. The lease is taken with one UPDATE
// whose WHERE repeats the "free" condition, so of several instances racing
// for a batch exactly one gets it, on SQLite, MariaDB and MySQL alike.
// found reports whether there were free batches (another instance may have
// taken them all first).
func (d *Dispatcher) claim(ctx context.Context) (out []claimed, found bool, err error) {
	now := d.now()
	var ids []int64
	err = d.o.DB.SelectContext(ctx, &ids, `SELECT id FROM outbox_batches WHERE status = 'pending' AND next_at <= ?
		AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_at, id LIMIT ?`, now, now, d.o.Claim)
	if err != nil || len(ids) == 0 {
		return nil, false, err
	}
	token := fmt.Sprintf("%s#%d", d.o.Owner, d.seq.Add(1))
	args := append([]any{token, now.Add(d.o.Lease)}, store.Int64Args(ids)...)
	_, err = d.o.DB.ExecContext(ctx, `UPDATE outbox_batches SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (`+store.Placeholders(len(ids))+`) AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?)`,
		append(args, now)...)
	if err != nil {
		return nil, true, fmt.Errorf("outbox: claim: %w", err)
	}
	err = d.o.DB.SelectContext(ctx, &out, `SELECT b.id, b.kind, b.msg, b.attempts, COALESCE(u.userid, '') AS userid, b.lease_owner
		FROM outbox_batches b LEFT JOIN users u ON u.id = b.user_id WHERE b.lease_owner = ? AND b.status = 'pending' ORDER BY b.id`, token)
	if err != nil {
		return nil, true, fmt.Errorf("outbox: read claimed: %w", err)
	}
	return out, true, nil
}

// send sends one claimed batch and records the outcome, if the lease is
// still this instance's (a stale holder's outcome is dropped: the batch's
// new holder resends the same content, which DingTalk drops as a repeat).
func (d *Dispatcher) send(ctx context.Context, b claimed, st *tally) {
	var msg dingtalk.Message
	if err := json.Unmarshal([]byte(b.Msg), &msg); err != nil {
		d.fail(ctx, b, "bad card: "+err.Error(), st)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
	task, err := d.o.DingTalk.SendWorkNotice(sctx, dingtalk.WorkNotice{UserIDs: []string{b.To}, Msg: msg})
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and someone resends
	}
	now := d.now()
	if err == nil {
		_, err = d.o.DB.ExecContext(ctx, `UPDATE outbox_batches SET status = 'sent', task_id = ?, sent_at = ?, reason = '',
			lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`, task, now, b.ID, b.Token)
		if err != nil {
			d.o.Log.WarnContext(ctx, "outbox: record sent (will be resent, invisibly)", "batch", b.ID, "err", err)
			return
		}
		st.add(func(s *Stats) { s.Sent++ })
		return
	}
	if permanent(err) || b.Attempts >= d.o.MaxAttempts {
		d.fail(ctx, b, err.Error(), st)
		return
	}
	wait := d.o.Backoff << min(b.Attempts-1, 20)
	if wait > d.o.MaxBackoff || wait <= 0 {
		wait = d.o.MaxBackoff
	}
	_, uerr := d.o.DB.ExecContext(ctx, `UPDATE outbox_batches SET next_at = ?, reason = ?, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ?`, now.Add(wait), cut(err.Error(), 255), b.ID, b.Token)
	if uerr != nil {
		d.o.Log.WarnContext(ctx, "outbox: record retry", "batch", b.ID, "err", uerr)
		return
	}
	st.add(func(s *Stats) { s.Retried++ })
}

// permanent reports errors a resend cannot fix.
func permanent(err error) bool {
	for _, e := range []error{dingtalk.ErrInvalidArgument, dingtalk.ErrNoPermission, dingtalk.ErrQuotaExhausted,
		dingtalk.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (d *Dispatcher) fail(ctx context.Context, b claimed, reason string, st *tally) {
	res, err := d.o.DB.ExecContext(ctx, `UPDATE outbox_batches SET status = 'failed', reason = ?, lease_owner = NULL,
		lease_until = NULL WHERE id = ? AND lease_owner = ?`, cut(reason, 255), b.ID, b.Token)
	if err != nil {
		d.o.Log.WarnContext(ctx, "outbox: record failure", "batch", b.ID, "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 1 {
		st.add(func(s *Stats) { s.Failed++ })
		d.o.Alert(ctx, "send_failed", fmt.Sprintf("notification %s to %s not delivered after %d attempts: %s",
			batchRef(b.ID), b.To, b.Attempts, reason))
	}
}

// auditAlert records an alert in the operation log, where admins see it.
func (d *Dispatcher) auditAlert(ctx context.Context, kind, detail string) {
	d.o.Log.ErrorContext(ctx, "outbox alert: an admin must act", "kind", kind, "detail", detail)
	err := audit.Record(context.WithoutCancel(ctx), d.o.DB, audit.Who{Name: "system"}, audit.Entry{
		Action: "alert", Entity: "outbox", EntityName: kind,
		Changes: map[string]audit.Change{"detail": {New: detail}},
	})
	if err != nil {
		d.o.Log.ErrorContext(ctx, "outbox alert not recorded", "err", err)
	}
}

// lowQuota reports whether the month's DingTalk calls leave less than
// LowQuota of the quota, telling admins once a month when they do.
func (d *Dispatcher) lowQuota(ctx context.Context, now time.Time) bool {
	if d.o.Usage == nil || d.o.DingTalk == nil {
		return false
	}
	u, err := d.o.Usage(ctx, now)
	if err != nil || u.Quota <= 0 {
		return false
	}
	limit := d.o.LowQuota
	if limit <= 0 {
		limit = u.Quota / 10
	}
	if u.Remaining > limit {
		return false
	}
	var n int
	err = d.o.DB.GetContext(ctx, &n, `SELECT COUNT(*) FROM audit_log WHERE action = 'alert' AND entity = 'outbox'
		AND entity_name = ?`, "quota_low:"+u.Month)
	if err == nil && n == 0 {
		d.o.Alert(ctx, "quota_low:"+u.Month, fmt.Sprintf("DingTalk calls this month: %d of %d; only morning digests are sent to DingTalk, other notifications stay in the in-app inbox",
			u.QuotaCalls, u.Quota))
	}
	return true
}

// Owner is this dispatcher's lease name.
func (d *Dispatcher) Owner() string { return d.o.Owner }
