package mail

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyfile"
)

// KeyFile is the default name of the link signing key, beside the database.
const KeyFile = "link.key"

var (
	// ErrMalformed: the token is not one Sesame made, or was cut short (a
	// mail program wrapped the link).
	ErrMalformed = errors.New("malformed link token")
	// ErrSignature: the token was altered, or made with another key.
	ErrSignature = errors.New("link token signature does not match")
)

// Claims are what a link token says: which identity, which link (the
// nonce, recorded in the store so a link works once) and until when. Like
// SES's own links, which carry the account and the address in the clear,
// a token reveals the identity it verifies, and nothing else.
type Claims struct {
	Key     identity.Key
	Nonce   string // 16 random bytes, base64url
	Expires time.Time
}

// Signer makes and checks link tokens with HMAC-SHA256.
type Signer struct {
	key []byte
}

// NewSigner uses a key of at least 32 bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("link signing key: %d bytes, want at least 32", len(key))
	}
	return &Signer{key: key}, nil
}

// LoadSigner reads the key in path, creating the file (mode 0600) with a
// new random key when it does not exist, as the account sealing key is.
func LoadSigner(path string) (*Signer, error) {
	key, err := keyfile.Load(path, "link signing key")
	if err != nil {
		return nil, err
	}
	return NewSigner(key)
}

// NewNonce returns a fresh link nonce.
func NewNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// A token is base64url (no padding) of
//
//	version (1) | nonce (16) | expiry, unix seconds (8, big endian) |
//	account, region, name (each a uvarint length and the bytes) | HMAC (32)
//
// where the HMAC covers everything before it.
const (
	tokenVersion = 1
	nonceLen     = 16
	macLen       = sha256.Size
	// maxToken bounds what Parse reads: a 254-byte address and an
	// account and region are far below it.
	maxToken = 1024
)

// Sign returns the token of c.
func (s *Signer) Sign(c Claims) (string, error) {
	nonce, err := base64.RawURLEncoding.DecodeString(c.Nonce)
	if err != nil || len(nonce) != nonceLen {
		return "", fmt.Errorf("%w: nonce %q is not %d bytes of base64url", ErrMalformed, c.Nonce, nonceLen)
	}
	b := []byte{tokenVersion}
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expires.Unix()))
	for _, f := range []string{c.Key.Account, c.Key.Region, c.Key.Name} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Signer) mac(b []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(b)
	return h.Sum(nil)
}

// Parse checks a token's signature and returns its claims. Whether it has
// expired, or was used, is for the caller to decide, since the page differs.
func (s *Signer) Parse(tok string) (Claims, error) {
	payload, mac, err := decode(tok)
	if err != nil {
		return Claims{}, err
	}
	if !hmac.Equal(mac, s.mac(payload)) {
		return Claims{}, ErrSignature
	}
	return parsePayload(payload)
}

// decode splits a token into its payload and MAC without checking either.
func decode(tok string) (payload, mac []byte, err error) {
	if len(tok) > maxToken {
		return nil, nil, fmt.Errorf("%w: %d characters, more than %d", ErrMalformed, len(tok), maxToken)
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	if len(b) < 1+nonceLen+8+3+macLen {
		return nil, nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(b))
	}
	n := len(b) - macLen
	return b[:n], b[n:], nil
}

func parsePayload(b []byte) (Claims, error) {
	if b[0] != tokenVersion {
		return Claims{}, fmt.Errorf("%w: version %d", ErrMalformed, b[0])
	}
	c := Claims{Nonce: base64.RawURLEncoding.EncodeToString(b[1 : 1+nonceLen])}
	exp := binary.BigEndian.Uint64(b[1+nonceLen:])
	if exp > 1<<40 { // far past any real expiry: keeps time.Unix sane
		return Claims{}, fmt.Errorf("%w: expiry out of range", ErrMalformed)
	}
	c.Expires = time.Unix(int64(exp), 0).UTC()
	rest := b[1+nonceLen+8:]
	fields := [3]*string{&c.Key.Account, &c.Key.Region, &c.Key.Name}
	for _, f := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return Claims{}, fmt.Errorf("%w: bad field length", ErrMalformed)
		}
		*f = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	if len(rest) != 0 {
		return Claims{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest))
	}
	return c, nil
}
