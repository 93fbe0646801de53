package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

// FuzzParseToken feeds the link-token parser what a browser may send: any
// string in ?token=. Parse must not panic, must reject what it did not
// sign, and the structure it decodes must encode back to the same bytes.
func FuzzParseToken(f *testing.F) {
	s := testSigner(f, 'k')
	fixed := testClaims()
	fixed.Nonce = "AAECAwQFBgcICQoLDA0ODw" // the same in every fuzzing process
	good, _ := s.Sign(fixed)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("")
	f.Add("AQ")
	other, _ := testSigner(f, 'o').Sign(testClaims())
	f.Add(other)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Parse(tok)
		if err == nil {
			// Only tokens this key signed parse; the fuzzer cannot forge
			// one, so it must be the seed itself.
			if tok != good {
				t.Fatalf("Parse accepted %q: %+v", tok, c)
			}
			return
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) {
			t.Fatalf("Parse(%q) = %v: want ErrMalformed or ErrSignature", tok, err)
		}
		payload, _, err := decode(tok)
		if err != nil {
			return
		}
		c, err = parsePayload(payload)
		if err != nil {
			return
		}
		// What parses re-encodes to the same payload under any key.
		again, err := s.Sign(c)
		if err != nil {
			t.Fatalf("Sign of parsed claims %+v: %v", c, err)
		}
		b, _ := base64.RawURLEncoding.DecodeString(again)
		if !bytes.Equal(b[:len(b)-macLen], payload) {
			t.Fatalf("payload %x re-encodes as %x", payload, b[:len(b)-macLen])
		}
	})
}

// FuzzCheckContent feeds the template checker any content, as
// CreateCustomVerificationEmailTemplate may carry: it must not panic, its
// refusals must be ErrContent (the API's CustomVerificationEmailInvalidContent),
// and text without markup must pass.
func FuzzCheckContent(f *testing.F) {
	f.Add(`<html><body><h1>Welcome</h1><p style="color:red">One last step.</p></body></html>`)
	f.Add(`<a href="https://evil.example">x</a>`)
	f.Add(`<!-- hidden --><p>x</p>`)
	f.Add(`<img src=x onerror=alert(1)>`)
	f.Add(`<p`)
	f.Add("plain text & more")
	f.Fuzz(func(t *testing.T, content string) {
		err := CheckContent(content)
		if err != nil && !errors.Is(err, ErrContent) {
			t.Fatalf("CheckContent(%q) = %v: want nil or ErrContent", content, err)
		}
		if err != nil && !bytes.ContainsAny([]byte(content), "<&") {
			t.Fatalf("CheckContent(%q) refused text without markup: %v", content, err)
		}
	})
}
