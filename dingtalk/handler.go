package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// EventHandler handles one decrypted event. An error makes the push fail so
// the platform delivers it again.
type EventHandler func(ctx context.Context, e Event) error

// CallbackHandler is the http.Handler of the HTTP event subscription URL:
// it verifies, replay-checks and decrypts each push, answers check_url at
// once, skips events already handled, calls Handle for the rest and replies
// with the sealed "success". Mount it with gin.WrapH.
type CallbackHandler struct {
	Crypto *Crypto
	Guard  *ReplayGuard // nil: no replay protection
	Handle EventHandler
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	ctx := r.Context()
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	req, err := ParseCallbackRequest(r.URL.Query(), body)
	if err != nil {
		log.WarnContext(ctx, "dingtalk callback: bad request", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !h.Crypto.Verify(req.Signature, req.Timestamp, req.Nonce, req.Encrypt) {
		log.WarnContext(ctx, "dingtalk callback: bad signature", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	if h.Guard != nil {
		if err := h.Guard.CheckRequest(ctx, req.Timestamp, req.Nonce); err != nil {
			log.WarnContext(ctx, "dingtalk callback: refused", "err", err)
			status := http.StatusForbidden
			if !errors.Is(err, ErrStaleTimestamp) && !errors.Is(err, ErrReplayed) {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, "refused", status)
			return
		}
	}
	msg, owner, err := h.Crypto.Decrypt(req.Encrypt)
	if err != nil {
		log.WarnContext(ctx, "dingtalk callback: decrypt", "err", err)
		http.Error(w, "bad payload", http.StatusForbidden)
		return
	}
	ev, err := ParseEvent(msg)
	if err != nil {
		log.WarnContext(ctx, "dingtalk callback: event", "err", err)
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if ev.Type != EventCheckURL {
		if !h.handle(ctx, log, ev) {
			http.Error(w, "event not handled", http.StatusInternalServerError)
			return
		}
	}
	reply, err := h.Crypto.SuccessReply(now(), owner)
	if err != nil {
		http.Error(w, "seal reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// handle runs Handle once per event id and reports success.
func (h *CallbackHandler) handle(ctx context.Context, log *slog.Logger, ev Event) bool {
	if h.Guard != nil {
		firstTime, err := h.Guard.FirstDelivery(ctx, ev.EventID)
		if err != nil {
			log.ErrorContext(ctx, "dingtalk callback: event guard", "err", err)
			return false
		}
		if !firstTime {
			log.InfoContext(ctx, "dingtalk callback: duplicate event skipped", "type", ev.Type, "event_id", ev.EventID)
			return true
		}
	}
	if h.Handle == nil {
		return true
	}
	if err := h.Handle(ctx, ev); err != nil {
		log.ErrorContext(ctx, "dingtalk callback: handler", "type", ev.Type, "event_id", ev.EventID, "err", err)
		if h.Guard != nil {
			_ = h.Guard.Forget(context.WithoutCancel(ctx), ev.EventID)
		}
		return false
	}
	return true
}
