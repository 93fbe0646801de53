package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/dnsserver"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

// TestDoctorKnowsItsKeys: the console's doctor knows the keys this server
// publishes for the identity's tokens, so a DKIM zone that serves another
// key for one of them (a stale copy, a wrong delegation) is a mismatch,
// where the doctor on its own would pass any usable key.
func TestDoctorKnowsItsKeys(t *testing.T) {
	dns := dnstest.NewServer(t, "127.0.0.1")
	cfg := config.SES()
	cfg.DKIMDomain = "dkim.sesame.test"
	srv := sestest.New(t, sestest.Options{DNS: cfg, DKIM: server.DKIMOptions{TTL: time.Second, Grace: time.Hour},
		Verify: server.VerifyOptions{Resolver: dns.Addr, AuthPort: dns.Port, RateLimit: 1000, Timeout: 300 * time.Millisecond, Budget: 2 * time.Second}})
	a := srv.NewAccount("alpha")
	b := newBrowser(t, srv)
	b.signIn(a)
	wantRedirect(t, b.post("/console/identities", b.form("/console/create", "name", "example.test")), "/console/identities/example.test")
	keys, err := srv.Sesame.Store.ListDKIMKeys(context.Background(), identity.Key{Account: a.AccountId, Region: "us-east-1", Name: "example.test"})
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys of the identity: %d, %v", len(keys), err)
	}
	other, err := dkim.Generate(dkim.RSA1024)
	if err != nil {
		t.Fatal(err)
	}
	customer := "$ORIGIN example.test.\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.0.1\n"
	zone := "$ORIGIN dkim.sesame.test.\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.0.1\n"
	for i, k := range keys {
		customer += fmt.Sprintf("%s._domainkey CNAME %s.dkim.sesame.test.\n", k.Token, k.Token)
		rec := k.Record
		if i == 2 {
			rec = dkim.Record(&other.PublicKey) // not the key this server signs with
		}
		zone += fmt.Sprintf("%s TXT \"%s\"\n", k.Token, strings.Join(dnsserver.Split(rec), `" "`))
	}
	dns.SetZone("example.test", customer)
	dns.SetZone("dkim.sesame.test", zone)

	frag := b.get("/console/identities/example.test/doctor")
	wantStatus(t, frag, 200)
	if !strings.Contains(frag.Body, "dkim-key-mismatch") || !strings.Contains(frag.Body, keys[2].Token+".dkim.sesame.test") {
		t.Fatalf("doctor without the mismatch of %s:\n%s", keys[2].Token, frag.Body)
	}
	if strings.Contains(frag.Body, keys[0].Token+".dkim.sesame.test TXT") {
		t.Errorf("a token serving this server's own key is reported:\n%s", frag.Body)
	}
}
