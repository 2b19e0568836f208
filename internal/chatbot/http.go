package chatbot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// maxBody bounds a callback's body; robot messages are a few KB.
const maxBody = 256 << 10

// replyTimeout bounds answering one message (the lookups and the reply).
const replyTimeout = 15 * time.Second

// CallbackHandler serves POST /dingtalk/robot, the robot's HTTP callback
// mode: the timestamp and sign headers must be DingTalk's
// (Base64(HmacSHA256(AppSecret, timestamp+"\n"+AppSecret)), the
// timestamp within an hour), else 401 and nothing is done. The answer goes
// out through the message's sessionWebhook before the 200.
func (s *Service) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := dingtalk.VerifyRobotRequest(s.d.AppSecret, r.Header.Get("timestamp"), r.Header.Get("sign"), s.d.Now()); err != nil || s.d.AppSecret == "" {
			s.d.Log.Warn("robot callback refused: bad signature or timestamp", "remote", r.RemoteAddr, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errcode":401,"errmsg":"bad signature"}`)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var m Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), replyTimeout)
		defer cancel()
		if err := s.Handle(ctx, m); err != nil {
			s.d.Log.Error("robot message not answered", "err", err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
}
