// Package dkim holds the keys behind Easy DKIM tokens and BYODKIM
// selectors: RSA key pairs made when an identity's tokens are, the TXT
// record each publishes ("v=DKIM1; k=rsa; p=..." at <token>.<DKIM domain>),
// the checks a bring-your-own key must pass, and the signing of messages
// (github.com/emersion/go-msgauth/dkim). It does no I/O: keys are sealed
// and stored by the caller.
package dkim

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/sesame/sesame/internal/records"
)

// Key lengths, as SES names them (DkimSigningAttributes'
// NextSigningKeyLength, DkimAttributes' CurrentSigningKeyLength).
const (
	RSA1024 = "RSA_1024_BIT"
	RSA2048 = "RSA_2048_BIT"
)

// DefaultLength is SES's default for new Easy DKIM keys.
const DefaultLength = RSA2048

// Bits returns the modulus size of a key length name.
func Bits(length string) (int, error) {
	switch length {
	case RSA1024:
		return 1024, nil
	case RSA2048, "":
		return 2048, nil
	}
	return 0, fmt.Errorf("key length %q: want %s or %s", length, RSA1024, RSA2048)
}

// LengthOf names the length of k.
func LengthOf(k *rsa.PrivateKey) string {
	if k.N.BitLen() <= 1024 {
		return RSA1024
	}
	return RSA2048
}

// Generate makes a key pair of the named length.
func Generate(length string) (*rsa.PrivateKey, error) {
	bits, err := Bits(length)
	if err != nil {
		return nil, err
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// Marshal returns the private key in PKCS#8 DER, the form it is sealed in.
func Marshal(k *rsa.PrivateKey) ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) }

// Unmarshal reads what Marshal wrote.
func Unmarshal(der []byte) (*rsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// Record is the TXT value that publishes pub (RFC 6376 §3.6.1): the
// SubjectPublicKeyInfo in base64, as SES's own records carry it.
func Record(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // cannot fail for an RSA key
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}

// ErrKey is a key record or a private key that cannot be used.
var ErrKey = errors.New("unusable DKIM key")

// ErrRevoked is a key record with an empty p=, the way a key is revoked.
var ErrRevoked = fmt.Errorf("%w: the key is revoked (empty p=)", ErrKey)

// PublicKey reads the key of a DKIM key record: its p= tag, in base64 of
// a SubjectPublicKeyInfo or of a PKCS#1 RSAPublicKey (both occur). Tags
// are separated by semicolons with any whitespace (RFC 6376 §3.2).
func PublicKey(record string) (*rsa.PublicKey, error) {
	var p string
	found := false
	for _, tag := range strings.Split(record, ";") {
		name, value, ok := strings.Cut(tag, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(name) {
		case "p":
			p, found = strings.Join(strings.Fields(value), ""), true
		case "k":
			if k := strings.TrimSpace(value); k != "rsa" {
				return nil, fmt.Errorf("%w: key type %q, not rsa", ErrKey, k)
			}
		}
	}
	switch {
	case !found:
		return nil, fmt.Errorf("%w: no p= tag", ErrKey)
	case p == "":
		return nil, ErrRevoked
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("%w: p= is not base64: %v", ErrKey, err)
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("%w: not an RSA key", ErrKey)
	}
	if rk, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return rk, nil
	}
	return nil, fmt.Errorf("%w: p= holds no public key", ErrKey)
}

// ParsePrivate reads a BYODKIM private key as SES takes it
// (DomainSigningPrivateKey): base64 of a PKCS#1 or PKCS#8 RSA key of 1024
// to 2048 bits, without PEM header lines. A PEM block is accepted too.
func ParsePrivate(s string) (*rsa.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		lines := strings.Split(s, "\n")
		var body []string
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "-----") {
				body = append(body, l)
			}
		}
		s = strings.Join(body, "")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: the private key is not base64: %v", ErrKey, err)
	}
	var k *rsa.PrivateKey
	if pk, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		k = pk
	} else if any, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := any.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: not an RSA key", ErrKey)
		}
		k = rk
	} else {
		return nil, fmt.Errorf("%w: not a PKCS#1 or PKCS#8 RSA private key", ErrKey)
	}
	if bits := k.N.BitLen(); bits < 1024 || bits > 2048 {
		return nil, fmt.Errorf("%w: %d bits; SES takes 1024 to 2048", ErrKey, bits)
	}
	return k, nil
}

// Matches reports whether record publishes the public half of k.
func Matches(record string, k *rsa.PrivateKey) bool {
	pub, err := PublicKey(record)
	return err == nil && pub.Equal(&k.PublicKey)
}

// MatchRecord judges the TXT values served where a DKIM CNAME leads
// (<token>.<DKIM domain>) or at a BYODKIM selector's name: what a receiver
// verifying a signature finds. SES marks Easy DKIM verified from the
// customer's CNAMEs alone, so a target without a usable key is a failure
// only receivers see: every signature made with that token fails. want,
// when not nil, is the public key the signer holds (Sesame knows its own;
// for SES it is unknown): any other key is records.FaultKeyMismatch.
func MatchRecord(values []string, want *rsa.PublicKey) records.Verdict {
	var v records.Verdict
	for _, val := range values {
		if !isKeyRecord(val) {
			continue
		}
		pub, err := PublicKey(val)
		switch {
		case err == nil && (want == nil || pub.Equal(want)):
			return records.Verdict{Kind: records.Found, Value: val}
		case err == nil:
			v = records.Verdict{Kind: records.Wrong, Value: val, Problems: []records.Problem{{Fault: records.FaultKeyMismatch}}}
		case v.Kind != records.Wrong || v.Fault() != records.FaultKeyMismatch:
			f := records.FaultKeyMalformed
			if errors.Is(err, ErrRevoked) {
				f = records.FaultKeyRevoked
			}
			v = records.Verdict{Kind: records.Wrong, Value: val, Problems: []records.Problem{{Fault: f, Detail: strings.TrimPrefix(err.Error(), ErrKey.Error()+": ")}}}
		}
	}
	return v // Absent when no value is a key record
}

// MatchSelector judges the TXT values at a BYODKIM selector's name
// against record, the key record the identity's private key publishes
// (records.Expect.DKIMKey): Found when one holds the same public key,
// Wrong (FaultKeyMismatch, FaultKeyMalformed, FaultKeyRevoked) when the
// key there is another or unusable, Absent when none is a key record.
func MatchSelector(values []string, record string) records.Verdict {
	want, err := PublicKey(record)
	if err != nil { // never for a record Sesame made; refuse to match anything
		return records.Verdict{Kind: records.Wrong, Problems: []records.Problem{{Fault: records.FaultKeyMalformed, Detail: "the stored key: " + err.Error()}}}
	}
	return MatchRecord(values, want)
}

// isKeyRecord tells a DKIM key record from other TXT values at the name:
// one that starts with v=DKIM1 (RFC 6376 §3.6.1: when present it must come
// first), or has a p= tag.
func isKeyRecord(val string) bool {
	first, _, _ := strings.Cut(val, ";")
	if k, v, ok := strings.Cut(first, "="); ok && strings.TrimSpace(k) == "v" {
		return strings.TrimSpace(v) == "DKIM1"
	}
	for _, tag := range strings.Split(val, ";") {
		if k, _, ok := strings.Cut(tag, "="); ok && strings.TrimSpace(k) == "p" {
			return true
		}
	}
	return false
}

// signing bounds the signatures under way to the cores: an RSA signature
// is CPU alone, so more at once only interleave them (each caller waits
// longer for its own), and the goroutines that wait on the network (the
// queue's deliveries, a few round trips each) wait behind all of them for
// a core. Callers beyond it wait here, off the scheduler's run queues
// (docs/benchmarks.md: on two cores, 56% of the signing rate by the clock
// rather than 51%, in five of five alternating pairs). Only the signature:
// what a caller reads to choose its key does not hold a place.
var signing = make(chan struct{}, runtime.GOMAXPROCS(0))

// Sign returns msg with a DKIM-Signature of domain (d=) under selector
// (s=) made with k: relaxed/relaxed canonicalisation, SHA-256, and the
// headers go-msgauth signs by default (From, Subject, To, Date, ...), as
// SES signs.
func Sign(msg []byte, domain, selector string, k *rsa.PrivateKey) ([]byte, error) {
	signing <- struct{}{}
	defer func() { <-signing }()
	var b bytes.Buffer
	err := msgdkim.Sign(&b, bytes.NewReader(msg), &msgdkim.SignOptions{
		Domain:                 domain,
		Selector:               selector,
		Signer:                 k,
		HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
		BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
	})
	if err != nil {
		return nil, fmt.Errorf("dkim signature for %s: %w", domain, err)
	}
	return b.Bytes(), nil
}
