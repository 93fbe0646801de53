package verify

import (
	"context"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/identity"
)

func TestFailedAfterWindow(t *testing.T) {
	w := newWorld(t)
	id := w.dkimDomain(us, "example.test")
	w.check(id.Key)
	w.clock.Advance(72*time.Hour - time.Second)
	if got := w.check(id.Key); got.Verification.Status != identity.Pending {
		t.Fatalf("a second before the window ends: %s", got.Verification.Status)
	}
	id2 := w.domain(scope("222222222222", "us-east-1"), "example.test")
	w.check(id2.Key)
	w.clock.Advance(time.Second)
	got := w.check(id.Key)
	if got.Verification.Status != identity.Failed || got.DKIM.Check.Status != identity.Failed {
		t.Errorf("after 72 h: TXT %s, DKIM %s; want Failed", got.Verification.Status, got.DKIM.Check.Status)
	}
	if !got.Next.IsZero() {
		t.Errorf("a failed identity is still scheduled at %v", got.Next)
	}

	// Published just before the window ends, seen by the check at its end.
	w.clock.Advance(72*time.Hour - 2*time.Second)
	w.add(txt(id2))
	w.clock.Advance(2 * time.Second)
	if got := w.check(id2.Key); got.Verification.Status != identity.Success {
		t.Errorf("published a second before the window ends, checked at its end: %s", got.Verification.Status)
	}
}

// TestTemporaryFailure: failing servers give TemporaryFailure, not Failed,
// until the window ends; they never demote a verified identity.
func TestTemporaryFailure(t *testing.T) {
	w := newWorld(t)
	id := w.domain(us, "example.test")
	w.add(txt(id))
	w.ns1.SetFault(dnstest.ServFail)
	w.ns2.SetFault(dnstest.Drop)
	if got := w.check(id.Key).Verification; got.Status != identity.TemporaryFailure || got.ErrorType != identity.DNSServerError {
		t.Fatalf("servers failing: %s %s %q", got.Status, got.ErrorType, got.Detail)
	}
	w.ns1.SetFault(dnstest.NoFault)
	w.ns2.SetFault(dnstest.NoFault)
	w.clock.Advance(10 * time.Second)
	if got := w.check(id.Key).Verification; got.Status != identity.Success {
		t.Fatalf("servers back: %s %q", got.Status, got.Detail)
	}
	w.ns1.SetFault(dnstest.ServFail)
	w.ns2.SetFault(dnstest.ServFail)
	w.clock.Advance(100 * time.Hour)
	got := w.check(id.Key).Verification
	if got.Status != identity.Success || !got.MissingSince.IsZero() || !got.LastChecked.Equal(w.clock.Now()) {
		t.Errorf("verified, servers failing: %s, missing since %v; want Success and no revocation warning", got.Status, got.MissingSince)
	}

	// A new identity whose servers fail for the whole window is Failed.
	id2 := w.domain(scope("222222222222", "us-east-1"), "example.test")
	w.check(id2.Key)
	w.clock.Advance(72 * time.Hour)
	if got := w.check(id2.Key).Verification; got.Status != identity.Failed {
		t.Errorf("failing for 72 h: %s", got.Status)
	}
}

// TestRecordRemoved: a verified TXT record that goes away gets SES's
// revocation warning (still Success), and Failed 72 h later unless it
// comes back; a record gone from one server only changes nothing.
func TestRecordRemoved(t *testing.T) {
	w := newWorld(t)
	id := w.domain(us, "example.test")
	w.add(txt(id))
	w.check(id.Key)

	w.ns2.RemoveRR(txt(id)) // ns2 stale, or being updated
	w.clock.Advance(time.Hour)
	got := w.check(id.Key).Verification
	if got.Status != identity.Success || !got.MissingSince.IsZero() || !has(got.Detail, "stale") {
		t.Fatalf("gone from one server: %s, missing since %v, %q", got.Status, got.MissingSince, got.Detail)
	}

	w.ns1.RemoveRR(txt(id))
	w.clock.Advance(time.Hour)
	removed := w.clock.Now()
	got2 := w.check(id.Key)
	if v := got2.Verification; v.Status != identity.Success || !v.MissingSince.Equal(removed) || v.ErrorType != identity.HostNotFound {
		t.Fatalf("gone from both: %s, missing since %v, %s; want Success with a warning", v.Status, v.MissingSince, v.ErrorType)
	}
	if !got2.Next.Equal(removed.Add(5 * time.Second)) {
		t.Errorf("next check %v, want 5 s later to see it come back", got2.Next)
	}

	// Restored within the grace period: the warning is cancelled.
	w.add(txt(id))
	w.clock.Advance(time.Hour)
	if v := w.check(id.Key).Verification; v.Status != identity.Success || !v.MissingSince.IsZero() {
		t.Fatalf("restored: %s, missing since %v", v.Status, v.MissingSince)
	}

	// Put back after the last check before the deadline: the check at
	// the deadline sees it.
	w.remove(txt(id))
	w.clock.Advance(time.Hour)
	w.check(id.Key)
	w.clock.Advance(72*time.Hour - 10*time.Minute)
	w.check(id.Key)
	w.add(txt(id))
	w.clock.Advance(10 * time.Minute)
	if v := w.check(id.Key).Verification; v.Status != identity.Success || !v.MissingSince.IsZero() {
		t.Fatalf("put back before the deadline, checked at it: %s, missing since %v", v.Status, v.MissingSince)
	}

	// Removed for good: Failed when the grace period ends.
	w.remove(txt(id))
	w.clock.Advance(time.Hour)
	w.check(id.Key)
	w.clock.Advance(72*time.Hour - time.Second)
	if v := w.check(id.Key).Verification; v.Status != identity.Success {
		t.Fatalf("a second before the grace period ends: %s", v.Status)
	}
	w.clock.Advance(time.Second)
	if v := w.check(id.Key).Verification; v.Status != identity.Failed {
		t.Errorf("grace period over: %s, want Failed", v.Status)
	}
}

func TestEmailLinkExpires(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, err := w.reg.VerifyEmailIdentity(ctx, us, "someone@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if !id.Next.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("email identity due at %v, want its link's deadline", id.Next)
	}
	w.clock.Advance(24 * time.Hour)
	got := w.check(id.Key)
	if got.Verification.Status != identity.Failed || !got.Next.IsZero() {
		t.Errorf("after 24 h: %s, next %v; want Failed and nothing scheduled", got.Verification.Status, got.Next)
	}
	if n := len(w.ns1.Queries()) + len(w.resolver.Queries()); n != 0 {
		t.Errorf("%d DNS queries for an email link", n)
	}
}

// TestStaleResultsDropped: results of a check are not applied to an
// identity deleted or given other records while the check ran.
func TestStaleResultsDropped(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id := w.domain(us, "example.test")
	w.add(txt(id))
	w.add("mail.example.test. MX 10 feedback-smtp.us-east-1.amazonses.com.")

	before, _ := w.store.GetIdentity(ctx, id.Key)
	if _, err := w.reg.SetMailFrom(ctx, us, id.Name, "mail.example.test", ""); err != nil {
		t.Fatal(err)
	}
	w.v.init()
	saved, err := w.v.check(ctx, before) // started before SetMailFrom
	if err != nil || saved != nil {
		t.Fatalf("check of a changed identity = %v, %v; want nothing saved", saved, err)
	}
	cur, _ := w.store.GetIdentity(ctx, id.Key)
	if cur.Verification.Status != identity.Pending || !cur.Next.Equal(t0) {
		t.Errorf("changed identity: %s, next %v; want untouched and still due", cur.Verification.Status, cur.Next)
	}
	if recs := w.checks(id.Key); len(recs) != 0 {
		t.Errorf("%d evidence records of a dropped check", len(recs))
	}

	if _, err := w.reg.Delete(ctx, us, id.Name); err != nil {
		t.Fatal(err)
	}
	if saved, err := w.v.check(ctx, cur); err != nil || saved != nil {
		t.Errorf("check of a deleted identity = %v, %v", saved, err)
	}
	if _, err := w.store.GetIdentity(ctx, id.Key); err == nil {
		t.Error("a check brought a deleted identity back")
	}
}

func TestSchedule(t *testing.T) {
	v := &Verifier{Policies: identity.SESPolicies()}
	v.init()
	pending := &identity.Identity{Kind: 1, Token: "x"}
	pending.Verification.Start(t0)
	tests := []struct {
		elapsed time.Duration
		delay   time.Duration
	}{
		{0, 5 * time.Second},
		{5 * time.Second, 5 * time.Second},
		{10 * time.Second, 10 * time.Second},
		{40 * time.Second, 40 * time.Second},
		{4 * time.Minute, 4 * time.Minute},
		{30 * time.Minute, 5 * time.Minute},
		{59 * time.Minute, 5 * time.Minute},
		{2 * time.Hour, 30 * time.Minute},
		{72*time.Hour - 10*time.Minute, 10 * time.Minute}, // not past the window's end
	}
	for _, tc := range tests {
		now := t0.Add(tc.elapsed)
		if got := v.next(pending, now).Sub(now); got != tc.delay {
			t.Errorf("%v into the window: next check in %v, want %v", tc.elapsed, got, tc.delay)
		}
	}
	verified := pending.Clone()
	verified.Verification.Apply(identity.Result{Outcome: identity.Found, At: t0}, v.Policies.Records)
	if got := v.next(verified, t0); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("verified: next %v, want the hourly recheck", got)
	}
}

func TestEstimate(t *testing.T) {
	w := newWorld(t)
	id := w.domain(us, "example.test")
	w.check(id.Key)
	vis, err := w.v.Estimate(context.Background(), id.Key)
	if err != nil {
		t.Fatal(err)
	}
	// NXDOMAIN with SOA TTL 300 and MINIMUM 60: cached for 60 s.
	if len(vis) != 1 || vis[0].Check != "verification" || vis[0].NegativeTTL != time.Minute ||
		!vis[0].Resolvers.Equal(t0.Add(time.Minute)) || !vis[0].Sesame.Equal(t0.Add(5*time.Second)) {
		t.Errorf("nothing published: %+v", vis)
	}

	// A wrong value with a TTL of an hour: old values linger for an hour.
	w.add(`_amazonses.example.test. 3600 TXT "old"`)
	w.clock.Advance(5 * time.Second)
	w.check(id.Key)
	vis, _ = w.v.Estimate(context.Background(), id.Key)
	if len(vis) != 1 || vis[0].RecordTTL != time.Hour || !vis[0].Resolvers.Equal(w.clock.Now().Add(time.Hour)) {
		t.Errorf("wrong value published: %+v", vis)
	}

	w.add(txt(id))
	w.clock.Advance(5 * time.Second)
	w.check(id.Key)
	if vis, _ := w.v.Estimate(context.Background(), id.Key); len(vis) != 0 {
		t.Errorf("verified, yet estimates %+v", vis)
	}
}
