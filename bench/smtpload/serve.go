package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
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
// (server.Open with a DKIM domain of its own, so the keyring signs sent
// mail; the SMTP interface of us-east-1 on a STARTTLS listener; the GC
// tuning), with one account out of the sandbox and its domain
// example.com verified, its Easy DKIM keys made (RSA-2048, SES's default)
// and its DKIM verified, signing enabled when signEnv is set. It prints
// "ADDR KEYID PASSWORD" and serves until its standard input closes.
func serve(dir string) {
	ctx := context.Background()
	server.TuneGC()
	if f := os.Getenv(profileEnv); f != "" {
		out, err := os.Create(f)
		check(err)
		check(pprof.StartCPUProfile(out))
		defer pprof.StopCPUProfile()
	}
	dns := config.SES()
	dns.DKIMDomain = "dkim.sesame.bench"
	s, err := server.Open(ctx, server.Options{Data: dir, DNS: dns, Policies: identity.SESPolicies(),
		SMTPURL: os.Getenv(relayEnv), Log: slog.New(slog.DiscardHandler)})
	check(err)
	if s.Keyring == nil || s.Sender.Signer == nil {
		log.Fatal("the server has no DKIM keyring: mail would go unsigned")
	}
	c, err := s.Accounts.Create(ctx, "bench")
	check(err)
	now := time.Now().UTC()
	k := identity.Key{Account: c.AccountId, Region: "us-east-1", Name: benchFrom}
	id := &identity.Identity{Key: k, Kind: names.KindDomain, Created: now, Token: identity.NewVerificationToken(),
		DKIM: identity.DKIM{Enabled: os.Getenv(signEnv) != "", Tokens: identity.NewDKIMTokens(), Origin: "AWS_SES", KeyLength: dkim.RSA2048}}
	id.Verification.Start(now)
	id.Verification.Status = identity.Success
	id.DKIM.Check.Start(now)
	id.DKIM.Check.Status = identity.Success
	_, err = s.Identities.UpdateIdentity(ctx, k, func(*identity.Identity) (*identity.Identity, error) { return id, nil })
	check(err)
	check(s.Keyring.EnsureKeys(ctx, id))
	_, err = s.Store.UpdateSendingState(ctx, c.AccountId, "us-east-1", func(st *store.SendingState) error {
		st.Production, st.MaxSendRate, st.Max24HourSend = true, -1, -1
		return nil
	})
	check(err)
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
	audit(ctx, s, c.AccountId)
	s.Close()
}

// audit prints, for the parent to show, how many messages the outbox
// holds and how many carry a DKIM signature of example.com that verifies
// with the key the keyring publishes for its selector: the proof that
// what was measured was stored and signed.
func audit(ctx context.Context, s *server.Server, acct string) {
	ms, err := s.Store.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Account: acct, Limit: 1 << 30})
	check(err)
	lookup := func(name string) ([]string, error) {
		sel, _, _ := strings.Cut(name, "._domainkey.")
		rec, ok, err := s.Keyring.DKIMKey(ctx, sel)
		if err != nil || !ok {
			return nil, fmt.Errorf("no key for %s: %v", name, err)
		}
		return []string{rec}, nil
	}
	verified := 0
	status := map[store.MessageStatus]int{}
	for _, m := range ms {
		status[m.Status]++
		vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(m.Raw), &msgdkim.VerifyOptions{LookupTXT: lookup})
		if err == nil && len(vs) == 1 && vs[0].Err == nil && vs[0].Domain == benchFrom {
			verified++
		}
	}
	fmt.Printf("stored %d (by status: %v), signed %d\n", len(ms), status, verified)
}
