package mail

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func testSigner(t testing.TB, fill byte) *Signer {
	t.Helper()
	s, err := NewSigner([]byte(strings.Repeat(string(rune(fill)), 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testClaims() Claims {
	return Claims{
		Key:     identity.Key{Account: "123456789012", Region: "us-east-1", Name: "User+tag@example.com"},
		Nonce:   NewNonce(),
		Expires: t0.Add(24 * time.Hour),
	}
}

func TestTokenRoundTrip(t *testing.T) {
	s := testSigner(t, 'k')
	c := testClaims()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "+/=%&?") {
		t.Errorf("token %q is not URL-safe", tok)
	}
	got, err := s.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("Parse(Sign(c)) (-want +got):\n%s", d)
	}
	c2 := c
	c2.Nonce = NewNonce()
	if tok2, _ := s.Sign(c2); tok2 == tok {
		t.Error("two nonces, one token")
	}
}

func TestTokenRejected(t *testing.T) {
	s := testSigner(t, 'k')
	tok, _ := s.Sign(testClaims())
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{name: "empty", tok: "", want: ErrMalformed},
		{name: "not base64url", tok: tok[:20] + "*" + tok[21:], want: ErrMalformed},
		{name: "cut short by a mail program", tok: tok[:40], want: ErrMalformed},
		{name: "too long", tok: strings.Repeat("A", 2000), want: ErrMalformed},
		{name: "nonce changed", tok: flip(3), want: ErrSignature},
		{name: "expiry pushed back", tok: flip(1 + nonceLen + 6), want: ErrSignature},
		{name: "another identity", tok: flip(len(raw) - macLen - 2), want: ErrSignature},
		{name: "signature changed", tok: flip(len(raw) - 1), want: ErrSignature},
		{name: "trailing byte", tok: base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), raw...), 0)), want: ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Parse(tt.tok); !errors.Is(err, tt.want) {
				t.Errorf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := testSigner(t, 'x').Parse(tok); !errors.Is(err, ErrSignature) {
		t.Errorf("a token of another key: %v, want ErrSignature", err)
	}
}

func TestLoadSigner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", KeyFile)
	a, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, fi.Mode())
	}
	b, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.Sign(testClaims())
	if _, err := b.Parse(tok); err != nil {
		t.Errorf("the key changed between two loads: %v", err)
	}
	os.WriteFile(path, []byte("not hex\n"), 0o600)
	if _, err := LoadSigner(path); err == nil || !strings.Contains(err.Error(), "64 hexadecimal") {
		t.Errorf("a bad key file: %v", err)
	}
}
