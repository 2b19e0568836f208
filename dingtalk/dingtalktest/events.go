package dingtalktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dingcrm/crm/dingtalk"
)

// orgEvent is a change to push.
type orgEvent struct {
	Type    string
	UserIDs []string
	DeptIDs []int64
}

func userEvent(typ string, ids ...string) orgEvent { return orgEvent{Type: typ, UserIDs: ids} }
func deptEvent(typ string, ids ...int64) orgEvent  { return orgEvent{Type: typ, DeptIDs: ids} }

// PushedEvent is an event the fake pushed (or tried to) to the callback.
type PushedEvent struct {
	Type      string
	EventID   string
	UserIDs   []string
	DeptIDs   []int64
	Payload   []byte // the plaintext JSON before encryption
	At        time.Time
	Delivered bool   // the callback answered the sealed "success" (Stream: the client acknowledged it)
	Err       string // why not
	Stream    bool   // sent over Stream mode (stream.go), not the HTTP callback
}

// SetCallback sets (or, with nil, removes) the event subscription.
func (s *Server) SetCallback(cb *Callback) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callback = cb
}

// Events returns every event pushed so far, oldest first.
func (s *Server) Events() []PushedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PushedEvent(nil), s.events...)
}

// payload builds the decrypted JSON the platform sends.
func (s *Server) payload(e orgEvent, id string, at time.Time, legacy bool) []byte {
	m := map[string]any{"EventType": e.Type, "CorpId": s.opts.CorpID, "eventId": id}
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	if legacy {
		m["TimeStamp"] = at.UnixMilli()
		if e.UserIDs != nil {
			m["UserId"] = e.UserIDs
		}
		if e.DeptIDs != nil {
			m["DeptId"] = e.DeptIDs
		}
	} else {
		m["timeStamp"] = ts
		if e.UserIDs != nil {
			m["userId"] = e.UserIDs
		}
		if e.DeptIDs != nil {
			m["deptId"] = e.DeptIDs
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// push delivers one event to the callback (synchronously) and records it.
func (s *Server) push(e orgEvent) {
	s.mu.Lock()
	cb := s.callback
	s.mu.Unlock()
	at := s.Now()
	pe := PushedEvent{Type: e.Type, EventID: newID(32), UserIDs: e.UserIDs, DeptIDs: e.DeptIDs, At: at}
	if !s.pushStream(e, pe) {
		return // Stream mode took it
	}
	pe.Payload = s.payload(e, pe.EventID, at, cb != nil && cb.LegacyFields)
	if cb == nil {
		pe.Err = "no callback configured"
	} else if err := s.deliver(cb, pe.Payload, at); err != nil {
		pe.Err = err.Error()
		s.log.Warn("dingtalktest: event push failed", "type", e.Type, "err", err)
	} else {
		pe.Delivered = true
	}
	s.mu.Lock()
	s.events = append(s.events, pe)
	s.mu.Unlock()
}

// RedeliverFailed pushes again every event not delivered yet (as the
// platform retries) and returns how many now went through.
func (s *Server) RedeliverFailed() int {
	s.mu.Lock()
	cb := s.callback
	var idx []int
	for i, e := range s.events {
		if !e.Delivered && !e.Stream {
			idx = append(idx, i)
		}
	}
	s.mu.Unlock()
	if cb == nil {
		return 0
	}
	n := 0
	for _, i := range idx {
		s.mu.Lock()
		payload := s.events[i].Payload
		s.mu.Unlock()
		err := s.deliver(cb, payload, s.Now())
		s.mu.Lock()
		if err == nil {
			s.events[i].Delivered, s.events[i].Err = true, ""
			n++
		} else {
			s.events[i].Err = err.Error()
		}
		s.mu.Unlock()
	}
	return n
}

// CheckCallbackURL sends the check_url event, as the console does when the
// URL is saved; the callback must answer "success" within 1500 ms.
func (s *Server) CheckCallbackURL() error {
	s.mu.Lock()
	cb := s.callback
	s.mu.Unlock()
	if cb == nil {
		return errors.New("dingtalktest: no callback configured")
	}
	c := *cb
	c.Timeout = 1500 * time.Millisecond
	at := s.Now()
	return s.deliver(&c, s.payload(orgEvent{Type: dingtalk.EventCheckURL}, newID(32), at, cb.LegacyFields), at)
}

// deliver encrypts, signs and POSTs payload, then checks the sealed reply.
func (s *Server) deliver(cb *Callback, payload []byte, at time.Time) error {
	owner := cb.OwnerKey
	if owner == "" {
		owner = s.opts.AppKey
	}
	cr, err := newEventCrypto(cb.Token, cb.AESKey, owner)
	if err != nil {
		return err
	}
	blockSize := 32
	if cb.PadTo16 {
		blockSize = 16
	}
	enc, err := cr.seal(payload, blockSize)
	if err != nil {
		return err
	}
	ts, nonce := strconv.FormatInt(at.UnixMilli(), 10), newID(16)
	q := url.Values{"nonce": {nonce}}
	sig := cr.sign(ts, nonce, enc)
	if cb.LegacyQuery {
		q.Set("msg_signature", sig)
		q.Set("timeStamp", ts)
	} else {
		q.Set("signature", sig)
		q.Set("timestamp", ts)
	}
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	timeout := cb.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	u := cb.URL
	if len(u) > 0 {
		sep := "?"
		if bytes.ContainsRune([]byte(u), '?') {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered HTTP %d", resp.StatusCode)
	}
	var reply struct {
		MsgSignature string `json:"msg_signature"`
		TimeStamp    string `json:"timeStamp"`
		Nonce        string `json:"nonce"`
		Encrypt      string `json:"encrypt"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return fmt.Errorf("callback reply: %w", err)
	}
	if cr.sign(reply.TimeStamp, reply.Nonce, reply.Encrypt) != reply.MsgSignature {
		return errors.New("callback reply: bad signature")
	}
	msg, err := cr.open(reply.Encrypt)
	if err != nil {
		return fmt.Errorf("callback reply: %w", err)
	}
	if string(msg) != "success" {
		return fmt.Errorf("callback reply: %q, want success", msg)
	}
	return nil
}
