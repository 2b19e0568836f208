package dingtalk_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dingcrm/crm/dingtalk"
)

// The callback decryption faces the internet: anyone can post to the
// subscription URL. These targets check that no signature, timestamp,
// nonce or payload makes it panic, that a sealed message round-trips, and
// that a payload changed in transit is refused.

// fuzzAESKey is fixed so that corpus entries stay meaningful across runs.
const fuzzAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

func fuzzCrypto(t testing.TB) *dingtalk.Crypto {
	t.Helper()
	cr, err := dingtalk.NewCrypto(cbToken, fuzzAESKey, appKey, corpID)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

// FuzzCallbackOpen: arbitrary request values never panic, and nothing
// unsigned is ever opened.
func FuzzCallbackOpen(f *testing.F) {
	cr := fuzzCrypto(f)
	good, _ := cr.Seal([]byte(`{"EventType":"check_url"}`), "1700000000000", "nonce1")
	f.Add(good.MsgSignature, good.TimeStamp, good.Nonce, good.Encrypt)
	f.Add("", "", "", "")
	f.Add("00", "x", "y", "%%%")
	f.Add(good.MsgSignature, good.TimeStamp, good.Nonce, good.Encrypt[:len(good.Encrypt)-4])
	f.Add(cr.Signature("1", "n", "AAAAAAAAAAAAAAAAAAAAAA=="), "1", "n", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, sig, ts, nonce, enc string) {
		msg, err := cr.Open(dingtalk.CallbackRequest{Signature: sig, Timestamp: ts, Nonce: nonce, Encrypt: enc})
		if err == nil && !cr.Verify(sig, ts, nonce, enc) {
			t.Fatalf("opened an unsigned request: %q", msg)
		}
		// Decrypt alone (after a valid signature an attacker holding the
		// token could still send any payload) must fail cleanly too.
		if m, owner, err := cr.Decrypt(enc); err == nil {
			if owner != appKey && owner != corpID {
				t.Fatalf("accepted owner %q", owner)
			}
			if len(m) > len(enc) {
				t.Fatalf("message of %d bytes from %d characters", len(m), len(enc))
			}
		}
	})
}

// FuzzCallbackRoundTrip: a sealed message opens to itself; the same
// request with its encrypt, timestamp or nonce changed is refused.
func FuzzCallbackRoundTrip(f *testing.F) {
	cr := fuzzCrypto(f)
	f.Add([]byte(`{"EventType":"user_add_org","userId":["u1"]}`), uint16(0), byte(1), uint8(0))
	f.Add([]byte(""), uint16(5), byte(0x80), uint8(1))
	f.Add(bytes.Repeat([]byte("中"), 100), uint16(300), byte(0xff), uint8(2))
	f.Fuzz(func(t *testing.T, msg []byte, pos uint16, flip byte, which uint8) {
		if len(msg) > 64<<10 {
			return
		}
		r, err := cr.Seal(msg, "1700000000000", "nonce1")
		if err != nil {
			t.Fatal(err)
		}
		req := dingtalk.CallbackRequest{Signature: r.MsgSignature, Timestamp: r.TimeStamp, Nonce: r.Nonce, Encrypt: r.Encrypt}
		got, err := cr.Open(req)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
		if flip == 0 {
			return
		}
		tampered := req
		switch which % 3 {
		case 0:
			tampered.Encrypt = flipByte(req.Encrypt, pos, flip)
		case 1:
			tampered.Timestamp = flipByte(req.Timestamp, pos, flip)
		case 2:
			tampered.Nonce = flipByte(req.Nonce, pos, flip)
		}
		if got, err := cr.Open(tampered); err == nil {
			t.Fatalf("tampered request opened: %q", got)
		}
	})
}

func flipByte(s string, pos uint16, flip byte) string {
	b := []byte(s)
	b[int(pos)%len(b)] ^= flip
	return string(b)
}

// FuzzCallbackHandler posts arbitrary query strings and bodies to the
// mounted handler: every answer is a refusal (nothing here is signed with
// the token), never a panic or a 5xx.
func FuzzCallbackHandler(f *testing.F) {
	cr := fuzzCrypto(f)
	now := time.UnixMilli(1700000000000)
	var handled atomic.Int64
	h := &dingtalk.CallbackHandler{Crypto: cr, Guard: dingtalk.NewReplayGuard(nil, dingtalk.ReplayOptions{Now: func() time.Time { return now }}),
		Handle: func(context.Context, dingtalk.Event) error { handled.Add(1); return nil }, Now: func() time.Time { return now }}
	good, _ := cr.Seal([]byte(`{"EventType":"user_add_org","eventId":"e1","userId":["u1"]}`), "1700000000000", "n1")
	// Change the first hex digit to a different one: the seal's IV is
	// random, so a fixed replacement digit would match it one time in 16.
	first := byte('0')
	if good.MsgSignature[0] == first {
		first = '1'
	}
	q := url.Values{"signature": {string(first) + good.MsgSignature[1:]}, "timestamp": {good.TimeStamp}, "nonce": {good.Nonce}}
	f.Add(q.Encode(), []byte(`{"encrypt":"`+good.Encrypt+`"}`))
	f.Add("signature=a&timestamp=b&nonce=c", []byte(`{"encrypt":"zz"}`))
	f.Add("msg_signature=&timeStamp=99999999999999999999", []byte(`{"encrypt":1}`))
	f.Add("", []byte(`null`))
	f.Add("%zz", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/dingtalk/events", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusOK || w.Code >= 500 {
			t.Fatalf("status %d for %q %q: %s", w.Code, rawQuery, body, w.Body)
		}
		if handled.Load() != 0 {
			t.Fatal("an unsigned event was handled")
		}
	})
}

// FuzzParseEvent: any decrypted payload parses or fails with ErrBadPayload.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"EventType":"user_add_org","eventId":"e1","CorpId":"c","timeStamp":"1700000000000","userId":["u1","u2"]}`))
	f.Add([]byte(`{"EventType":"org_dept_create","DeptId":[1,"2"],"TimeStamp":1}`))
	f.Add([]byte(`{"EventType":"x","deptId":"99999999999999999999"}`))
	f.Add([]byte(`{"EventType":"x","userId":{"a":1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := dingtalk.ParseEvent(b)
		if err != nil {
			if !errors.Is(err, dingtalk.ErrBadPayload) {
				t.Fatalf("error %v is not ErrBadPayload", err)
			}
			return
		}
		if e.Type == "" {
			t.Fatal("event without a type accepted")
		}
	})
}

// FuzzVerifyRobotRequest: the robot callback's headers never panic the
// check, and whatever it accepts is DingTalk's sign for that timestamp.
func FuzzVerifyRobotRequest(f *testing.F) {
	now := time.UnixMilli(1700000000000)
	f.Add("secret", "1700000000000", dingtalk.RobotSign("secret", 1700000000000))
	f.Add("secret", "+1700000000000", dingtalk.RobotSign("secret", 1700000000000))
	f.Add("", "-9223372036854775808", "")
	f.Add("s", "9223372036854775807", "x")
	f.Add("s", "１７", "x")
	f.Fuzz(func(t *testing.T, secret, ts, sign string) {
		err := dingtalk.VerifyRobotRequest(secret, ts, sign, now)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || sign != dingtalk.RobotSign(secret, n) {
			t.Fatalf("accepted sign %q for %q", sign, ts)
		}
		if !utf8.ValidString(sign) || strings.ContainsAny(sign, "\r\n") {
			t.Fatalf("accepted odd sign %q", sign)
		}
	})
}
