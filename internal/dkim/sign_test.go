package dkim

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	msgdkim "github.com/emersion/go-msgauth/dkim"
)

// TestSignVerifies: a message Sign signed verifies against the key's
// Record (go-msgauth's verifier), and fails against another key's.
func TestSignVerifies(t *testing.T) {
	k, err := Generate(RSA1024)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Generate(RSA1024)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: app@example.com\r\nTo: to@example.org\r\nSubject: hi\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\n\r\nhello\r\n")
	signed, err := Sign(msg, "example.com", "tok1", k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(signed, msg) || !bytes.HasPrefix(signed, []byte("DKIM-Signature: ")) {
		t.Fatalf("signed message:\n%s", signed)
	}
	for _, tc := range []struct {
		record string
		ok     bool
	}{{Record(&k.PublicKey), true}, {Record(&other.PublicKey), false}} {
		lookup := func(name string) ([]string, error) {
			if name != "tok1._domainkey.example.com" {
				return nil, errors.New("unexpected name " + name)
			}
			return []string{tc.record}, nil
		}
		vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(signed), &msgdkim.VerifyOptions{LookupTXT: lookup})
		if err != nil || len(vs) != 1 {
			t.Fatalf("verify: %v %v", vs, err)
		}
		if ok := vs[0].Err == nil; ok != tc.ok {
			t.Errorf("record %s...: verified %v (%v), want %v", tc.record[:30], ok, vs[0].Err, tc.ok)
		}
		if vs[0].Domain != "example.com" {
			t.Errorf("d= %q", vs[0].Domain)
		}
	}
	if !strings.Contains(string(signed), "c=relaxed/relaxed") {
		t.Error("not relaxed/relaxed")
	}
}

// BenchmarkSign: one DKIM signature of a 10 KB message with a 2048-bit
// key, what sending adds per message for a signing domain.
func BenchmarkSign(b *testing.B) {
	k, err := Generate(RSA2048)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("From: app@example.com\r\nTo: to@example.org\r\nSubject: hi\r\nDate: Thu, 03 Dec 2026 12:00:00 +0000\r\n\r\n" +
		strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n", 136))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Sign(msg, "example.com", "tok1", k); err != nil {
			b.Fatal(err)
		}
	}
}
