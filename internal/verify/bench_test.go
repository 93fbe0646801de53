package verify

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// BenchmarkVerify checks b.N domain identities, each with its TXT record,
// three DKIM CNAMEs and a MAIL FROM MX and SPF record published, through
// Run against one loopback server that is both the resolver and the
// authoritative server, with the SQLite store. bench/verifyload does the
// same at 100,000 identities in a process of its own and compares with
// dnsperf.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	srv := dnstest.NewServer(b, "127.0.1.1")
	srv.SetZone(".", rootZone)
	st, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	var zone strings.Builder
	zone.WriteString("@ SOA ns hostmaster 1 7200 3600 1209600 60\n@ NS ns\nns A 127.0.1.1\n")
	ids := make([]*identity.Identity, b.N)
	for i := range ids {
		id := benchIdentity(i, t0)
		ids[i] = id
		fmt.Fprintf(&zone, "%s. A 192.0.2.1\n", id.Name) // the name exists: NODATA for NS, not an empty non-terminal
		for _, r := range records.For(id, config.SES()) {
			v := r.Value
			if r.Type == "TXT" {
				v = `"` + v + `"`
			} else {
				v += "."
			}
			fmt.Fprintf(&zone, "%s. %s %s\n", r.Name, r.Type, v)
		}
	}
	srv.SetZone("bench.test.", zone.String())
	if err := st.Import(ctx, ids); err != nil {
		b.Fatal(err)
	}

	cs := &countingStore{Store: st, target: int64(b.N), done: make(chan struct{})}
	v := &Verifier{
		Store:       cs,
		DNS:         &dnsclient.Client{Resolver: srv.Addr, AuthPort: srv.Port, RateLimit: 1e9},
		Now:         func() time.Time { return t0 },
		Log:         quiet(),
		Concurrency: 64,
	}
	b.ResetTimer()
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- v.Run(ctx) }()
	<-cs.done
	elapsed := time.Since(start)
	cancel()
	<-done
	b.StopTimer()

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "identities/s")
	b.ReportMetric(float64(len(srv.Queries()))/elapsed.Seconds(), "queries/s")
	if got, _ := st.GetIdentity(context.Background(), ids[b.N-1].Key); got.Status() != identity.Success || got.MailFrom.Check.Status != identity.Success {
		b.Fatalf("last identity: %s, MAIL FROM %s", got.Status(), got.MailFrom.Check.Status)
	}
}

// benchIdentity is domain i of the benchmark, its checks started at now.
func benchIdentity(i int, now time.Time) *identity.Identity {
	id := &identity.Identity{
		Key:     identity.Key{Account: "111111111111", Region: "us-east-1", Name: fmt.Sprintf("d%d.bench.test", i)},
		Kind:    names.KindDomain,
		Created: now,
		Token:   identity.NewVerificationToken(),
		DKIM:    identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens(), Origin: "AWS_SES"},
		Next:    now,
	}
	id.MailFrom = identity.MailFrom{Domain: "mail." + id.Name, Behavior: identity.UseDefaultValue}
	id.Verification.Start(now)
	id.DKIM.Check.Start(now)
	id.MailFrom.Check.Start(now)
	return id
}

// countingStore closes done once target checks are saved.
type countingStore struct {
	store.Store
	n, target int64
	done      chan struct{}
}

func (s *countingStore) SaveChecks(ctx context.Context, ups []store.CheckUpdate) error {
	err := s.Store.SaveChecks(ctx, ups)
	var n int64
	for _, u := range ups {
		if len(u.Checks) > 0 {
			n++
		}
	}
	if before := atomic.AddInt64(&s.n, n) - n; before < s.target && before+n >= s.target {
		close(s.done)
	}
	return err
}
