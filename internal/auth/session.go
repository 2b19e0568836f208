package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/dingcrm/crm/internal/errs"
	"github.com/dingcrm/crm/internal/kv"
	"github.com/dingcrm/crm/internal/store"
)

// Sessions issues, checks and revokes login sessions. Tokens are 256 random
// bits; only their SHA-256 is stored, so a leaked table logs nobody in. The
// kv store caches live sessions so most requests skip the database lookup.
type Sessions struct {
	db  *store.DB
	kv  kv.Store
	ttl time.Duration
	log *slog.Logger
	now func() time.Time
}

// NewSessions wires the session service.
func NewSessions(db *store.DB, cache kv.Store, ttl time.Duration, log *slog.Logger) *Sessions {
	return &Sessions{db: db, kv: cache, ttl: ttl, log: log, now: store.Now}
}

// cacheTTL bounds how long a cached session may outlive a revocation that
// failed to reach the cache (Redis down at that moment).
const cacheTTL = 5 * time.Minute

type cachedSession struct {
	UserID  int64     `json:"u"`
	Expires time.Time `json:"e"`
}

// HashToken is how a token is stored and looked up.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CSRFToken derives the anti-CSRF token bound to a session token. Only the
// holder of the session cookie can know it; a cross-site page can send the
// cookie but cannot read it to compute this.
func CSRFToken(token string) string {
	sum := sha256.Sum256([]byte("csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Create starts a session for userID inside tx and returns the raw token.
func (s *Sessions) Create(ctx context.Context, tx sqlx.ExtContext, userID int64, ip, ua string) (string, time.Time, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: random: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	exp := now.Add(s.ttl)
	if len(ua) > 255 {
		ua = ua[:255]
	}
	_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?)`), HashToken(token), userID, now, exp, ip, ua)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: create session: %w", err)
	}
	return token, exp, nil
}

// UserFor returns the user id of a live session, or errs.ErrUnauthorized.
func (s *Sessions) UserFor(ctx context.Context, token string) (int64, error) {
	if len(token) < 20 || len(token) > 100 {
		return 0, errs.ErrUnauthorized
	}
	h := HashToken(token)
	if v, ok, err := s.kv.Get(ctx, "sess:"+h); err == nil && ok {
		var c cachedSession
		if json.Unmarshal([]byte(v), &c) == nil && s.now().Before(c.Expires) {
			return c.UserID, nil
		}
	}
	var row struct {
		UserID  int64     `db:"user_id"`
		Expires time.Time `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, "SELECT user_id, expires_at FROM sessions WHERE token_hash = ?", h)
	if store.IsNoRows(err) {
		return 0, errs.ErrUnauthorized
	}
	if err != nil {
		return 0, fmt.Errorf("auth: load session: %w", err)
	}
	if !s.now().Before(row.Expires) {
		return 0, errs.ErrUnauthorized
	}
	b, _ := json.Marshal(cachedSession{UserID: row.UserID, Expires: row.Expires})
	ttl := min(cacheTTL, row.Expires.Sub(s.now()))
	if err := s.kv.Set(ctx, "sess:"+h, string(b), ttl); err != nil {
		s.log.Warn("session cache unavailable", "err", err)
	}
	return row.UserID, nil
}

// Revoke ends one session (logout).
func (s *Sessions) Revoke(ctx context.Context, token string) error {
	h := HashToken(token)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", h); err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	s.uncache(ctx, h)
	return nil
}

// RevokeUser ends every session of a person (deactivation) inside tx; the
// cache entries are dropped by the returned function after commit.
func (s *Sessions) RevokeUser(ctx context.Context, tx sqlx.ExtContext, userID int64) (after func(), err error) {
	var hashes []string
	if err := sqlx.SelectContext(ctx, tx, &hashes, s.db.Rebind("SELECT token_hash FROM sessions WHERE user_id = ?"), userID); err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind("DELETE FROM sessions WHERE user_id = ?"), userID); err != nil {
		return nil, fmt.Errorf("auth: revoke sessions: %w", err)
	}
	return func() { s.uncache(context.WithoutCancel(ctx), hashes...) }, nil
}

func (s *Sessions) uncache(ctx context.Context, hashes ...string) {
	if len(hashes) == 0 {
		return
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = "sess:" + h
	}
	if err := s.kv.Del(ctx, keys...); err != nil {
		s.log.Warn("session cache unavailable on revoke; the entry expires by itself", "err", err)
	}
}

// PurgeExpired deletes sessions past their expiry.
func (s *Sessions) PurgeExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ?", s.now())
	if err != nil {
		return 0, fmt.Errorf("auth: purge sessions: %w", err)
	}
	return res.RowsAffected()
}
