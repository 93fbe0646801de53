package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/pgtest"
)

// BenchmarkGetIdentityVerificationAttributes measures one signed v1 call
// through the whole handler (signature, store, XML), without the network.
// cpu-µs/op is the CPU time of a call: this process's, and on PostgreSQL
// the database server's too.
func BenchmarkGetIdentityVerificationAttributes(b *testing.B) {
	benchGetAttributes(b, Options{Data: b.TempDir()}, nil)
}

// BenchmarkGetIdentityVerificationAttributesPostgres is the same call on
// PostgreSQL (pgtest, on this machine), with the identity cache kept right
// through LISTEN/NOTIFY, as sesame serve --database-url runs it.
func BenchmarkGetIdentityVerificationAttributesPostgres(b *testing.B) {
	pg := pgtest.Start(b)
	benchGetAttributes(b, Options{Data: b.TempDir(), DatabaseURL: pg.NewDatabase(b)}, pg)
}

// BenchmarkGetIdentityVerificationAttributesPostgresUncached measures
// the same without the cache: every call reads the database.
func BenchmarkGetIdentityVerificationAttributesPostgresUncached(b *testing.B) {
	postgresCacheSize = 0
	defer func() { postgresCacheSize = CacheSize }()
	pg := pgtest.Start(b)
	benchGetAttributes(b, Options{Data: b.TempDir(), DatabaseURL: pg.NewDatabase(b)}, pg)
}

func benchGetAttributes(b *testing.B, opts Options, pg *pgtest.Server) {
	ctx := context.Background()
	opts.DNS, opts.Policies = config.SES(), identity.SESPolicies()
	os.Chmod(opts.Data, 0o700)
	s, err := Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := s.Accounts.Create(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	const n = 10000
	now := time.Now().UTC()
	ids := make([]*identity.Identity, n)
	for i := range ids {
		id := &identity.Identity{Key: identity.Key{Account: c.AccountId, Region: "us-east-1", Name: fmt.Sprintf("d%05d.example.com", i)},
			Kind: names.KindDomain, Created: now, Token: identity.NewVerificationToken(),
			DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens()}}
		id.Verification.Start(now)
		ids[i] = id
	}
	if err := s.Store.Import(ctx, ids); err != nil {
		b.Fatal(err)
	}
	type req struct {
		body string
		h    http.Header
	}
	reqs := make([]req, 512)
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: string(c.SecretAccessKey)}
	for i := range reqs {
		body := url.Values{"Action": {"GetIdentityVerificationAttributes"}, "Version": {"2010-12-01"},
			"Identities.member.1": {fmt.Sprintf("d%05d.example.com", i*19%n)}}.Encode()
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(body))
		signer.SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), "ses", "us-east-1", now)
		reqs[i] = req{body, r.Header}
	}
	b.ReportAllocs()
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var db0 time.Duration
	if pg != nil {
		db0 = pg.CPU()
	}
	b.ResetTimer()
	defer func() {
		b.StopTimer()
		var ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		if pg != nil {
			cpu += pg.CPU() - db0
		}
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			q := reqs[i%len(reqs)]
			i++
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(q.body))
			r.Header = q.h
			w := httptest.NewRecorder()
			s.Handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
