package verify

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// The test DNS tree, on loopback addresses of its own so that it does not
// meet other packages' test servers:
//
//	127.0.1.53  resolver: the root zone and the delegation of example.test
//	127.0.1.1   ns1.example.test  example.test
//	127.0.1.2   ns2.example.test  example.test
//
// Every server listens on the same port, as real ones listen on 53.
const (
	rootZone = `
@    SOA  a.root.test. hostmaster.root.test. 1 7200 3600 1209600 60
`
	// delegation is what the resolver knows of example.test: its servers.
	delegation = `
@    SOA  ns1 hostmaster 1 7200 3600 1209600 60
@    NS   ns1
@    NS   ns2
ns1  A    127.0.1.1
ns2  A    127.0.1.2
`
)

// soa is the zone's head; the negative TTL is min(300, 60) = 60 s.
func soa(serial string) string {
	return `
@    SOA  ns1 hostmaster ` + serial + ` 7200 3600 1209600 60
@    NS   ns1
@    NS   ns2
ns1  A    127.0.1.1
ns2  A    127.0.1.2
`
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is the fake clock of the windows and the schedule.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is a verifier, a registry that creates identities the way the API
// does, a store, and the DNS tree.
type world struct {
	t                  *testing.T
	ns1, ns2, resolver *dnstest.Server
	clock              *clock
	dir                string
	store              *notifyStore
	reg                *registry.Registry
	v                  *Verifier
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: &clock{t: t0}, dir: t.TempDir()}
	s := dnstest.NewServers(t, "127.0.1.1", "127.0.1.2", "127.0.1.53")
	w.ns1, w.ns2, w.resolver = s[0], s[1], s[2]
	w.resolver.SetZone(".", rootZone)
	w.resolver.SetZone("example.test.", delegation)
	w.serve(soa("1"), soa("1"))

	w.store = w.openStore()
	w.v = w.verifier(w.store)
	w.reg = &registry.Registry{Store: w.store, DNS: config.SES(), Policies: identity.SESPolicies(), Now: w.clock.Now, Log: quiet()}
	return w
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (w *world) openStore() *notifyStore {
	w.t.Helper()
	st, err := sqlite.Open(context.Background(), w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	return &notifyStore{Store: st}
}

func (w *world) verifier(st store.Store) *Verifier {
	return &Verifier{
		Store:    st,
		DNS:      &dnsclient.Client{Resolver: w.resolver.Addr, AuthPort: w.ns1.Port, Timeout: 500 * time.Millisecond, Retries: -1},
		Now:      w.clock.Now,
		Log:      quiet(),
		Poll:     time.Hour, // only Wake, or a test's own Poll, starts a check
		Lease:    2 * time.Minute,
		Policies: identity.SESPolicies(),
	}
}

// serve sets the zone example.test on ns1 and ns2.
func (w *world) serve(ns1, ns2 string) {
	w.t.Helper()
	w.ns1.SetZone("example.test.", ns1)
	w.ns2.SetZone("example.test.", ns2)
}

// both adds or removes a record on both servers.
func (w *world) add(rr string) {
	w.t.Helper()
	w.ns1.AddRR(rr)
	w.ns2.AddRR(rr)
}

func (w *world) remove(rr string) {
	w.t.Helper()
	w.ns1.RemoveRR(rr)
	w.ns2.RemoveRR(rr)
}

func scope(account, region string) registry.Scope {
	return registry.Scope{Account: account, Region: region}
}

var us = scope("111111111111", "us-east-1")

// domain adds a domain identity the v1 way (TXT token only).
func (w *world) domain(sc registry.Scope, name string) *identity.Identity {
	w.t.Helper()
	id, err := w.reg.VerifyDomainIdentity(context.Background(), sc, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// dkimDomain adds a domain identity the v2 way: TXT token and Easy DKIM.
func (w *world) dkimDomain(sc registry.Scope, name string) *identity.Identity {
	w.t.Helper()
	id, err := w.reg.CreateEmailIdentity(context.Background(), sc, name, registry.CreateOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) check(k identity.Key) *identity.Identity {
	w.t.Helper()
	id, err := w.v.CheckNow(context.Background(), k)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) checks(k identity.Key) []store.CheckRecord {
	w.t.Helper()
	recs, err := w.store.ListChecks(context.Background(), k, store.MaxChecks)
	if err != nil {
		w.t.Fatal(err)
	}
	return recs
}

// txt is the verification record of id on example.test.
func txt(id *identity.Identity) string {
	return `_amazonses.example.test. TXT "` + id.Token + `"`
}

// dkimRRs are the three DKIM CNAMEs of id.
func dkimRRs(id *identity.Identity) []string {
	var rrs []string
	for _, t := range id.DKIM.Tokens {
		rrs = append(rrs, t+"._domainkey."+id.Name+". CNAME "+t+".dkim.amazonses.com.")
	}
	return rrs
}

// notifyStore tells a test about each identity whose check was saved, so
// it can wait for checks without sleeping.
type notifyStore struct {
	store.Store
	mu    sync.Mutex
	saved chan identity.Key
}

func (s *notifyStore) watch() chan identity.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = make(chan identity.Key, 10000)
	return s.saved
}

func (s *notifyStore) SaveChecks(ctx context.Context, ups []store.CheckUpdate) error {
	err := s.Store.SaveChecks(ctx, ups)
	s.mu.Lock()
	ch := s.saved
	s.mu.Unlock()
	if ch != nil && err == nil {
		for _, u := range ups {
			if len(u.Checks) > 0 { // a check, not a lease given back
				ch <- u.Key
			}
		}
	}
	return err
}

// wait waits for n saved checks, at most d of real time.
func wait(t *testing.T, ch chan identity.Key, n int, d time.Duration) []identity.Key {
	t.Helper()
	var got []identity.Key
	timeout := time.After(d)
	for len(got) < n {
		select {
		case k := <-ch:
			got = append(got, k)
		case <-timeout:
			t.Fatalf("%d of %d checks saved within %v", len(got), n, d)
		}
	}
	return got
}

func has(s, sub string) bool { return strings.Contains(s, sub) }
