package identity

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// NewVerificationToken returns a domain verification token in SES's format:
// 32 random bytes in standard base64, 44 characters ending in '='.
func NewVerificationToken() string {
	return base64.StdEncoding.EncodeToString(randomBytes(32))
}

// NewDKIMTokens returns three Easy DKIM tokens in SES's format: 32
// characters of lower-case base32 (a-z, 2-7), 160 random bits each.
func NewDKIMTokens() []string {
	t := make([]string, 3)
	for i := range t {
		t[i] = strings.ToLower(base32.StdEncoding.EncodeToString(randomBytes(20)))
	}
	return t
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never returns an error (Go 1.24+): it crashes the program instead
	return b
}
