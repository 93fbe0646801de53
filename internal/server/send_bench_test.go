package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/smtptest"
	"github.com/sesame/sesame/internal/store"
)

// BenchmarkSendRawEmail measures one signed v1 SendRawEmail of a 10 KB
// message through the whole handler (signature, gate, build, an RSA-2048
// DKIM signature, the outbox write), without the network, while the queue
// relays the accepted messages to a loopback SMTP server on the same
// cores. bench/sendload (make bench-send) measures the same with its
// ceilings and the latency at a fixed rate.
func BenchmarkSendRawEmail(b *testing.B) {
	ctx := context.Background()
	relay := smtptest.New(b, smtptest.Options{CountOnly: true})
	data := b.TempDir()
	os.Chmod(data, 0o700)
	s, err := Open(ctx, Options{Data: data, DNS: config.SES(), Policies: identity.SESPolicies(), SMTPURL: relay.URL,
		Mail: mail.Settings{CAFile: relay.CAFile}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	// The cost of a real signature; which key signs is the dkim
	// package's business, not this benchmark's.
	s.Sender.Signer = send.SignerFunc(func(_ context.Context, _ registry.Scope, _ string, m []byte) ([]byte, error) {
		return dkim.Sign(m, "example.com", "bench", key)
	})
	c, err := s.Accounts.Create(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	k := identity.Key{Account: c.AccountId, Region: "us-east-1", Name: "example.com"}
	now := time.Now().UTC()
	id := &identity.Identity{Key: k, Kind: 1, Created: now, Token: identity.NewVerificationToken()}
	id.Verification.Start(now)
	id.Verification.Status = identity.Success
	if _, err := s.Identities.UpdateIdentity(ctx, k, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Store.UpdateSendingState(ctx, c.AccountId, "us-east-1", func(st *store.SendingState) error {
		st.Production, st.MaxSendRate, st.Max24HourSend = true, -1, -1
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	msg := "From: app@example.com\r\nTo: to@example.org\r\nSubject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 128)
	body := url.Values{"Action": {"SendRawEmail"}, "Version": {"2010-12-01"},
		"RawMessage.Data": {base64.StdEncoding.EncodeToString([]byte(msg))}}.Encode()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}
	if err := v4.NewSigner().SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), "ses", "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	h := r.Header
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(relay.Accepted())/b.Elapsed().Seconds(), "relayed/s") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
			r.Header = h
			w := httptest.NewRecorder()
			s.Handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkDKIMSign is the ceiling of BenchmarkSendRawEmail: an RSA-2048
// DKIM signature of the same 10 KB message, on every core.
func BenchmarkDKIMSign(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("From: app@example.com\r\nTo: to@example.org\r\nSubject: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 76)+"\r\n", 128))
	b.SetBytes(int64(len(msg)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := dkim.Sign(msg, "example.com", "bench", key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
}
