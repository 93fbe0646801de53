package registry

import (
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/identity"
)

// TestAuthorizeSend: which ARNs authorize which addresses, and for whom.
func TestAuthorizeSend(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	if err := r.PutPolicy(ctx, east, "example.com", "p", policyDoc("Allow", "222222222222", `"ses:SendRawEmail"`), PolicyUpsert); err != nil {
		t.Fatal(err)
	}
	delegate := Scope{Account: "222222222222", Region: "us-east-1"}
	arn := "arn:aws:ses:us-east-1:111111111111:identity/example.com"
	for _, tc := range []struct {
		name           string
		sc             Scope
		arn, addr, act string
		kind           Kind // 0: authorized
		owner          Scope
		msg            string
	}{
		{name: "allowed", sc: delegate, arn: arn, addr: "a@example.com", act: "ses:SendRawEmail", owner: east},
		{name: "subdomain covered by its parent", sc: delegate, arn: arn, addr: "a@mail.example.com", act: "ses:SendRawEmail", owner: east},
		{name: "ARN in upper case", sc: delegate, arn: "arn:aws:ses:us-east-1:111111111111:identity/EXAMPLE.com", addr: "a@example.com", act: "ses:SendRawEmail", owner: east},
		{name: "another action", sc: delegate, arn: arn, addr: "a@example.com", act: "ses:SendEmail", kind: AccessDenied,
			msg: "User `arn:aws:iam::222222222222:root' is not authorized to perform `ses:SendEmail' on resource `" + arn + "'"},
		{name: "another account", sc: Scope{Account: "333333333333", Region: "us-east-1"}, arn: arn, addr: "a@example.com", act: "ses:SendRawEmail", kind: AccessDenied},
		{name: "unknown identity", sc: delegate, arn: "arn:aws:ses:us-east-1:111111111111:identity/other.com", addr: "a@other.com", act: "ses:SendRawEmail", kind: AccessDenied},
		{name: "own account needs no policy", sc: east, arn: arn, addr: "a@example.com", act: "ses:SendEmail", owner: east},
		{name: "not covered", sc: delegate, arn: arn, addr: "a@example.org", act: "ses:SendRawEmail", kind: Invalid, msg: "does not cover a@example.org"},
		{name: "look-alike domain", sc: delegate, arn: arn, addr: "a@badexample.com", act: "ses:SendRawEmail", kind: Invalid},
		{name: "other region", sc: Scope{Account: "222222222222", Region: "eu-west-1"}, arn: arn, addr: "a@example.com", act: "ses:SendRawEmail", kind: Invalid, msg: "names an identity in us-east-1"},
		{name: "not an identity", sc: delegate, arn: "arn:aws:ses:us-east-1:111111111111:configuration-set/x", addr: "a@example.com", act: "ses:SendRawEmail", kind: Invalid},
		{name: "not an ARN", sc: delegate, arn: "example.com", addr: "a@example.com", act: "ses:SendRawEmail", kind: Invalid, msg: "SourceArn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner, err := r.AuthorizeSend(ctx, tc.sc, "SourceArn", tc.arn, tc.addr, tc.act)
			if tc.kind == 0 {
				if err != nil || owner != tc.owner {
					t.Fatalf("got %v, %v; want %v", owner, err, tc.owner)
				}
				return
			}
			if !IsKind(err, tc.kind) {
				t.Fatalf("got %v, %v; want a %v error", owner, err, tc.kind)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
		})
	}
}

// TestEnvelopeDomain: the most specific identity with a MAIL FROM domain
// decides, by its verdict and its BehaviorOnMXFailure.
func TestEnvelopeDomain(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	for _, d := range []string{"example.com", "sub.example.com"} {
		if _, err := r.VerifyDomainIdentity(ctx, east, d); err != nil {
			t.Fatal(err)
		}
	}
	set := func(sc Scope, name string, f func(*identity.Identity)) {
		t.Helper()
		if _, err := r.Store.UpdateIdentity(ctx, sc.key(name), func(cur *identity.Identity) (*identity.Identity, error) {
			f(cur)
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(sc Scope, addr, domain string, kind Kind) {
		t.Helper()
		got, err := r.EnvelopeDomain(ctx, sc, addr)
		if kind != 0 {
			if !IsKind(err, kind) {
				t.Errorf("%s: got %q, %v; want a %v error", addr, got, err, kind)
			}
			return
		}
		if err != nil || got != domain {
			t.Errorf("%s: got %q, %v; want %q", addr, got, err, domain)
		}
	}
	want(east, "a@example.com", "amazonses.com", 0)
	want(west, "a@example.com", "eu-west-1.amazonses.com", 0)
	set(east, "example.com", func(id *identity.Identity) {
		id.MailFrom.Domain, id.MailFrom.Check.Status = "mail.example.com", identity.Pending
	})
	want(east, "a@example.com", "amazonses.com", 0) // UseDefaultValue
	set(east, "example.com", func(id *identity.Identity) { id.MailFrom.Behavior = identity.RejectMessage })
	want(east, "a@example.com", "", MailFromNotVerified)
	// sub.example.com has no MAIL FROM domain: its parent's decides.
	want(east, "a@deep.sub.example.com", "", MailFromNotVerified)
	// One of its own, verified, wins over the parent's.
	set(east, "sub.example.com", func(id *identity.Identity) {
		id.MailFrom.Domain, id.MailFrom.Check.Status = "bounce.sub.example.com", identity.Success
	})
	want(east, "a@deep.sub.example.com", "bounce.sub.example.com", 0)
	set(east, "example.com", func(id *identity.Identity) { id.MailFrom.Check.Status = identity.Success })
	want(east, "a@example.com", "mail.example.com", 0)
	// An operator's own SPF domain is the default in every region.
	r.DNS.SPFInclude = "spf.mail.example.net"
	want(west, "a@example.com", "spf.mail.example.net", 0)
}
