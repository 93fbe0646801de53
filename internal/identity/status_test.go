package identity

import (
	"encoding/base64"
	"regexp"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/names"
)

var (
	t0   = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	dns  = Policy{Window: 72 * time.Hour, Grace: 72 * time.Hour}
	mxp  = Policy{Window: 72 * time.Hour}
	link = Policy{Window: 24 * time.Hour}
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestApply(t *testing.T) {
	type step struct {
		out    Outcome
		after  time.Duration
		want   Status
		change bool
	}
	tests := []struct {
		name   string
		policy Policy
		steps  []step
	}{
		{"found at once", dns, []step{{Found, time.Second, Success, true}}},
		{"absent then found", dns, []step{
			{Absent, time.Second, Pending, false},
			{Absent, time.Hour, Pending, false},
			{Found, 2 * time.Hour, Success, true},
		}},
		{"absent for the whole window fails", dns, []step{
			{Absent, time.Hour, Pending, false},
			{Absent, 72*time.Hour - time.Second, Pending, false},
			{Absent, 72 * time.Hour, Failed, true},
			{Found, 73 * time.Hour, Failed, false}, // checking has stopped: the user must start again
		}},
		{"server failure is temporary, not failed", dns, []step{
			{TempFail, time.Second, TemporaryFailure, true},
			{TempFail, time.Hour, TemporaryFailure, false},
			{Absent, 2 * time.Hour, Pending, true},
			{TempFail, 3 * time.Hour, TemporaryFailure, true},
			{Found, 4 * time.Hour, Success, true},
		}},
		{"temporary failure past the window fails", dns, []step{
			{TempFail, time.Second, TemporaryFailure, true},
			{TempFail, 72 * time.Hour, Failed, true},
		}},
		{"verified record removed: grace, then failed", dns, []step{
			{Found, time.Second, Success, true},
			{Absent, time.Hour, Success, false},
			{Absent, 72*time.Hour + time.Hour - time.Second, Success, false},
			{Absent, 73 * time.Hour, Failed, true},
		}},
		{"verified record restored within grace", dns, []step{
			{Found, time.Second, Success, true},
			{Absent, time.Hour, Success, false},
			{Found, 2 * time.Hour, Success, false},
			{Absent, 100 * time.Hour, Success, false}, // the grace period starts again
		}},
		{"verified and a failing server never demotes", dns, []step{
			{Found, time.Second, Success, true},
			{TempFail, 1000 * time.Hour, Success, false},
		}},
		{"mail from MX removed fails at once", mxp, []step{
			{Found, time.Second, Success, true},
			{Absent, time.Hour, Failed, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Check
			c.Start(t0)
			if c.Status != Pending {
				t.Fatalf("after Start: %s, want Pending", c.Status)
			}
			for i, s := range tt.steps {
				got := c.Apply(Result{Outcome: s.out, At: at(s.after), ErrorType: HostNotFound}, tt.policy)
				if c.Status != s.want || got != s.change {
					t.Fatalf("step %d (%v at +%v): status %s changed=%v, want %s changed=%v", i, s.out, s.after, c.Status, got, s.want, s.change)
				}
				if c.Status == Success && s.out == Found && !c.LastSuccess.Equal(at(s.after)) {
					t.Errorf("step %d: LastSuccess = %v", i, c.LastSuccess)
				}
				if c.Active() && !c.LastChecked.Equal(at(s.after)) {
					t.Errorf("step %d: LastChecked = %v", i, c.LastChecked)
				}
			}
		})
	}
}

func TestNotStartedIgnoresResults(t *testing.T) {
	var c Check
	if c.Apply(Result{Outcome: Found, At: t0}, dns) || c.Status != "" || c.Active() {
		t.Fatalf("a check that was never started changed: %+v", c)
	}
}

func TestStartAgain(t *testing.T) {
	var c Check
	c.Start(t0)
	c.Apply(Result{Outcome: Absent, At: at(72 * time.Hour)}, dns)
	if c.Status != Failed {
		t.Fatalf("status %s, want Failed", c.Status)
	}
	c.Start(at(80 * time.Hour))
	if c.Status != Pending || !c.Started.Equal(at(80*time.Hour)) {
		t.Fatalf("restart: %+v", c)
	}
	if c.Apply(Result{Outcome: Absent, At: at(100 * time.Hour)}, dns); c.Status != Pending {
		t.Fatalf("new window not used: %s", c.Status)
	}
	c.Apply(Result{Outcome: Found, At: at(101 * time.Hour)}, dns)
	c.Start(at(102 * time.Hour))
	if c.Status != Success {
		t.Fatalf("starting a verified check again demoted it: %s", c.Status)
	}
}

func TestExpire(t *testing.T) {
	var c Check
	c.Start(t0)
	if c.Expire(at(24*time.Hour-time.Nanosecond), link) || c.Status != Pending {
		t.Fatalf("expired early: %s", c.Status)
	}
	if d := c.Deadline(link); !d.Equal(at(24 * time.Hour)) {
		t.Fatalf("deadline %v", d)
	}
	if !c.Expire(at(24*time.Hour), link) || c.Status != Failed {
		t.Fatalf("not expired at 24h: %s", c.Status)
	}
	var v Check
	v.Start(t0)
	v.Apply(Result{Outcome: Found, At: at(time.Hour)}, dns)
	if v.Expire(at(1000*time.Hour), dns) {
		t.Fatal("a verified record that is present expired")
	}
	v.Apply(Result{Outcome: Absent, At: at(1001 * time.Hour)}, dns)
	if !v.Expire(at(1001*time.Hour+72*time.Hour), dns) {
		t.Fatal("revocation grace did not expire")
	}
}

func TestStatusV2(t *testing.T) {
	for s, want := range map[Status]string{Pending: "PENDING", Success: "SUCCESS", Failed: "FAILED", TemporaryFailure: "TEMPORARY_FAILURE", NotStarted: "NOT_STARTED", "": "NOT_STARTED"} {
		if got := s.V2(); got != want {
			t.Errorf("%q.V2() = %q, want %q", s, got, want)
		}
	}
}

func TestIdentityStatus(t *testing.T) {
	d := &Identity{Kind: names.KindDomain}
	d.Verification.Start(t0)
	d.DKIM.Check.Start(t0)
	if d.Status() != Pending || d.VerifiedForSending() {
		t.Fatalf("new domain: %s", d.Status())
	}
	d.DKIM.Check.Apply(Result{Outcome: Found, At: at(time.Minute)}, dns)
	if d.Status() != Success || !d.VerifiedForSending() {
		t.Fatalf("DKIM success must verify the domain: %s", d.Status())
	}
	e := &Identity{Kind: names.KindEmail}
	e.DKIM.Check.Status = Success // an address never verifies through DKIM
	e.Verification.Start(t0)
	if e.Status() != Pending || e.VerifiedForSending() {
		t.Fatalf("email: %s", e.Status())
	}
}

func TestTokens(t *testing.T) {
	tok := NewVerificationToken()
	if len(tok) != 44 || tok[43] != '=' {
		t.Fatalf("verification token %q: want 44 base64 characters ending in '='", tok)
	}
	if b, err := base64.StdEncoding.DecodeString(tok); err != nil || len(b) != 32 {
		t.Fatalf("verification token %q: %v", tok, err)
	}
	re := regexp.MustCompile(`^[a-z2-7]{32}$`)
	seen := map[string]bool{}
	for _, k := range NewDKIMTokens() {
		if !re.MatchString(k) || seen[k] {
			t.Fatalf("DKIM token %q: want 32 distinct lower-case base32 characters", k)
		}
		seen[k] = true
	}
	if NewVerificationToken() == tok {
		t.Fatal("two tokens are equal")
	}
}

func TestClone(t *testing.T) {
	a := &Identity{DKIM: DKIM{Tokens: []string{"a", "b", "c"}}, Verification: Check{SOA: &SOA{SerialNumber: 1}}}
	b := a.Clone()
	b.DKIM.Tokens[0] = "x"
	b.Verification.SOA.SerialNumber = 2
	if a.DKIM.Tokens[0] != "a" || a.Verification.SOA.SerialNumber != 1 {
		t.Fatal("Clone shares memory")
	}
}
