// Package login signs people in and out. Every way in (the simulated
// organization's picker, DingTalk's login-free code inside the DingTalk
// client, DingTalk's web OAuth in a browser) ends in one place that checks
// the person is active, starts a session and audits the login in one
// transaction.
package login

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/dingtalk"
	"github.com/dingcrm/crm/internal/audit"
	"github.com/dingcrm/crm/internal/auth"
	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
)

// ErrUnknownLogin means no active person matches the login.
var ErrUnknownLogin = errs.New(errs.KindUnauthorized, "auth.unknown_user")

// Service signs people in and out.
type Service struct {
	db       *store.DB
	sessions *auth.Sessions
	loader   *auth.Loader
	dt       *dingtalk.Client // DingTalk (or the in-process fake in simulated mode)
	kv       kv.Store         // OAuth states, shared by all instances
}

// NewService wires the login service. dt is the DingTalk client the
// login-free code and OAuth flows call; keeping OAuth states in the shared
// kv store makes the callback work whichever instance it reaches.
func NewService(db *store.DB, s *auth.Sessions, l *auth.Loader, dt *dingtalk.Client, states kv.Store) *Service {
	return &Service{db: db, sessions: s, loader: l, dt: dt, kv: states}
}

// Result is a started session.
type Result struct {
	Token   string
	Expires time.Time
	Actor   *auth.Actor
}

// LoginDingTalkUserID signs in the person with this DingTalk userid (the
// simulated organization's picker, and the DingTalk flows once DingTalk has
// vouched for the userid).
func (l *Service) LoginDingTalkUserID(ctx context.Context, dtUserID, method string, ip, ua string) (*Result, error) {
	var row struct {
		ID     int64  `db:"id"`
		Name   string `db:"name"`
		Active bool   `db:"active"`
	}
	err := l.db.GetContext(ctx, &row, "SELECT id, name, active FROM users WHERE userid = ?", dtUserID)
	if store.IsNoRows(err) {
		return nil, ErrUnknownLogin
	}
	if err != nil {
		return nil, err
	}
	if !row.Active {
		l.recordFailure(ctx, row.ID, row.Name, method, "inactive")
		return nil, auth.ErrInactive
	}
	actor, err := l.loader.Load(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	res := &Result{Actor: actor}
	err = l.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		res.Token, res.Expires, err = l.sessions.Create(ctx, tx, row.ID, ip, ua)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Who{ID: row.ID, Name: row.Name}, audit.Entry{
			Action: audit.ActLogin, Entity: "session", EntityID: row.ID, EntityName: row.Name,
			Changes: map[string]audit.Change{"method": {New: method}},
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// recordFailure logs a refused login; a failure to log is not the caller's
// problem, so it is dropped after the attempt.
func (l *Service) recordFailure(ctx context.Context, id int64, name, method, reason string) {
	_ = audit.Record(ctx, l.db, audit.Who{ID: id, Name: name}, audit.Entry{
		Action: audit.ActLoginFailed, Entity: "session", EntityID: id, EntityName: name,
		Changes: map[string]audit.Change{"method": {New: method}, "reason": {New: reason}},
	})
}

// Logout ends the session and audits it.
func (l *Service) Logout(ctx context.Context, a *auth.Actor, token string) error {
	if err := l.sessions.Revoke(ctx, token); err != nil {
		return err
	}
	return audit.Record(ctx, l.db, audit.Who{ID: a.UserID, Name: a.Name}, audit.Entry{
		Action: audit.ActLogout, Entity: "session", EntityID: a.UserID, EntityName: a.Name})
}
