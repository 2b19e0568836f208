package orgsync

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/pool"
	"github.com/dingcrm/crm/internal/store"
)

// SessionRevoker ends a person's sessions inside a transaction; the
// returned function drops cached sessions after commit.
type SessionRevoker interface {
	RevokeUser(ctx context.Context, tx sqlx.ExtContext, userID int64) (func(), error)
}

// ActorLoader builds a person's Actor (a successor's main department).
type ActorLoader interface {
	Load(ctx context.Context, userID int64) (*auth.Actor, error)
}

// Options configure the Service. Zero values take the defaults noted.
type Options struct {
	// LeaverCustomers is where a leaver's customers go: LeaverToManager
	// (default) or LeaverToPool.
	LeaverCustomers string
	// Workers is how many calls of one API run at once; default 8 (the
	// client's rate limit paces them; several hide each call's latency).
	Workers int
	// CallbackToken and CallbackAESKey verify and decrypt event pushes;
	// OwnerKeys are the accepted payload owners (the AppKey first, then the
	// corpId). Without a token and key the callback answers 503.
	CallbackToken  string
	CallbackAESKey string
	OwnerKeys      []string
	// MaxLeaverShare stops a full sync that would deactivate more than this
	// share of the active DingTalk people (and more than 10) unless forced;
	// default 0.5.
	MaxLeaverShare float64
	Notifier       Notifier
	Logger         *slog.Logger
	Now            func() time.Time // default store.Now
}

// Service syncs the organization and applies contact events.
type Service struct {
	db       *store.DB
	dt       *dingtalk.Client
	kv       kv.Store
	sessions SessionRevoker
	people   ActorLoader
	pool     *pool.Service
	opts     Options
	log      *slog.Logger
	crypto   *dingtalk.Crypto
	guard    *dingtalk.ReplayGuard
	queue    *queue
	// bg is the lifetime of background work (syncs started from the web,
	// event workers); Close ends it.
	bg     context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed bool
	mu     sync.Mutex
}

// Deps are the Service's collaborators.
type Deps struct {
	DB       *store.DB
	DingTalk *dingtalk.Client
	KV       kv.Store
	Sessions SessionRevoker
	People   ActorLoader
	Pool     *pool.Service
}

// New wires the Service. It fails only on a malformed callback AES key.
func New(d Deps, opts Options) (*Service, error) {
	if opts.LeaverCustomers == "" {
		opts.LeaverCustomers = LeaverToManager
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MaxLeaverShare <= 0 {
		opts.MaxLeaverShare = 0.5
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	s := &Service{db: d.DB, dt: d.DingTalk, kv: d.KV, sessions: d.Sessions, people: d.People, pool: d.Pool,
		opts: opts, log: opts.Logger}
	s.bg, s.stop = context.WithCancel(context.Background())
	if opts.CallbackToken != "" && opts.CallbackAESKey != "" {
		cr, err := dingtalk.NewCrypto(opts.CallbackToken, opts.CallbackAESKey, opts.OwnerKeys...)
		if err != nil {
			return nil, fmt.Errorf("orgsync: event callback: %w", err)
		}
		s.crypto = cr
		s.guard = dingtalk.NewReplayGuard(d.KV, dingtalk.ReplayOptions{Prefix: "orgsync:cb:"})
	}
	s.queue = newQueue(s)
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Millisecond) }

// Close stops background work and waits for it (a sync or an event being
// applied ends at its next step; an event left pending is applied after
// the next start).
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
}

// goBackground runs fn on the background context unless closed.
func (s *Service) goBackground(fn func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.bg)
	}()
	return true
}

func whoOf(a *auth.Actor) audit.Who {
	if a == nil || a.System {
		return systemWho
	}
	return audit.Who{ID: a.UserID, Name: a.Name}
}

// applySnapshot diffs a snapshot against the database and writes the
// difference in one transaction (nothing at all when there is none), then
// hands over the records of people who left.
func (s *Service) applySnapshot(ctx context.Context, snap *Snapshot, who audit.Who, force bool) (*Summary, error) {
	var (
		pl *plan
		ap *applier
	)
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		l, err := loadLocal(ctx, tx, snap)
		if err != nil {
			return err
		}
		pl = diff(snap, l)
		if snap.Full && !force {
			if err := s.checkLeavers(pl, l); err != nil {
				return err
			}
		}
		if pl.empty() {
			return nil
		}
		admins, err := activeAdmins(ctx, tx, 0)
		if err != nil {
			return err
		}
		if ap, err = s.apply(ctx, tx, pl, l, who); err != nil {
			return err
		}
		if after, err := activeAdmins(ctx, tx, 0); err != nil || (after == 0 && admins > 0) {
			return cmp.Or(err, error(ErrNoAdminLeft))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ap != nil {
		for _, f := range ap.after {
			f()
		}
	}
	sum := pl.sum
	return &sum, nil
}

// checkLeavers refuses a full sync that would deactivate most people: more
// likely a narrowed app visibility scope than a mass departure.
func (s *Service) checkLeavers(pl *plan, l *local) error {
	n := pl.sum.PeopleDeactivated
	if n <= 10 {
		return nil
	}
	active := 0
	for _, p := range l.people {
		if p.Source == "dingtalk" && p.Active {
			active++
		}
	}
	if float64(n) > s.opts.MaxLeaverShare*float64(active) {
		return withArgs(ErrTooManyLeavers, map[string]any{"count": n, "total": active})
	}
	return nil
}
