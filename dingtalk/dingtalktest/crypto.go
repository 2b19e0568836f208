package dingtalktest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
)

// The fake seals events with its own code, written from dingtalk-api.md §7
// and not shared with package dingtalk, so the client's decryption is
// checked against an independent implementation.

// eventCrypto is one subscription's keys.
type eventCrypto struct {
	token string
	key   []byte
	owner string
}

func newEventCrypto(token, aesKey, owner string) (*eventCrypto, error) {
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("dingtalktest: aes key must be 43 base64 characters")
	}
	return &eventCrypto{token: token, key: key, owner: owner}, nil
}

func (c *eventCrypto) sign(ts, nonce, enc string) string {
	p := []string{c.token, ts, nonce, enc}
	sort.Strings(p)
	h := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(h[:])
}

// seal is AES-256-CBC(iv = key[:16]) of random(16) ‖ len ‖ msg ‖ owner,
// PKCS#7-padded to blockSize (32 like the Java library, 16 like the Go sample).
func (c *eventCrypto) seal(msg []byte, blockSize int) (string, error) {
	plain := make([]byte, 16, 16+4+len(msg)+len(c.owner)+32)
	if _, err := rand.Read(plain); err != nil {
		return "", err
	}
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, c.owner...)
	pad := blockSize - len(plain)%blockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return "", err
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, c.key[:16]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out), nil
}

// open reverses seal and checks the owner.
func (c *eventCrypto) open(enc string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, errors.New("bad ciphertext")
	}
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 || pad > len(plain)-20 {
		return nil, errors.New("bad padding")
	}
	plain = plain[:len(plain)-pad]
	n := int(binary.BigEndian.Uint32(plain[16:20]))
	if 20+n > len(plain) {
		return nil, errors.New("bad length")
	}
	if string(plain[20+n:]) != c.owner {
		return nil, errors.New("reply sealed for another owner")
	}
	return plain[20 : 20+n], nil
}
