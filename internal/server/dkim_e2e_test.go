package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	msgdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// The servers of TestDKIMKeysEndToEnd: addresses no other test uses, so
// that the one port they share (glue carries no port) is free on each.
const (
	customerIP = "127.0.21.1" // Knot, the customer's zone
	sesameIP   = "127.0.21.2" // Sesame's DNS listener, the DKIM zone
	operatorIP = "127.0.21.3" // Knot, the operator's zone, parent of the DKIM zone
)

// The operator's zone, which delegates the DKIM zone to Sesame's DNS
// listener.
const operatorZone = `$ORIGIN sesame.test.
$TTL 60
@         SOA ns1 hostmaster 1 3600 600 86400 30
@         NS  ns1
ns1       A   127.0.21.3
dkim      NS  ns1.dkim
ns1.dkim  A   127.0.21.2
`

// chainResolver looks TXT records up as a resolver does, without
// recursion at any server: it starts at the server of the longest known
// zone above the name, follows CNAMEs to other names and referrals (NS
// with glue) to other servers, all on port.
type chainResolver struct {
	t     *testing.T
	port  string
	zones map[string]string // zone (fqdn) -> server address
	hops  []string          // what the last lookup went through, for failures
}

func (r *chainResolver) server(name string) string {
	best, addr := "", ""
	for z, a := range r.zones {
		if dns.IsSubDomain(z, name) && len(z) > len(best) {
			best, addr = z, a
		}
	}
	return addr
}

func (r *chainResolver) LookupTXT(name string) ([]string, error) {
	name = dns.Fqdn(strings.ToLower(name))
	r.hops = nil
	c := &dns.Client{Timeout: 2 * time.Second}
	for range 10 {
		addr := r.server(name)
		if addr == "" {
			return nil, fmt.Errorf("no server known for %s", name)
		}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.RecursionDesired = false
		m.SetEdns0(1232, false)
		resp, _, err := c.Exchange(m, addr)
		if err != nil {
			return nil, err
		}
		if resp.Truncated {
			c2 := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
			if resp, _, err = c2.Exchange(m, addr); err != nil {
				return nil, err
			}
		}
		r.hops = append(r.hops, fmt.Sprintf("%s @%s: %s aa=%v answer=%d ns=%d", name, addr, dns.RcodeToString[resp.Rcode], resp.Authoritative, len(resp.Answer), len(resp.Ns)))
		if resp.Rcode != dns.RcodeSuccess {
			return nil, fmt.Errorf("%s: %s from %s", name, dns.RcodeToString[resp.Rcode], addr)
		}
		var txts []string
		var cname string
		for _, rr := range resp.Answer {
			switch rr := rr.(type) {
			case *dns.TXT:
				txts = append(txts, strings.Join(rr.Txt, ""))
			case *dns.CNAME:
				if strings.EqualFold(rr.Hdr.Name, name) {
					cname = dns.CanonicalName(rr.Target)
				}
			}
		}
		if len(txts) > 0 {
			if !resp.Authoritative {
				return nil, fmt.Errorf("%s: answer from %s is not authoritative", name, addr)
			}
			return txts, nil
		}
		if cname != "" {
			name = cname
			continue
		}
		// A referral: NS for a zone below, with glue.
		var glue string
		var cut string
		for _, rr := range resp.Ns {
			if ns, ok := rr.(*dns.NS); ok {
				cut = dns.CanonicalName(ns.Hdr.Name)
				for _, ex := range resp.Extra {
					if a, ok := ex.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, ns.Ns) {
						glue = a.A.String()
					}
				}
			}
		}
		if cut == "" || glue == "" || r.zones[cut] != "" {
			return nil, fmt.Errorf("%s: no answer and no referral from %s", name, addr)
		}
		r.zones[cut] = net.JoinHostPort(glue, r.port)
	}
	return nil, fmt.Errorf("%s: too many hops", name)
}

// TestDKIMKeysEndToEnd: a customer's zone on Knot holds the three
// CNAMEs <token>._domainkey.example.test -> <token>.dkim.sesame.test;
// the operator's zone on another Knot delegates dkim.sesame.test to
// Sesame's DNS listener. The identity reaches DKIM Success, and a message
// Sesame signed verifies (go-msgauth) through that chain of real servers,
// before and after a rotation, and the one signed before the rotation
// still verifies during the grace period.
func TestDKIMKeysEndToEnd(t *testing.T) {
	t.Parallel()
	customer := knottest.Start(t, customerIP, "example.test", strings.ReplaceAll(knotZone, "127.0.0.1", customerIP))
	operator := knottest.StartWith(t, operatorIP, "sesame.test", operatorZone, knottest.Options{Port: customer.Port})
	dnsCfg := config.SES()
	dnsCfg.DKIMDomain = "dkim.sesame.test"
	srv := sestest.New(t, sestest.Options{DNS: dnsCfg,
		Verify: server.VerifyOptions{Run: true, Resolver: customer.Addr, AuthPort: customer.Port, RateLimit: 1000,
			Recheck: time.Second, Timeout: 500 * time.Millisecond, Budget: 3 * time.Second},
		DKIM: server.DKIMOptions{TTL: time.Second, Grace: time.Hour, Step: 100 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dnsAddr, _, err := srv.Sesame.ListenDNS(ctx, net.JoinHostPort(sesameIP, customer.Port), server.DNSOptions{NS: []string{"ns1.dkim.sesame.test"}, TTL: time.Second})
	if err != nil {
		t.Fatalf("Sesame's DNS listener on the Knot servers' port: %v", err)
	}
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")

	created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	tokens := created.DkimAttributes.Tokens
	vt, err := v1.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, *vt.VerificationToken)}
	for _, tok := range tokens {
		lines = append(lines, fmt.Sprintf(`add %s._domainkey.example.test. 60 CNAME %s.dkim.sesame.test.`, tok, tok))
	}
	customer.Update(lines...)
	out := waitStatus(t, v2, "example.test", "SUCCESS", 15*time.Second)
	for deadline := time.Now().Add(15 * time.Second); out.DkimAttributes.Status != v2types.DkimStatusSuccess; out = getV2(t, v2, "example.test") {
		if time.Now().After(deadline) {
			t.Fatalf("DKIM status %s, want SUCCESS", out.DkimAttributes.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d := out.DkimAttributes
	if d.CurrentSigningKeyLength != v2types.DkimSigningKeyLengthRsa2048Bit || d.NextSigningKeyLength != v2types.DkimSigningKeyLengthRsa2048Bit || d.LastKeyGenerationTimestamp == nil {
		t.Errorf("DkimAttributes %+v: want 2048-bit keys and their generation time", d)
	}

	// Every token's key is served through the chain: Knot's CNAME, the
	// operator's referral, Sesame's authoritative TXT.
	res := &chainResolver{t: t, port: customer.Port, zones: map[string]string{"example.test.": customer.Addr, "sesame.test.": operator.Addr}}
	for _, tok := range tokens {
		txts, err := res.LookupTXT(tok + "._domainkey.example.test")
		if err != nil || len(txts) != 1 || !strings.HasPrefix(txts[0], "v=DKIM1; k=rsa; p=") {
			t.Fatalf("key of %s through the chain: %q %v\n%s", tok, txts, err, strings.Join(res.hops, "\n"))
		}
	}
	if res.zones["dkim.sesame.test."] != dnsAddr.String() {
		t.Errorf("the DKIM zone was reached at %q, want Sesame's listener %s", res.zones["dkim.sesame.test."], dnsAddr)
	}

	if _, err := srv.Sesame.Store.UpdateSendingState(ctx, a.AccountId, "us-east-1", func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	send := func(subject string) []byte {
		t.Helper()
		o, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("app@example.test"),
			Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
			Message:     &types.Message{Subject: &types.Content{Data: aws.String(subject)}, Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := srv.Sesame.Store.GetMessage(ctx, aws.ToString(o.MessageId))
		if err != nil {
			t.Fatal(err)
		}
		return m.Raw
	}
	verify := func(what string, raw []byte) string {
		t.Helper()
		vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(raw), &msgdkim.VerifyOptions{LookupTXT: res.LookupTXT})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.test" {
			t.Fatalf("%s: verifications %+v\n%s\n%s", what, vs, strings.Join(res.hops, "\n"), raw)
		}
		h := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
		i := strings.Index(h, " s=")
		if i < 0 {
			t.Fatalf("%s: no s= tag:\n%s", what, h)
		}
		sel, _, _ := strings.Cut(h[i+3:], ";")
		return strings.TrimSpace(sel)
	}

	first := send("before the rotation")
	sel1 := verify("signed before the rotation", first)
	if !slices.Contains(tokens, sel1) {
		t.Fatalf("signed with selector %q, not one of the tokens %q", sel1, tokens)
	}

	// Rotate: the new key is published at once but signs only after the TTL.
	k := identity.Key{Account: a.AccountId, Region: "us-east-1", Name: "example.test"}
	keys, err := srv.Sesame.Keyring.Rotate(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var next string
	for _, key := range keys {
		if key.State == store.DKIMNext {
			next = key.Token
		}
	}
	if next == "" || next == sel1 {
		t.Fatalf("rotation published %q as next (signing %q): %+v", next, sel1, keys)
	}
	if txts, err := res.LookupTXT(next + "._domainkey.example.test"); err != nil || len(txts) != 1 {
		t.Fatalf("the next key is not published: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var sel2 string
	for {
		second := send("after the rotation")
		if sel2 = verify("signed after the rotation", second); sel2 == next {
			break
		}
		if sel2 != sel1 {
			t.Fatalf("signed with %q, neither the old %q nor the next %q", sel2, sel1, next)
		}
		if time.Now().After(deadline) {
			t.Fatal("the next key did not sign within 20 s (TTL 1 s)")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The message signed before still verifies: its key is in its grace.
	verify("signed before the rotation, checked during the grace", first)
	if g := getV2(t, v2, "example.test").DkimAttributes; g.Status != v2types.DkimStatusSuccess || g.CurrentSigningKeyLength != v2types.DkimSigningKeyLengthRsa2048Bit {
		t.Errorf("after the rotation: %+v", g)
	}
}
