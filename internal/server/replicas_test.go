package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/pgtest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/smtptest"
)

// replicas starts n servers on one new PostgreSQL database, sharing one
// data directory for their key files, as replicas behind a load balancer.
func replicas(t *testing.T, n int) []*sestest.Server {
	t.Helper()
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	out := make([]*sestest.Server, n)
	for i := range out {
		out[i] = sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	}
	return out
}

// within polls cond until it holds or d has passed.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplicasSeeEachOther: on PostgreSQL, what one replica writes the other
// reads within a second, whatever it read before (no stale cache), and a key
// revoked through one is refused by both.
func TestReplicasSeeEachOther(t *testing.T) {
	ctx := context.Background()
	r := replicas(t, 2)
	a, b := r[0], r[1]
	acct := a.NewAccount("tenant")
	onA, onB := acct.V1(""), b.V1(acct.AWS(), "")

	// A key made on one replica signs requests to the other.
	out, err := onA.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	token := aws.ToString(out.VerificationToken)
	status := func(c *ses.Client) (string, string) {
		got, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		v, ok := got.VerificationAttributes["example.com"]
		if !ok {
			return "", ""
		}
		return string(v.VerificationStatus), aws.ToString(v.VerificationToken)
	}
	if !within(time.Second, func() bool { _, tok := status(onB); return tok == token }) {
		t.Fatal("replica b does not see the identity created through a within 1 s")
	}
	// b has now read it: a delete through a must still show on b.
	if _, err := onA.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if !within(time.Second, func() bool { st, _ := status(onB); return st == "" }) {
		t.Fatal("replica b still shows the identity deleted through a, 1 s later")
	}
	// And the other way round.
	if _, err := onB.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("me@example.org")}); err != nil {
		t.Fatal(err)
	}
	if !within(time.Second, func() bool {
		l, err := onA.ListIdentities(ctx, &ses.ListIdentitiesInput{})
		return err == nil && len(l.Identities) == 1 && l.Identities[0] == "me@example.org"
	}) {
		t.Fatal("replica a does not list the address created through b within 1 s")
	}

	// Revoked through a, the key fails on both within a second.
	if err := a.Sesame.Accounts.Revoke(ctx, acct.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*ses.Client{"a": onA, "b": onB} {
		if !within(time.Second, func() bool {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{})
			return err != nil
		}) {
			t.Errorf("replica %s still accepts the revoked key 1 s later", name)
		}
	}
}

// TestReplicasDeliverOnce: two replicas with one relay on one database
// share the outbox; verification mail asked through either is delivered
// once, by one of them, while both deliver at the same time.
func TestReplicasDeliverOnce(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	relay := smtptest.New(t, smtptest.Options{Reply: func(int, smtptest.Message) error {
		time.Sleep(30 * time.Millisecond) // a relay that takes its time: both queues are busy at once
		return nil
	}})
	o := server.Options{Data: data, DatabaseURL: url, SMTPURL: relay.URL, Mail: relayMail(relay)}
	a := start(t, o)
	b := restart(t, o, a)
	const n = 30
	for i := range n {
		e := a
		if i%2 == 1 {
			e = b
		}
		e.verify(t, fmt.Sprintf("user%02d@example.com", i))
	}
	if !within(30*time.Second, func() bool { return len(relay.Messages()) >= n }) {
		t.Fatalf("%d of %d messages delivered within 30 s", len(relay.Messages()), n)
	}
	time.Sleep(500 * time.Millisecond) // a message sent twice would show by now
	seen := map[string]int{}
	for _, m := range relay.Messages() {
		seen[m.To[0]]++
	}
	for to, k := range seen {
		if k != 1 {
			t.Errorf("%s: delivered %d times", to, k)
		}
	}
	if len(seen) != n || relay.Attempts() != n {
		t.Errorf("%d recipients, %d offers; want %d and %d", len(seen), relay.Attempts(), n, n)
	}
}

// TestReplicasShareKeys: a replica whose key files are not the others' is
// refused at start, with what to copy; with the files copied it starts, and
// the credentials made on the first work on it. `sesame accounts` with
// another sealing key is refused too.
func TestReplicasShareKeys(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Start(t).NewDatabase(t)
	first, other := t.TempDir(), t.TempDir()
	os.Chmod(first, 0o700)
	os.Chmod(other, 0o700)
	a := sestest.New(t, sestest.Options{DatabaseURL: url, Data: first})
	acct := a.NewAccount("tenant")

	opts := server.Options{Data: other, DatabaseURL: url, DNS: config.SES(), Policies: identity.SESPolicies(), Log: slog.New(slog.DiscardHandler)}
	if s, err := server.Open(ctx, opts); err == nil {
		s.Close()
		t.Fatal("a replica with keys of its own started")
	} else if !strings.Contains(err.Error(), "secret.key") || !strings.Contains(err.Error(), "copy") {
		t.Errorf("refusal %q: want what to copy", err)
	}
	st, err := server.OpenStore(ctx, other, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.OpenAccounts(st, other, filepath.Join(t.TempDir(), "seal.key")); err == nil || !strings.Contains(err.Error(), "sealing key") {
		t.Errorf("accounts with another sealing key: %v, want a refusal", err)
	}
	st.Close()

	for _, f := range []string{account.KeyFile, mail.KeyFile, console.KeyFile} {
		b, err := os.ReadFile(filepath.Join(first, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(other, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := sestest.New(t, sestest.Options{DatabaseURL: url, Data: other})
	if _, err := b.V1(acct.AWS(), "").ListIdentities(ctx, &ses.ListIdentitiesInput{}); err != nil {
		t.Errorf("a key made on the first replica, on the second: %v", err)
	}
}

// TestReplicasCacheListenerLost: the connection on which a replica hears
// of other replicas' writes is cut, and a write made while it is down is
// not served stale once it is back (the cache is paused and emptied).
func TestReplicasCacheListenerLost(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	a := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	b := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	acct := a.NewAccount("tenant")
	onA, onB := acct.V1(""), b.V1(acct.AWS(), "")
	status := func(c *ses.Client) string {
		got, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(got.VerificationAttributes["example.com"].VerificationStatus)
	}
	if _, err := onA.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if !within(time.Second, func() bool { return status(onB) == "Pending" }) {
		t.Fatal("b does not see the identity")
	}
	status(onB) // cached now, once b listens
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// (A replica whose heartbeat was late on a loaded machine may be
	// listening anew, or between connections: it has paused its cache.)
	var cut int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = 'LISTEN sesame_identities'`).Scan(&cut); err != nil || cut == 0 {
		t.Fatalf("terminated %d listening connections (%v), want the replicas'", cut, err)
	}
	if _, err := onA.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	// Once both listen again (and have resumed their caches), b serves
	// what the database holds.
	if !within(10*time.Second, func() bool {
		var n int
		conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN sesame_identities'`).Scan(&n)
		return n >= 2
	}) {
		t.Fatal("the replicas do not listen again within 10 s")
	}
	time.Sleep(200 * time.Millisecond)
	for range 5 {
		if st := status(onB); st != "" {
			t.Fatalf("b serves the identity deleted while its listener was down, as %s", st)
		}
	}
}

// TestReplicasTakeOverLeasedChecks: an identity leased by a replica that
// died (its claim made, its check never saved) is left alone by the other
// replicas' verifiers until the lease runs out, and then checked by one of
// them.
func TestReplicasTakeOverLeasedChecks(t *testing.T) {
	ctx := context.Background()
	knot := knottest.Start(t, "127.0.0.1", "example.test", knotZone)
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	a := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data}) // the API alone
	acct := a.NewAccount("ops")
	vt, err := acct.V1("").VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.test")})
	if err != nil {
		t.Fatal(err)
	}
	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, aws.ToString(vt.VerificationToken)))
	// The replica that dies: it claims the identity for 3 s and is gone.
	leaseEnd := time.Now().Add(3 * time.Second)
	claimed, err := a.Sesame.Store.ClaimDue(ctx, time.Now().Add(time.Minute), leaseEnd, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d identities (%v), want the one", len(claimed), err)
	}
	b := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data, Verify: server.VerifyOptions{
		Run: true, Resolver: knot.Addr, AuthPort: knot.Port, RateLimit: 1000, Recheck: time.Second,
		Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
	}})
	v2 := b.V2(acct.AWS(), "")
	time.Sleep(time.Until(leaseEnd.Add(-time.Second)))
	if recs, _ := b.Sesame.Store.ListChecks(ctx, claimed[0].Key, 10); len(recs) != 0 {
		t.Fatalf("checked during another replica's lease: %+v", recs)
	}
	waitStatus(t, v2, "example.test", "SUCCESS", 15*time.Second)
	if time.Now().Before(leaseEnd) {
		t.Error("verified before the lease ran out")
	}
}

// TestReplicasFirstStart: replicas started at once on an empty database
// make one default account between them, and none fails to start.
func TestReplicasFirstStart(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	servers := make([]*sestest.Server, 4)
	for i := range servers {
		servers[i] = sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	}
	var wg sync.WaitGroup
	made := make([]bool, len(servers))
	for i, s := range servers {
		wg.Go(func() {
			c, err := s.Sesame.EnsureDefaultAccount(ctx)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			made[i] = c != nil
		})
	}
	wg.Wait()
	n := 0
	for _, m := range made {
		if m {
			n++
		}
	}
	accts, err := servers[0].Sesame.Store.ListAccounts(ctx)
	if err != nil || len(accts) != 1 || n != 1 {
		t.Errorf("%d accounts (%v), %d replicas made one; want 1 and 1", len(accts), err, n)
	}
}

// TestReplicasListenerSilent: the backend of each replica's listening
// connection stops (SIGSTOP: the connection stays open, and TCP answers,
// but no notification comes); within a few seconds the replicas stop
// trusting their caches, so a write on one is read on the other.
func TestReplicasListenerSilent(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	a := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	b := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data})
	acct := a.NewAccount("tenant")
	onA, onB := acct.V1(""), b.V1(acct.AWS(), "")
	status := func(c *ses.Client) string {
		got, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(got.VerificationAttributes["example.com"].VerificationStatus)
	}
	if _, err := onA.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if !within(time.Second, func() bool { return status(onB) == "Pending" }) {
		t.Fatal("b does not see the identity")
	}
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN sesame_identities'`)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) == 0 {
		t.Fatalf("listening backends %v (%v), want the replicas'", pids, err)
	}
	for _, pid := range pids {
		// One that ended since (a replica listening anew) is no matter.
		syscall.Kill(int(pid), syscall.SIGSTOP)
		t.Cleanup(func() { syscall.Kill(int(pid), syscall.SIGCONT) })
	}
	status(onB) // cached, as far as b knows
	if _, err := onA.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	if !within(10*time.Second, func() bool { return status(onB) == "" }) {
		t.Fatal("b serves the deleted identity 10 s after its listener went silent")
	}
}

// TestReplicasCheckOnce: three verifying replicas on one database share
// the due identities: each is checked by one replica at a time, so no
// identity has two checks closer together than its backoff (5 s for a
// record not found yet), which two replicas checking it at once would
// give.
func TestReplicasCheckOnce(t *testing.T) {
	ctx := context.Background()
	knot := knottest.Start(t, "127.0.0.1", "example.test", knotZone)
	url := pgtest.Start(t).NewDatabase(t)
	data := t.TempDir()
	os.Chmod(data, 0o700)
	a := sestest.New(t, sestest.Options{DatabaseURL: url, Data: data}) // the API alone
	acct := a.NewAccount("ops")
	const n = 60
	var keys []identity.Key
	for i := range n {
		name := fmt.Sprintf("d%d.example.test", i)
		if _, err := acct.V1("").VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, identity.Key{Account: acct.AccountId, Region: sestest.DefaultRegion, Name: name})
	}
	for range 3 {
		sestest.New(t, sestest.Options{DatabaseURL: url, Data: data, Verify: server.VerifyOptions{
			Run: true, Resolver: knot.Addr, AuthPort: knot.Port, RateLimit: 1000, Recheck: time.Second,
			Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
		}})
	}
	checks := func(k identity.Key) []time.Time {
		recs, err := a.Sesame.Store.ListChecks(ctx, k, 100)
		if err != nil {
			t.Fatal(err)
		}
		var at []time.Time
		for _, r := range recs {
			if !slices.ContainsFunc(at, r.At.Equal) {
				at = append(at, r.At)
			}
		}
		slices.SortFunc(at, time.Time.Compare)
		return at
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range keys {
		for len(checks(k)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s not checked within 30 s", k.Name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(2 * time.Second) // a second replica's check of the same round would be in by now
	for _, k := range keys {
		at := checks(k)
		for i := 1; i < len(at); i++ {
			if d := at[i].Sub(at[i-1]); d < 4*time.Second {
				t.Errorf("%s checked twice %v apart (%v): by two replicas at once", k.Name, d, at)
			}
		}
	}
}
