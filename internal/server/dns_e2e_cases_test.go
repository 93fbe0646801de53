package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/verify"
)

// The cases of the Knot end-to-end test beside the plain one
// (TestKnotEndToEnd): each runs its own Knot name servers for example.test
// on loopback addresses of its own (127.0.5.x), so that they run in
// parallel, and its own Sesame. Records are published with RFC 2136
// updates; statuses are read through the SES API, the reasons through the
// Sesame extension (GET .../sesame/checks), as `sesame identities show`
// prints them.

// exampleZone is example.test served by ns1, ns2, ... at ips, with extra
// zone-file lines.
func exampleZone(ips []string, extra ...string) string {
	var b strings.Builder
	b.WriteString("$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n")
	for i, ip := range ips {
		fmt.Fprintf(&b, "@ NS ns%d\nns%d A %s\n", i+1, i+1, ip)
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// startVerifying starts Sesame with its verifier finding zones through
// primary (Knot is authoritative, not recursive: the verifier follows its
// referrals) and asking the name servers on primary's port: a new identity
// is checked within a second, a verified one again every second.
func startVerifying(t *testing.T, primary *knottest.Server, pol *identity.Policies) *sestest.Server {
	t.Helper()
	return sestest.New(t, sestest.Options{Policies: pol, Verify: server.VerifyOptions{
		Run: true, Resolver: primary.Addr, AuthPort: primary.Port, RateLimit: 1000, Recheck: time.Second,
		Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
	}})
}

// verifyDomain registers name in a's region through v1 VerifyDomainIdentity
// and returns its token.
func verifyDomain(t *testing.T, c *ses.Client, name string) string {
	t.Helper()
	out, err := c.VerifyDomainIdentity(context.Background(), &ses.VerifyDomainIdentityInput{Domain: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VerificationToken)
}

// report reads the Sesame extension GET .../sesame/checks: the evidence,
// without asking for a check.
func report(t *testing.T, srv *sestest.Server, a *sestest.Account, region, name string) *verify.Report {
	t.Helper()
	req := srv.NewRequest("GET", "/v2/email/identities/"+name+"/sesame/checks", nil)
	if err := sestest.Sign(req, nil, a.AWS(), "ses", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, body := srv.Do(req)
	if resp.StatusCode != 200 {
		t.Fatalf("checks of %s in %s: %d %s", name, region, resp.StatusCode, body)
	}
	var rep verify.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// v1Attrs reads v1 GetIdentityVerificationAttributes of name.
func v1Attrs(t *testing.T, c *ses.Client, name string) (status, token string) {
	t.Helper()
	out, err := c.GetIdentityVerificationAttributes(context.Background(), &ses.GetIdentityVerificationAttributesInput{Identities: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	a := out.VerificationAttributes[name]
	return string(a.VerificationStatus), aws.ToString(a.VerificationToken)
}

// v1MailFrom reads v1 GetIdentityMailFromDomainAttributes of name.
func v1MailFrom(t *testing.T, c *ses.Client, name string) string {
	t.Helper()
	out, err := c.GetIdentityMailFromDomainAttributes(context.Background(), &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.MailFromDomainAttributes[name].MailFromDomainStatus)
}

// getV2 reads v2 GetEmailIdentity of name.
func getV2(t *testing.T, c *sesv2.Client, name string) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	out, err := c.GetEmailIdentity(context.Background(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually polls cond every 100 ms until it holds, or fails the test
// after within with what cond last said.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, within, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitChecked waits until the verification check of name has run and
// says why it is what it is (ErrorType errType), and returns the report.
func waitChecked(t *testing.T, srv *sestest.Server, a *sestest.Account, region, name, errType string, within time.Duration) *verify.Report {
	t.Helper()
	var rep *verify.Report
	eventually(t, within, name+" checked with "+errType, func() (bool, string) {
		rep = report(t, srv, a, region, name)
		c := rep.Checks["verification"]
		return c.LastChecked != nil && c.ErrorType == errType, fmt.Sprintf("%+v", c)
	})
	return rep
}

// staysVerified watches n more re-checks of a verified domain (every
// second) and fails if one demotes it or starts the revocation warning:
// what one stale or failing name server must never do. It returns the
// report after the last.
func staysVerified(t *testing.T, srv *sestest.Server, a *sestest.Account, v2 *sesv2.Client, name string, n int) *verify.Report {
	t.Helper()
	var last time.Time
	seen := -1
	deadline := time.Now().Add(time.Duration(n)*3*time.Second + 3*time.Second)
	for seen < n {
		out := getV2(t, v2, name)
		rep := report(t, srv, a, "us-east-1", name)
		c := rep.Checks["verification"]
		if out.VerificationStatus != "SUCCESS" || c.Status != "Success" || c.MissingSince != nil {
			t.Fatalf("%s demoted after %d re-checks: v2 %s, check %+v", name, seen, out.VerificationStatus, c)
		}
		if at := aws.ToTime(out.VerificationInfo.LastCheckedTimestamp); at.After(last) {
			last = at
			if seen++; seen == n {
				return rep
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: only %d re-checks of %d within the deadline", name, seen, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func has(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestKnotTwoAccounts: two accounts verify example.test in one region; the
// two tokens share _amazonses.example.test as two values of one TXT RRset,
// and each identity looks only for its own.
func TestKnotTwoAccounts(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.1"}
	knot := knottest.Start(t, ips[0], "example.test", exampleZone(ips))
	srv := startVerifying(t, knot, nil)
	ops, mkt := srv.NewAccount("ops"), srv.NewAccount("marketing")
	opsV1, mktV1 := ops.V1("us-east-1"), mkt.V1("us-east-1")

	opsTok := verifyDomain(t, opsV1, "example.test")
	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, opsTok))
	published := time.Now()
	mktTok := verifyDomain(t, mktV1, "example.test")
	if mktTok == opsTok {
		t.Fatal("two accounts were given the same token")
	}

	// The first check of marketing's identity finds ops's value alone and
	// says so.
	rep := waitChecked(t, srv, mkt, "us-east-1", "example.test", "INVALID_VALUE", 10*time.Second)
	if c := rep.Checks["verification"]; c.Status != "Pending" || !has(c.Detail, opsTok, mktTok) {
		t.Errorf("marketing with only ops's value: %+v", c)
	}
	if out := getV2(t, mkt.V2("us-east-1"), "example.test"); out.VerificationStatus != "PENDING" || out.VerificationInfo.ErrorType != "INVALID_VALUE" {
		t.Errorf("marketing v2: %s %+v", out.VerificationStatus, out.VerificationInfo)
	}

	// The second value beside the first: both verified.
	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, mktTok))
	mktPublished := time.Now()
	waitStatus(t, ops.V2("us-east-1"), "example.test", "SUCCESS", 10*time.Second)
	t.Logf("ops verified %v after publication", time.Since(published).Round(time.Millisecond))
	waitStatus(t, mkt.V2("us-east-1"), "example.test", "SUCCESS", 10*time.Second)
	t.Logf("marketing verified %v after publication", time.Since(mktPublished).Round(time.Millisecond))
	for _, c := range []struct {
		v1  *ses.Client
		tok string
	}{{opsV1, opsTok}, {mktV1, mktTok}} {
		if st, tok := v1Attrs(t, c.v1, "example.test"); st != "Success" || tok != c.tok {
			t.Errorf("v1: %s with token %s, want Success with %s", st, tok, c.tok)
		}
	}
	// The evidence shows the RRset as served: both values.
	var answer []string
	for _, r := range report(t, srv, mkt, "us-east-1", "example.test").Timeline {
		if r.Check == "verification" && r.Outcome == "match" {
			answer = r.Answer
			break
		}
	}
	if a := strings.Join(answer, "\n"); !has(a, opsTok, mktTok) {
		t.Errorf("the matching answer does not show both values:\n%s", a)
	}
}

// TestKnotApexTXT: a DNS provider that forbids underscores in names; the
// token is published at the domain itself, beside its other TXT records.
func TestKnotApexTXT(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.11"}
	knot := knottest.Start(t, ips[0], "example.test", exampleZone(ips, `@ TXT "v=spf1 include:_spf.example.net ~all"`))
	srv := startVerifying(t, knot, nil)
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	tok := verifyDomain(t, v1, "example.test")

	// Neither place holds it yet: the evidence names both.
	rep := waitChecked(t, srv, a, "us-east-1", "example.test", "HOST_NOT_FOUND", 5*time.Second)
	if c := rep.Checks["verification"]; c.Status != "Pending" || !has(c.Detail, "_amazonses.example.test does not exist", "example.test TXT does not hold the token either") {
		t.Errorf("before publication: %+v", c)
	}

	knot.Update(fmt.Sprintf(`add example.test. 60 TXT "%s"`, tok))
	published := time.Now()
	waitStatus(t, v2, "example.test", "SUCCESS", 10*time.Second)
	t.Logf("verified %v after publication", time.Since(published).Round(time.Millisecond))
	if st, _ := v1Attrs(t, v1, "example.test"); st != "Success" {
		t.Errorf("v1 status %s", st)
	}
	if c := report(t, srv, a, "us-east-1", "example.test").Checks["verification"]; !has(c.Detail, fmt.Sprintf(`example.test. TXT "%s" found on ns1.example.test`, tok)) || strings.Contains(c.Detail, "_amazonses") {
		t.Errorf("found at the apex: %+v", c)
	}
}

// TestKnotTwoRegions: one account verifies example.test in two regions.
// One MAIL FROM domain serves one region: with the first region's MX,
// the second says so; with both regions' MX, neither verifies (SES wants
// its MX to be the only one); with a MAIL FROM domain each, both do.
func TestKnotTwoRegions(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.21"}
	knot := knottest.Start(t, ips[0], "example.test", exampleZone(ips))
	srv := startVerifying(t, knot, nil)
	a := srv.NewAccount("ops")
	regions := []string{"us-east-1", "eu-west-1"}
	ctx := context.Background()
	lines := []string{`add mail.example.test. 60 TXT "v=spf1 include:amazonses.com ~all"`, `add mail.example.test. 60 MX 10 feedback-smtp.us-east-1.amazonses.com.`}
	for _, r := range regions {
		tok := verifyDomain(t, a.V1(r), "example.test")
		if _, err := a.V1(r).SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail.example.test")}); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, tok))
	}
	// Both tokens, and the MX of the first region only.
	knot.Update(lines...)
	published := time.Now()
	for _, r := range regions {
		waitStatus(t, a.V2(r), "example.test", "SUCCESS", 10*time.Second)
	}
	t.Logf("both regions verified %v after publication", time.Since(published).Round(time.Millisecond))
	mailFrom := func(r string) (string, string) {
		out := getV2(t, a.V2(r), "example.test")
		return string(out.MailFromAttributes.MailFromDomainStatus), v1MailFrom(t, a.V1(r), "example.test")
	}
	eventually(t, 10*time.Second, "us-east-1 MAIL FROM verified", func() (bool, string) {
		v2, v1 := mailFrom("us-east-1")
		return v2 == "SUCCESS" && v1 == "Success", v2 + " " + v1
	})
	// eu-west-1 sees the MX of us-east-1, not its own, and says so.
	eventually(t, 10*time.Second, "eu-west-1 MAIL FROM checked", func() (bool, string) {
		c := report(t, srv, a, "eu-west-1", "example.test").Checks["mail-from"]
		return c.LastChecked != nil && c.ErrorType == "INVALID_VALUE", fmt.Sprintf("%+v", c)
	})
	if c := report(t, srv, a, "eu-west-1", "example.test").Checks["mail-from"]; c.Status != "Pending" ||
		!has(c.Detail, "10 feedback-smtp.us-east-1.amazonses.com.", "not 10 feedback-smtp.eu-west-1.amazonses.com.") {
		t.Errorf("eu-west-1 MAIL FROM with the MX of us-east-1 only: %+v", c)
	}
	if v2, v1 := mailFrom("eu-west-1"); v2 != "PENDING" || v1 != "Pending" {
		t.Errorf("eu-west-1 MAIL FROM %s / %s, want Pending", v2, v1)
	}

	// The second region's MX beside the first: SES requires the MAIL FROM
	// MX to be the only one (records.MatchMX), so neither region's MAIL
	// FROM domain is verified with both there; us-east-1's fails at once,
	// as a removed MX does.
	knot.Update(`add mail.example.test. 60 MX 10 feedback-smtp.eu-west-1.amazonses.com.`)
	published = time.Now()
	for _, r := range regions { // each region's verifier re-checks on its own schedule
		eventually(t, 10*time.Second, r+" MAIL FROM re-checked with both MX", func() (bool, string) {
			c := report(t, srv, a, r, "example.test").Checks["mail-from"]
			return c.LastChecked != nil && c.LastChecked.After(published), fmt.Sprintf("%+v", c)
		})
	}
	for _, r := range regions {
		c := report(t, srv, a, r, "example.test").Checks["mail-from"]
		if c.Status == "Success" || c.ErrorType != "INVALID_VALUE" || !has(c.Detail, "the only one") {
			t.Errorf("%s MAIL FROM with two regions' MX: %+v", r, c)
		}
	}
	// One MAIL FROM domain per region, as the multi-region guide has it.
	knot.Update(`delete mail.example.test. 60 MX 10 feedback-smtp.eu-west-1.amazonses.com.`,
		`add mail-eu.example.test. 60 MX 10 feedback-smtp.eu-west-1.amazonses.com.`,
		`add mail-eu.example.test. 60 TXT "v=spf1 include:amazonses.com ~all"`)
	if _, err := a.V1("eu-west-1").SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail-eu.example.test")}); err != nil {
		t.Fatal(err)
	}
	published = time.Now()
	eventually(t, 10*time.Second, "eu-west-1 MAIL FROM verified", func() (bool, string) {
		v2, v1 := mailFrom("eu-west-1")
		return v2 == "SUCCESS" && v1 == "Success", v2 + " " + v1
	})
	t.Logf("eu-west-1 MAIL FROM verified %v after publication", time.Since(published).Round(time.Millisecond))
	if _, err := a.V1("us-east-1").SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.test"), MailFromDomain: aws.String("mail.example.test")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "us-east-1 MAIL FROM verified again", func() (bool, string) {
		v2, v1 := mailFrom("us-east-1")
		return v2 == "SUCCESS" && v1 == "Success", v2 + " " + v1
	})
	// The SPF record is checked and reported with MAIL FROM.
	for _, r := range regions {
		if c := report(t, srv, a, r, "example.test").Checks["mail-from"]; !has(c.Detail, `SPF: mail`, `.example.test. TXT "v=spf1 include:amazonses.com ~all" found on ns1.example.test`) {
			t.Errorf("%s SPF not reported: %+v", r, c)
		}
	}
}

// TestKnotStaleServer: example.test has two name servers; ns2 is a
// secondary that has not transferred the zone since the token was
// published (a Knot serving serial 1, which no update reaches). The
// identity is verified on ns1, ns2 is reported stale, and re-checks while
// ns2 stays behind never demote it.
func TestKnotStaleServer(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.31", "127.0.5.32"}
	zone := exampleZone(ips)
	knot := knottest.Start(t, ips[0], "example.test", zone)
	secondary := knottest.StartWith(t, ips[1], "example.test", zone, knottest.Options{Port: knot.Port})
	srv := startVerifying(t, knot, nil)
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	tok := verifyDomain(t, v1, "example.test")

	add := fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, tok)
	knot.Update(add) // serial 2, on ns1 only
	published := time.Now()
	waitStatus(t, v2, "example.test", "SUCCESS", 10*time.Second)
	t.Logf("verified %v after publication", time.Since(published).Round(time.Millisecond))
	// A check that was under way while Knot applied the update may have
	// read ns1's SOA before it and its TXT record after: the next check
	// sees serial 2 throughout.
	var rep *verify.Report
	eventually(t, 10*time.Second, "a check that sees ns1's serial 2 and ns2 behind", func() (bool, string) {
		out := getV2(t, v2, "example.test")
		rep = report(t, srv, a, "us-east-1", "example.test")
		soa, c := out.VerificationInfo.SOARecord, rep.Checks["verification"]
		return soa != nil && soa.SerialNumber == 2 && aws.ToString(soa.PrimaryNameServer) == "ns1.example.test" &&
				has(c.Detail, "found on ns1.example.test (127.0.5.31)", "ns2.example.test (127.0.5.32) does not serve it yet", "SOA serial 1, behind 2"),
			fmt.Sprintf("SOA %+v, detail %q", soa, c.Detail)
	})
	staleNoted := false
	for _, r := range rep.Timeline {
		staleNoted = staleNoted || r.Check == "verification" && strings.HasPrefix(r.Server, "ns2.example.test") && r.Outcome == "NXDomain" && strings.HasPrefix(r.Detail, "stale:")
	}
	if !staleNoted {
		t.Errorf("no stale NXDomain record of ns2 in the timeline: %+v", rep.Timeline)
	}

	// ns2 still says NXDOMAIN at every re-check: the identity stays verified.
	staysVerified(t, srv, a, v2, "example.test", 2)
	if st, _ := v1Attrs(t, v1, "example.test"); st != "Success" {
		t.Errorf("v1 status %s while ns2 is stale", st)
	}

	// ns2 catches up: nothing is stale any more.
	secondary.Update(add)
	eventually(t, 5*time.Second, "ns2 no longer stale", func() (bool, string) {
		c := report(t, srv, a, "us-east-1", "example.test").Checks["verification"]
		return c.Status == "Success" && has(c.Detail, "found on ns1.example.test (127.0.5.31), ns2.example.test (127.0.5.32).") && !strings.Contains(c.Detail, "stale"), c.Detail
	})
}

// TestKnotServFail: ns2 of example.test is a Knot that failed to load the
// zone and answers SERVFAIL for every name in it. With ns1 answering, the
// identity is Pending, then verified, and stays verified at every re-check;
// down.example.test, delegated to ns2 alone, is TemporaryFailure, never
// Failed. The evidence names the failing server each time.
func TestKnotServFail(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.41", "127.0.5.42"}
	knot := knottest.Start(t, ips[0], "example.test", exampleZone(ips, "down NS ns2.example.test."))
	knottest.StartWith(t, ips[1], "example.test", "", knottest.Options{Port: knot.Port, Unloaded: true})
	srv := startVerifying(t, knot, nil)
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	tok := verifyDomain(t, v1, "example.test")
	verifyDomain(t, v1, "down.example.test")

	// Before publication: ns1 says NXDOMAIN, so the record is not there:
	// Pending, not TemporaryFailure; ns2's SERVFAIL is noted.
	rep := waitChecked(t, srv, a, "us-east-1", "example.test", "HOST_NOT_FOUND", 5*time.Second)
	if c := rep.Checks["verification"]; c.Status != "Pending" || !has(c.Detail, "ns2.example.test (127.0.5.42) did not answer (ns2.example.test SERVFAIL)") {
		t.Errorf("before publication: %+v", c)
	}
	if out := getV2(t, v2, "example.test"); out.VerificationStatus != "PENDING" {
		t.Errorf("before publication: v2 %s", out.VerificationStatus)
	}

	// down.example.test: no server answers, so nothing is known.
	out := waitStatus(t, v2, "down.example.test", "TEMPORARY_FAILURE", 5*time.Second)
	if out.VerificationInfo.ErrorType != "DNS_SERVER_ERROR" {
		t.Errorf("down.example.test ErrorType %q, want DNS_SERVER_ERROR", out.VerificationInfo.ErrorType)
	}
	if c := report(t, srv, a, "us-east-1", "down.example.test").Checks["verification"]; !has(c.Detail, "No name server of down.example.test answered", "ns2.example.test SERVFAIL") {
		t.Errorf("down.example.test: %+v", c)
	}
	firstDown := aws.ToTime(out.VerificationInfo.LastCheckedTimestamp)
	if st, _ := v1Attrs(t, v1, "down.example.test"); st != "TemporaryFailure" {
		t.Errorf("down.example.test v1 status %s", st)
	}

	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, tok))
	published := time.Now()
	waitStatus(t, v2, "example.test", "SUCCESS", 10*time.Second)
	t.Logf("verified %v after publication", time.Since(published).Round(time.Millisecond))

	// ns2 keeps failing at every re-check: the identity stays verified,
	// and the evidence says ns2 did not answer.
	rep = staysVerified(t, srv, a, v2, "example.test", 2)
	if c := rep.Checks["verification"]; !has(c.Detail, "found on ns1.example.test (127.0.5.41)", "ns2.example.test (127.0.5.42) did not answer (ns2.example.test SERVFAIL)") {
		t.Errorf("verified with ns2 failing: %+v", c)
	}
	failNoted := false
	for _, r := range rep.Timeline {
		failNoted = failNoted || r.Check == "verification" && strings.HasPrefix(r.Server, "ns2.example.test") && r.Outcome == "ServFail"
	}
	if !failNoted {
		t.Errorf("no ServFail record of ns2 in the timeline: %+v", rep.Timeline)
	}
	if st, _ := v1Attrs(t, v1, "example.test"); st != "Success" {
		t.Errorf("v1 status %s while ns2 fails", st)
	}
	// Re-checked since (5 s after its first check), down.example.test is
	// still only TemporaryFailure.
	eventually(t, 5*time.Second, "down.example.test re-checked", func() (bool, string) {
		out := getV2(t, v2, "down.example.test")
		return aws.ToTime(out.VerificationInfo.LastCheckedTimestamp).After(firstDown), fmt.Sprintf("%+v", out.VerificationInfo)
	})
	if out := getV2(t, v2, "down.example.test"); out.VerificationStatus != "TEMPORARY_FAILURE" || out.VerificationInfo.ErrorType != "DNS_SERVER_ERROR" {
		t.Errorf("down.example.test re-checked: %s %+v", out.VerificationStatus, out.VerificationInfo)
	}
}

// TestKnotRecordRemoved: the verification TXT record of a verified domain
// is deleted. SES warns and revokes after 72 hours; here the grace is 2
// seconds: the identity stays verified with the warning (MissingSince,
// the deadline, the reason), then is Failed.
func TestKnotRecordRemoved(t *testing.T) {
	t.Parallel()
	ips := []string{"127.0.5.51"}
	knot := knottest.Start(t, ips[0], "example.test", exampleZone(ips))
	pol := identity.SESPolicies()
	pol.Records.Grace = 2 * time.Second
	srv := startVerifying(t, knot, &pol)
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")
	tok := verifyDomain(t, v1, "example.test")
	knot.Update(fmt.Sprintf(`add _amazonses.example.test. 60 TXT "%s"`, tok))
	waitStatus(t, v2, "example.test", "SUCCESS", 10*time.Second)

	knot.Update(`delete _amazonses.example.test. TXT`)
	removed := time.Now()
	var warned verify.CheckState
	eventually(t, 5*time.Second, "revocation warning", func() (bool, string) {
		warned = report(t, srv, a, "us-east-1", "example.test").Checks["verification"]
		return warned.MissingSince != nil, fmt.Sprintf("%+v", warned)
	})
	if warned.Status != "Success" || warned.ErrorType != "HOST_NOT_FOUND" || !has(warned.Detail, "_amazonses.example.test does not exist") ||
		warned.Deadline == nil || !warned.Deadline.Equal(warned.MissingSince.Add(pol.Records.Grace)) {
		t.Errorf("during the grace period: %+v", warned)
	}
	if out := getV2(t, v2, "example.test"); out.VerificationStatus != "SUCCESS" || out.VerificationInfo.ErrorType != "HOST_NOT_FOUND" {
		t.Errorf("during the grace period, v2: %s %+v", out.VerificationStatus, out.VerificationInfo)
	}

	out := waitStatus(t, v2, "example.test", "FAILED", 10*time.Second)
	t.Logf("Failed %v after the removal", time.Since(removed).Round(time.Millisecond))
	if time.Now().Before(warned.MissingSince.Add(pol.Records.Grace)) {
		t.Errorf("Failed before the grace period ended at %v", warned.Deadline)
	}
	if aws.ToTime(out.VerificationInfo.LastSuccessTimestamp).IsZero() {
		t.Errorf("the last success is forgotten: %+v", out.VerificationInfo)
	}
	if st, _ := v1Attrs(t, v1, "example.test"); st != "Failed" {
		t.Errorf("v1 status %s", st)
	}
}
