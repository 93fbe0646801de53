package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/smtpserver"
	"github.com/sesame/sesame/internal/store"
)

// serveEnv names the data directory of the child process that runs
// Sesame (serve); the parent re-executes itself with it set.
const (
	serveEnv = "SMTPLOAD_SERVE_DATA"
	signEnv  = "SMTPLOAD_SIGN"
	relayEnv = "SMTPLOAD_RELAY"
	// profileEnv names a file for the child's CPU profile (-cpuprofile).
	profileEnv = "SMTPLOAD_CPUPROFILE"
	benchFrom  = "example.com"
)

// serve is the child process: Sesame as `sesame serve` assembles it
// (server.Open, the SMTP interface of us-east-1 on a STARTTLS listener,
// the GC tuning), with one account out of the sandbox, its domain
// example.com verified, and, with signEnv set, every accepted message
// DKIM-signed with an RSA-2048 key. It prints "ADDR KEYID PASSWORD" and
// serves until its standard input closes.
func serve(dir string) {
	ctx := context.Background()
	server.TuneGC()
	if f := os.Getenv(profileEnv); f != "" {
		out, err := os.Create(f)
		check(err)
		check(pprof.StartCPUProfile(out))
		defer pprof.StopCPUProfile()
	}
	s, err := server.Open(ctx, server.Options{Data: dir, DNS: config.SES(), Policies: identity.SESPolicies(),
		SMTPURL: os.Getenv(relayEnv), Log: slog.New(slog.DiscardHandler)})
	check(err)
	c, err := s.Accounts.Create(ctx, "bench")
	check(err)
	now := time.Now().UTC()
	k := identity.Key{Account: c.AccountId, Region: "us-east-1", Name: benchFrom}
	id := &identity.Identity{Key: k, Kind: names.KindDomain, Created: now, Token: identity.NewVerificationToken()}
	id.Verification.Start(now)
	id.Verification.Status = identity.Success
	_, err = s.Identities.UpdateIdentity(ctx, k, func(*identity.Identity) (*identity.Identity, error) { return id, nil })
	check(err)
	_, err = s.Store.UpdateSendingState(ctx, c.AccountId, "us-east-1", func(st *store.SendingState) error {
		st.Production, st.MaxSendRate, st.Max24HourSend = true, -1, -1
		return nil
	})
	check(err)
	var key *rsa.PrivateKey
	if os.Getenv(signEnv) != "" {
		key, err = dkim.Generate(dkim.RSA2048)
		check(err)
		s.Sender.Signer = benchSigner(key)
	}
	cert, _, err := smtpserver.LoadCertificate("", "", dir, now)
	check(err)
	srv, err := s.SMTP(server.SMTPOptions{Region: "us-east-1", Certificate: cert, Hostname: "sesame.bench",
		Limits: smtpserver.Limits{ConnsPerClient: 1000, Conns: 1000}})
	check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go srv.Serve(ln, false)
	fmt.Printf("%s %s %s\n", ln.Addr(), c.AccessKeyId, sigv4.SMTPPassword(string(c.SecretAccessKey), "us-east-1"))
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	audit(ctx, s.Store, c.AccountId, key)
	s.Close()
}

// audit prints, for the parent to show, how many messages the outbox
// holds and how many carry a DKIM signature by key that verifies: the
// proof that what was measured was stored and signed.
func audit(ctx context.Context, st store.Store, acct string, key *rsa.PrivateKey) {
	ms, err := st.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Account: acct, Limit: 1 << 30})
	check(err)
	verified := 0
	status := map[store.MessageStatus]int{}
	for _, m := range ms {
		status[m.Status]++
		if key == nil {
			continue
		}
		vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(m.Raw), &msgdkim.VerifyOptions{
			LookupTXT: func(string) ([]string, error) { return []string{dkim.Record(&key.PublicKey)}, nil },
		})
		if err == nil && len(vs) == 1 && vs[0].Err == nil && vs[0].Domain == benchFrom {
			verified++
		}
	}
	fmt.Printf("stored %d (by status: %v), signed %d\n", len(ms), status, verified)
}

// benchSigner signs every message with key for the source's domain, the
// way SES signs with an identity's Easy DKIM key: relaxed/relaxed,
// rsa-sha256, go-msgauth's default header list. It stands in for the
// per-identity keys (internal/dkim's keyring, not in this tree yet) so
// that the cost measured is the one a signing Sesame pays.
func benchSigner(key *rsa.PrivateKey) send.Signer {
	return send.SignerFunc(func(_ context.Context, _ registry.Scope, source string, msg []byte) ([]byte, error) {
		var b bytes.Buffer
		b.Grow(len(msg) + 1024)
		err := msgdkim.Sign(&b, bytes.NewReader(msg), &msgdkim.SignOptions{
			Domain: names.DomainOf(source), Selector: "bench", Signer: key,
			HeaderCanonicalization: msgdkim.CanonicalizationRelaxed,
			BodyCanonicalization:   msgdkim.CanonicalizationRelaxed,
		})
		return b.Bytes(), err
	})
}
