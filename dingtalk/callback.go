package dingtalk

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Callback errors.
var (
	ErrBadPayload   = errors.New("dingtalk: undecryptable callback payload")
	ErrWrongOwner   = errors.New("dingtalk: callback payload is for another app")
	ErrReplayed     = errors.New("dingtalk: callback nonce already seen")
	ErrBadAESKey    = errors.New("dingtalk: aes_key must be 43 base64 characters")
	ErrMissingField = errors.New("dingtalk: callback request lacks signature, timestamp, nonce or encrypt")
)

// Crypto signs, encrypts and decrypts HTTP event callbacks (doc §7): the
// signature is sha1 over the sorted token, timestamp, nonce and encrypt; the
// payload is AES-256-CBC of random(16) ‖ len(4, big-endian) ‖ msg ‖ ownerKey.
type Crypto struct {
	token  string
	key    []byte
	owners []string
}

// NewCrypto builds the callback crypto from the console's token and
// aes_key. ownerKeys are the owner keys accepted at the end of a payload:
// give the AppKey first (console subscriptions, also used to encrypt) and
// the corpId after it (subscriptions made through the old API).
func NewCrypto(token, aesKey string, ownerKeys ...string) (*Crypto, error) {
	if len(aesKey) != 43 {
		return nil, ErrBadAESKey
	}
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(key) != 32 {
		return nil, ErrBadAESKey
	}
	var owners []string
	for _, o := range ownerKeys {
		if o != "" {
			owners = append(owners, o)
		}
	}
	if token == "" || len(owners) == 0 {
		return nil, errors.New("dingtalk: callback crypto needs a token and an owner key (the AppKey)")
	}
	return &Crypto{token: token, key: key, owners: owners}, nil
}

// GenerateAESKey returns a random 43-character aes_key for a callback
// subscription (the console accepts any such key; tests and the fake use it).
func GenerateAESKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.TrimRight(base64.StdEncoding.EncodeToString(b), "=")
}

// Signature is the lowercase hex sha1 of the sorted, concatenated values.
func (c *Crypto) Signature(timestamp, nonce, encrypt string) string {
	parts := []string{c.token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Verify checks a signature in constant time.
func (c *Crypto) Verify(signature, timestamp, nonce, encrypt string) bool {
	want := c.Signature(timestamp, nonce, encrypt)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(signature))) == 1
}

// Encrypt seals msg for the first owner key, padded to 32 bytes as the
// platform's Java library does.
func (c *Crypto) Encrypt(msg []byte) (string, error) {
	return c.encrypt(msg, c.owners[0], 32)
}

func (c *Crypto) encrypt(msg []byte, owner string, padTo int) (string, error) {
	var buf bytes.Buffer
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	buf.Write(random)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.Write(msg)
	buf.WriteString(owner)
	pad := padTo - buf.Len()%padTo
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return "", err
	}
	out := make([]byte, buf.Len())
	cipher.NewCBCEncrypter(block, c.key[:16]).CryptBlocks(out, buf.Bytes())
	return base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt opens an encrypt value and returns the message and the owner key
// it was sealed for (one of the accepted ones). Padding of 1–32 bytes is
// accepted (Java pads to 32, the Go sample to 16).
func (c *Crypto) Decrypt(encrypt string) ([]byte, string, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, "", ErrBadPayload
	}
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return nil, "", err
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 || pad > len(plain) {
		return nil, "", ErrBadPayload
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, "", ErrBadPayload
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, "", ErrBadPayload
	}
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if n < 0 || 20+n > len(plain) {
		return nil, "", ErrBadPayload
	}
	msg, owner := plain[20:20+n], string(plain[20+n:])
	for _, o := range c.owners {
		if subtle.ConstantTimeCompare([]byte(o), []byte(owner)) == 1 {
			return msg, owner, nil
		}
	}
	return nil, owner, ErrWrongOwner
}

// CallbackRequest is what an event push carries.
type CallbackRequest struct {
	Signature string
	Timestamp string // ms since the epoch
	Nonce     string
	Encrypt   string
}

// ParseCallbackRequest reads a push's query (signature or msg_signature,
// timestamp or timeStamp, nonce) and its JSON body {"encrypt": …}.
func ParseCallbackRequest(q url.Values, body []byte) (CallbackRequest, error) {
	r := CallbackRequest{
		Signature: first(q, "msg_signature", "signature"),
		Timestamp: first(q, "timestamp", "timeStamp"),
		Nonce:     q.Get("nonce"),
	}
	var b struct {
		Encrypt string `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return r, fmt.Errorf("%w: body: %v", ErrBadPayload, err)
	}
	r.Encrypt = b.Encrypt
	if r.Signature == "" || r.Timestamp == "" || r.Nonce == "" || r.Encrypt == "" {
		return r, ErrMissingField
	}
	return r, nil
}

func first(q url.Values, keys ...string) string {
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// Open verifies the signature and decrypts the payload.
func (c *Crypto) Open(r CallbackRequest) ([]byte, error) {
	if !c.Verify(r.Signature, r.Timestamp, r.Nonce, r.Encrypt) {
		return nil, ErrBadSignature
	}
	msg, _, err := c.Decrypt(r.Encrypt)
	return msg, err
}

// CallbackReply is the JSON answer to a push.
type CallbackReply struct {
	MsgSignature string `json:"msg_signature"`
	TimeStamp    string `json:"timeStamp"`
	Nonce        string `json:"nonce"`
	Encrypt      string `json:"encrypt"`
}

// Seal encrypts msg into a reply signed with the given timestamp and nonce.
func (c *Crypto) Seal(msg []byte, timestamp, nonce string) (CallbackReply, error) {
	enc, err := c.Encrypt(msg)
	if err != nil {
		return CallbackReply{}, err
	}
	return CallbackReply{MsgSignature: c.Signature(timestamp, nonce, enc), TimeStamp: timestamp, Nonce: nonce, Encrypt: enc}, nil
}

// SuccessReply is the answer that acknowledges a push: "success", sealed
// for owner, the owner key the push was sealed for (Decrypt returns it;
// "" means the first accepted key).
func (c *Crypto) SuccessReply(now time.Time, owner string) (CallbackReply, error) {
	if owner == "" {
		owner = c.owners[0]
	}
	enc, err := c.encrypt([]byte("success"), owner, 32)
	if err != nil {
		return CallbackReply{}, err
	}
	ts, nonce := strconv.FormatInt(now.UnixMilli(), 10), randomNonce()
	return CallbackReply{MsgSignature: c.Signature(ts, nonce, enc), TimeStamp: ts, Nonce: nonce, Encrypt: enc}, nil
}

func randomNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Event types of the address-book subscription.
const (
	EventCheckURL       = "check_url"
	EventUserAdd        = "user_add_org"
	EventUserModify     = "user_modify_org"
	EventUserLeave      = "user_leave_org"
	EventUserActive     = "user_active_org"
	EventUserDeptChange = "user_dept_change"
	EventUserRoleChange = "user_role_change"
	EventDeptCreate     = "org_dept_create"
	EventDeptModify     = "org_dept_modify"
	EventDeptRemove     = "org_dept_remove"
	EventAdminAdd       = "org_admin_add"
	EventAdminRemove    = "org_admin_remove"
)

// Event is a decrypted push. It carries ids only: fetch the details with
// GetUser and GetDepartment (after user_leave_org just deactivate).
type Event struct {
	Type      string
	EventID   string
	CorpID    string
	BizID     string
	TimeStamp int64 // ms
	UserIDs   []string
	DeptIDs   []int64
	Raw       json.RawMessage
}

// ParseEvent decodes a decrypted payload. Field names are matched without
// regard to case (old docs spell TimeStamp, UserId, DeptId).
func ParseEvent(b []byte) (Event, error) {
	var w struct {
		EventType string   `json:"EventType"`
		EventID   string   `json:"eventId"`
		CorpID    string   `json:"CorpId"`
		BizID     string   `json:"BizId"`
		TimeStamp flexInt  `json:"timeStamp"`
		UserID    flexList `json:"userId"`
		DeptID    flexList `json:"deptId"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, fmt.Errorf("%w: event: %v", ErrBadPayload, err)
	}
	if w.EventType == "" {
		return Event{}, fmt.Errorf("%w: event without EventType", ErrBadPayload)
	}
	e := Event{Type: w.EventType, EventID: w.EventID, CorpID: w.CorpID, BizID: w.BizID,
		TimeStamp: int64(w.TimeStamp), UserIDs: []string(w.UserID), Raw: append(json.RawMessage(nil), b...)}
	for _, s := range w.DeptID {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Event{}, fmt.Errorf("%w: dept id %q", ErrBadPayload, s)
		}
		e.DeptIDs = append(e.DeptIDs, id)
	}
	return e, nil
}

// flexList decodes a list (or a single value) of strings or numbers.
type flexList []string

func (f *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = nil
		return nil
	}
	if b[0] != '[' {
		var one flexString
		if err := one.UnmarshalJSON(b); err != nil {
			return err
		}
		*f = flexList{string(one)}
		return nil
	}
	var items []flexString
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(flexList, len(items))
	for i, s := range items {
		out[i] = string(s)
	}
	*f = out
	return nil
}
