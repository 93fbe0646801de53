package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/sestest"
)

// verificationAttrs is GetIdentityVerificationAttributes as a plain map.
func verificationAttrs(t *testing.T, c *ses.Client, ids ...string) map[string]types.IdentityVerificationAttributes {
	t.Helper()
	out := try(c.GetIdentityVerificationAttributes(t.Context(), &ses.GetIdentityVerificationAttributesInput{Identities: ids})).must(t)
	return out.VerificationAttributes
}

func dkimAttrs(t *testing.T, c *ses.Client, ids ...string) map[string]types.IdentityDkimAttributes {
	t.Helper()
	out := try(c.GetIdentityDkimAttributes(t.Context(), &ses.GetIdentityDkimAttributesInput{Identities: ids})).must(t)
	return out.DkimAttributes
}

func mailFromAttrs(t *testing.T, c *ses.Client, ids ...string) map[string]types.IdentityMailFromDomainAttributes {
	t.Helper()
	out := try(c.GetIdentityMailFromDomainAttributes(t.Context(), &ses.GetIdentityMailFromDomainAttributesInput{Identities: ids})).must(t)
	return out.MailFromDomainAttributes
}

// listAll lists every identity of a type with ListIdentities.
func listAll(t *testing.T, c *ses.Client, typ types.IdentityType) []string {
	t.Helper()
	var all []string
	p := ses.NewListIdentitiesPaginator(c, &ses.ListIdentitiesInput{IdentityType: typ})
	for p.HasMorePages() {
		all = append(all, try(p.NextPage(t.Context())).must(t).Identities...)
	}
	return sorted(all)
}

func verifyDomain(t *testing.T, c *ses.Client, d string) string {
	t.Helper()
	return verifyDomainTB(t, c, d)
}

func verifyDomainTB(tb testing.TB, c *ses.Client, d string) string {
	tb.Helper()
	out, err := c.VerifyDomainIdentity(tb.Context(), &ses.VerifyDomainIdentityInput{Domain: aws.String(d)})
	if err != nil {
		tb.Fatalf("VerifyDomainIdentity(%q): %v", d, err)
	}
	return aws.ToString(out.VerificationToken)
}

func verifyDkim(t *testing.T, c *ses.Client, d string) []string {
	t.Helper()
	return try(c.VerifyDomainDkim(t.Context(), &ses.VerifyDomainDkimInput{Domain: aws.String(d)})).must(t).DkimTokens
}

func verifyEmail(t *testing.T, c *ses.Client, e string) {
	t.Helper()
	try(c.VerifyEmailIdentity(t.Context(), &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(e)})).must(t)
}

func checkVerificationToken(t *testing.T, tok string) {
	t.Helper()
	if !verificationTokenRE.MatchString(tok) {
		t.Fatalf("verification token %q: want 44 characters of base64 ending in '='", tok)
	}
	if b, err := base64.StdEncoding.DecodeString(tok); err != nil || len(b) != 32 {
		t.Fatalf("verification token %q decodes to %d bytes (%v), want 32", tok, len(b), err)
	}
}

func checkDkimTokens(t *testing.T, toks []string) {
	t.Helper()
	if len(toks) != 3 {
		t.Fatalf("%d DKIM tokens %q, want 3", len(toks), toks)
	}
	seen := map[string]bool{}
	for _, k := range toks {
		if !dkimTokenRE.MatchString(k) || seen[k] {
			t.Fatalf("DKIM tokens %q: want 3 distinct tokens of 32 characters [a-z2-7]", toks)
		}
		seen[k] = true
	}
}

func TestV1VerifyDomainIdentity(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)

	tok := verifyDomain(t, c, "example.com")
	checkVerificationToken(t, tok)
	// Asking again keeps the token, whatever the spelling of the domain.
	for _, d := range []string{"example.com", "EXAMPLE.com", "example.com.", "Example.COM."} {
		if again := verifyDomain(t, c, d); again != tok {
			t.Errorf("VerifyDomainIdentity(%q) = %q, want the first token %q", d, again, tok)
		}
	}
	want := map[string]types.IdentityVerificationAttributes{
		"example.com": {VerificationStatus: types.VerificationStatusPending, VerificationToken: aws.String(tok)},
	}
	if diff := cmp.Diff(want, verificationAttrs(t, c, "example.com"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityVerificationAttributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"example.com"}, listAll(t, c, "")); diff != "" {
		t.Errorf("ListIdentities (-want +got):\n%s", diff)
	}
	// A domain added by VerifyDomainIdentity alone has no DKIM.
	wantDkim := map[string]types.IdentityDkimAttributes{
		"example.com": {DkimEnabled: false, DkimVerificationStatus: types.VerificationStatusNotStarted},
	}
	if diff := cmp.Diff(wantDkim, dkimAttrs(t, c, "example.com"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityDkimAttributes (-want +got):\n%s", diff)
	}
}

func TestV1VerifyDomainDkim(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)

	// VerifyDomainDkim adds a domain that was never verified.
	toks := verifyDkim(t, c, "dkim.example")
	checkDkimTokens(t, toks)
	for _, d := range []string{"dkim.example", "DKIM.example."} {
		if again := verifyDkim(t, c, d); !cmp.Equal(again, toks) {
			t.Errorf("VerifyDomainDkim(%q) = %q, want the first tokens %q", d, again, toks)
		}
	}
	if diff := cmp.Diff([]string{"dkim.example"}, listAll(t, c, types.IdentityTypeDomain)); diff != "" {
		t.Errorf("ListIdentities (-want +got):\n%s", diff)
	}
	va := verificationAttrs(t, c, "dkim.example")["dkim.example"]
	if va.VerificationStatus != types.VerificationStatusPending {
		t.Errorf("VerificationStatus %q, want Pending", va.VerificationStatus)
	}
	checkVerificationToken(t, aws.ToString(va.VerificationToken))

	want := map[string]types.IdentityDkimAttributes{
		"dkim.example": {DkimEnabled: true, DkimVerificationStatus: types.VerificationStatusPending, DkimTokens: toks},
	}
	if diff := cmp.Diff(want, dkimAttrs(t, c, "dkim.example"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityDkimAttributes (-want +got):\n%s", diff)
	}

	// DKIM on a domain verified by TXT first keeps the TXT token.
	tok := verifyDomain(t, c, "txt-first.example")
	checkDkimTokens(t, verifyDkim(t, c, "txt-first.example"))
	if got := aws.ToString(verificationAttrs(t, c, "txt-first.example")["txt-first.example"].VerificationToken); got != tok {
		t.Errorf("token after VerifyDomainDkim %q, want %q", got, tok)
	}
}

func TestV1VerifyEmail(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()

	try(c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("User@Example.COM")})).must(t)
	// Asking again sends a new mail and does not fail.
	try(c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("User@example.com")})).must(t)
	try(c.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("old+api@example.com")})).must(t)
	try(c.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String("old+api@example.com")})).must(t)

	// The local part keeps its case, the domain is folded.
	if diff := cmp.Diff([]string{"User@example.com", "old+api@example.com"}, listAll(t, c, types.IdentityTypeEmailAddress)); diff != "" {
		t.Errorf("ListIdentities (-want +got):\n%s", diff)
	}
	want := map[string]types.IdentityVerificationAttributes{
		"User@example.com":    {VerificationStatus: types.VerificationStatusPending},
		"old+api@example.com": {VerificationStatus: types.VerificationStatusPending},
	}
	if diff := cmp.Diff(want, verificationAttrs(t, c, "User@example.com", "old+api@example.com"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityVerificationAttributes (-want +got):\n%s", diff)
	}
	// The local part is case-sensitive: user@ is another address.
	if got := verificationAttrs(t, c, "user@example.com"); len(got) != 0 {
		t.Errorf("user@example.com found: %v", got)
	}
	// An address without DKIM on its domain.
	wantDkim := map[string]types.IdentityDkimAttributes{
		"User@example.com": {DkimEnabled: false, DkimVerificationStatus: types.VerificationStatusNotStarted},
	}
	if diff := cmp.Diff(wantDkim, dkimAttrs(t, c, "User@example.com"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityDkimAttributes (-want +got):\n%s", diff)
	}
}

func TestV1GetAttributes(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	tok := verifyDomain(t, c, "example.com")
	verifyEmail(t, c, "user@example.com")

	t.Run("unknown identities are left out", func(t *testing.T) {
		got := verificationAttrs(t, c, "example.com", "unknown.example", "nobody@example.com")
		want := map[string]types.IdentityVerificationAttributes{
			"example.com": {VerificationStatus: types.VerificationStatusPending, VerificationToken: aws.String(tok)},
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got := dkimAttrs(t, c, "unknown.example"); len(got) != 0 {
			t.Errorf("GetIdentityDkimAttributes(unknown) = %v", got)
		}
		if got := mailFromAttrs(t, c, "unknown.example"); len(got) != 0 {
			t.Errorf("GetIdentityMailFromDomainAttributes(unknown) = %v", got)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		// The SDK sends an empty list as "Identities=".
		if got := verificationAttrs(t, c, []string{}...); len(got) != 0 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("duplicates", func(t *testing.T) {
		got := verificationAttrs(t, c, "example.com", "example.com", "user@example.com")
		if len(got) != 2 {
			t.Errorf("got %d entries, want 2: %v", len(got), got)
		}
	})
	t.Run("exactly 100", func(t *testing.T) {
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = fmt.Sprintf("d%d.example", i)
		}
		ids[99] = "example.com"
		if got := verificationAttrs(t, c, ids...); len(got) != 1 {
			t.Errorf("got %d entries, want 1", len(got))
		}
	})
	t.Run("mail from of a new identity", func(t *testing.T) {
		want := map[string]types.IdentityMailFromDomainAttributes{
			"example.com":      {BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
			"user@example.com": {BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
		}
		if diff := cmp.Diff(want, mailFromAttrs(t, c, "example.com", "user@example.com"), cmpOpts); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestV1AddressDkim(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V1(east)
	toks := verifyDkim(t, c, "example.com")
	verifyEmail(t, c, "user@example.com")

	markDkimVerified(t, srv, a, east, "example.com")
	// As the model's GetIdentityDkimAttributes example: the address
	// reports its own Easy DKIM (none: NotStarted, signing off), not its
	// verified domain's tokens and status.
	want := map[string]types.IdentityDkimAttributes{
		"example.com":      {DkimEnabled: true, DkimVerificationStatus: types.VerificationStatusSuccess, DkimTokens: toks},
		"user@example.com": {DkimEnabled: false, DkimVerificationStatus: types.VerificationStatusNotStarted},
	}
	if diff := cmp.Diff(want, dkimAttrs(t, c, "example.com", "user@example.com"), cmpOpts); diff != "" {
		t.Errorf("GetIdentityDkimAttributes (-want +got):\n%s", diff)
	}
}

func TestV1SetIdentityDkimEnabled(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	toks := verifyDkim(t, c, "example.com")
	verifyDomain(t, c, "nodkim.example")
	verifyEmail(t, c, "user@example.com")
	verifyEmail(t, c, "user@nodkim.example")

	set := func(id string, on bool) error {
		_, err := c.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String(id), DkimEnabled: on})
		return err
	}
	for _, step := range []struct {
		id string
		on bool
	}{{"example.com", false}, {"example.com", true}, {"EXAMPLE.com.", false}, {"user@example.com", false}, {"user@example.com", true}} {
		if err := set(step.id, step.on); err != nil {
			t.Fatalf("SetIdentityDkimEnabled(%s, %v): %v", step.id, step.on, err)
		}
		name := strings.ToLower(strings.TrimSuffix(step.id, "."))
		got := dkimAttrs(t, c, name)[name]
		want := types.IdentityDkimAttributes{DkimEnabled: step.on, DkimVerificationStatus: types.VerificationStatusPending, DkimTokens: toks}
		if strings.Contains(name, "@") {
			// An address reports its own DKIM: only the switch.
			want = types.IdentityDkimAttributes{DkimEnabled: step.on, DkimVerificationStatus: types.VerificationStatusNotStarted}
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Errorf("after SetIdentityDkimEnabled(%s, %v) (-want +got):\n%s", step.id, step.on, diff)
		}
	}

	for _, tc := range []struct {
		name, id, msg string
	}{
		{name: "domain without DKIM", id: "nodkim.example", msg: "Domain nodkim.example is not verified for DKIM signing"},
		{name: "address whose domain has no DKIM", id: "user@nodkim.example", msg: "Domain nodkim.example is not verified for DKIM signing"},
		{name: "unknown domain", id: "unknown.example", msg: "Domain unknown.example is not verified for DKIM signing"},
		{name: "malformed", id: "a..b.example", msg: `Identity "a..b.example" is invalid`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, set(tc.id, true), "InvalidParameterValue", http.StatusBadRequest)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

func TestV1SetIdentityMailFromDomain(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	verifyDomain(t, c, "example.com")
	verifyEmail(t, c, "user@example.com")

	set := func(id string, mf *string, b types.BehaviorOnMXFailure) error {
		_, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String(id), MailFromDomain: mf, BehaviorOnMXFailure: b})
		return err
	}
	steps := []struct {
		name string
		id   string
		mf   *string
		b    types.BehaviorOnMXFailure
		want types.IdentityMailFromDomainAttributes
	}{
		{
			name: "set", id: "example.com", mf: aws.String("mail.example.com"), b: types.BehaviorOnMXFailureRejectMessage,
			want: types.IdentityMailFromDomainAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: types.CustomMailFromStatusPending, BehaviorOnMXFailure: types.BehaviorOnMXFailureRejectMessage},
		},
		{
			name: "change, folded, default behaviour", id: "example.com", mf: aws.String("Bounce.Deep.Example.COM."),
			want: types.IdentityMailFromDomainAttributes{MailFromDomain: aws.String("bounce.deep.example.com"), MailFromDomainStatus: types.CustomMailFromStatusPending, BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
		},
		{
			name: "absent turns it off", id: "example.com", b: types.BehaviorOnMXFailureRejectMessage,
			want: types.IdentityMailFromDomainAttributes{BehaviorOnMXFailure: types.BehaviorOnMXFailureRejectMessage},
		},
		{
			name: "set again", id: "example.com", mf: aws.String("mail.example.com"),
			want: types.IdentityMailFromDomainAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: types.CustomMailFromStatusPending, BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
		},
		{
			name: "empty turns it off", id: "example.com", mf: aws.String(""),
			want: types.IdentityMailFromDomainAttributes{BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
		},
		{
			name: "address: a subdomain of its domain", id: "user@example.com", mf: aws.String("mail.example.com"), b: types.BehaviorOnMXFailureUseDefaultValue,
			want: types.IdentityMailFromDomainAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: types.CustomMailFromStatusPending, BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue},
		},
	}
	for _, s := range steps {
		if err := set(s.id, s.mf, s.b); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, mailFromAttrs(t, c, s.id)[s.id], cmpOpts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}

	for _, tc := range []struct {
		name string
		id   string
		mf   string
		b    types.BehaviorOnMXFailure
		msg  string
	}{
		{name: "not a subdomain", id: "example.com", mf: "mail.example.org", msg: "Provided MAIL-FROM domain mail.example.org or its parents are not verified for identity example.com"},
		{name: "the domain itself", id: "example.com", mf: "example.com", msg: "Provided MAIL-FROM domain example.com"},
		{name: "suffix but not subdomain", id: "example.com", mf: "badexample.com", msg: "Provided MAIL-FROM domain badexample.com"},
		{name: "address: another domain", id: "user@example.com", mf: "mail.other.example", msg: "Provided MAIL-FROM domain mail.other.example"},
		{name: "malformed mail from", id: "example.com", mf: "mail..example.com", msg: "mail..example.com"},
		{name: "bad behaviour", id: "example.com", mf: "mail.example.com", b: "Bounce", msg: "Bounce"},
		{name: "v2 spelling of behaviour", id: "example.com", mf: "mail.example.com", b: "REJECT_MESSAGE", msg: "REJECT_MESSAGE"},
		{name: "unknown identity", id: "unknown.example", mf: "mail.unknown.example", msg: "unknown.example"},
		{name: "malformed identity", id: "-bad.example", mf: "mail.example.com", msg: `Identity "-bad.example" is invalid`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, set(tc.id, aws.String(tc.mf), tc.b), "InvalidParameterValue", http.StatusBadRequest)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	// The failed calls changed nothing.
	want := types.IdentityMailFromDomainAttributes{BehaviorOnMXFailure: types.BehaviorOnMXFailureUseDefaultValue}
	if diff := cmp.Diff(want, mailFromAttrs(t, c, "example.com")["example.com"], cmpOpts); diff != "" {
		t.Errorf("after the failed calls (-want +got):\n%s", diff)
	}
}

func TestV1ListIdentities(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	var domains, emails []string
	for i := range 5 {
		d := fmt.Sprintf("d%d.example", i)
		verifyDomain(t, c, d)
		domains = append(domains, d)
	}
	for i := range 3 {
		e := fmt.Sprintf("u%d@example.com", i)
		verifyEmail(t, c, e)
		emails = append(emails, e)
	}
	all := sorted(append(append([]string{}, domains...), emails...))

	for _, tc := range []struct {
		typ  types.IdentityType
		want []string
	}{{"", all}, {types.IdentityTypeDomain, domains}, {types.IdentityTypeEmailAddress, emails}} {
		for _, maxItems := range []int32{1, 2, 3, 1000} {
			t.Run(fmt.Sprintf("%s/MaxItems=%d", tc.typ, maxItems), func(t *testing.T) {
				var got []string
				pages := 0
				in := &ses.ListIdentitiesInput{IdentityType: tc.typ, MaxItems: aws.Int32(maxItems)}
				for {
					out := try(c.ListIdentities(ctx, in)).must(t)
					pages++
					if len(out.Identities) > int(maxItems) {
						t.Fatalf("page %d has %d identities, MaxItems %d", pages, len(out.Identities), maxItems)
					}
					got = append(got, out.Identities...)
					if out.NextToken == nil {
						break
					}
					if pages > 20 {
						t.Fatal("endless pages")
					}
					in.NextToken = out.NextToken
				}
				if diff := cmp.Diff(tc.want, sorted(got)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if wantPages := (len(tc.want) + int(maxItems) - 1) / int(maxItems); pages != wantPages && pages != wantPages+1 {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}
	}
	t.Run("paginator", func(t *testing.T) {
		p := ses.NewListIdentitiesPaginator(c, &ses.ListIdentitiesInput{MaxItems: aws.Int32(3)})
		var got []string
		pages := 0
		for p.HasMorePages() {
			out := try(p.NextPage(ctx)).must(t)
			pages++
			got = append(got, out.Identities...)
		}
		if diff := cmp.Diff(all, sorted(got)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if pages != 3 {
			t.Errorf("%d pages of 3 for 8 identities, want 3", pages)
		}
	})
	t.Run("no MaxItems", func(t *testing.T) {
		out := try(c.ListIdentities(ctx, &ses.ListIdentitiesInput{})).must(t)
		if diff := cmp.Diff(all, sorted(out.Identities)); diff != "" || out.NextToken != nil {
			t.Errorf("NextToken %v; (-want +got):\n%s", aws.ToString(out.NextToken), diff)
		}
	})
	t.Run("all statuses are listed", func(t *testing.T) {
		clock := sestest.NewClock(time.Now())
		srv2, a2 := start(t, sestest.Options{Now: clock.Now})
		c2 := a2.V1(east)
		verifyDomain(t, c2, "failed.example")
		verifyEmail(t, c2, "verified@example.com")
		markVerified(t, srv2, a2, east, "verified@example.com")
		clock.Advance(100 * time.Hour)
		verifyDomain(t, c2, "pending.example")
		if diff := cmp.Diff([]string{"failed.example", "pending.example", "verified@example.com"}, listAll(t, c2, "")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestV1ListVerifiedEmailAddresses(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	verifyEmail(t, c, "pending@example.com")
	verifyEmail(t, c, "b-verified@example.com")
	verifyEmail(t, c, "a-verified@example.com")
	verifyDomain(t, c, "verified-domain.example")
	for _, n := range []string{"b-verified@example.com", "a-verified@example.com", "verified-domain.example"} {
		markVerified(t, srv, a, east, n)
	}
	out := try(c.ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})).must(t)
	if diff := cmp.Diff([]string{"a-verified@example.com", "b-verified@example.com"}, sorted(out.VerifiedEmailAddresses)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Another region has none.
	out = try(a.V1(west).ListVerifiedEmailAddresses(ctx, &ses.ListVerifiedEmailAddressesInput{})).must(t)
	if len(out.VerifiedEmailAddresses) != 0 {
		t.Errorf("eu-west-1: %q", out.VerifiedEmailAddresses)
	}
	// Asking again for a verified address changes nothing.
	verifyEmail(t, c, "a-verified@example.com")
	want := map[string]types.IdentityVerificationAttributes{"a-verified@example.com": {VerificationStatus: types.VerificationStatusSuccess}}
	if diff := cmp.Diff(want, verificationAttrs(t, c, "a-verified@example.com"), cmpOpts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestV1Delete(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	tok := verifyDomain(t, c, "example.com")
	verifyDomain(t, c, "keep.example")
	verifyEmail(t, c, "user@example.com")
	verifyEmail(t, c, "old@example.com")
	verifyEmail(t, c, "other@example.com")

	try(c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("EXAMPLE.com.")})).must(t)
	try(c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("user@Example.com")})).must(t)
	try(c.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("old@example.com")})).must(t)
	if diff := cmp.Diff([]string{"keep.example", "other@example.com"}, listAll(t, c, "")); diff != "" {
		t.Errorf("after deleting (-want +got):\n%s", diff)
	}
	// Deleting an unknown identity succeeds (v1 deletes are idempotent).
	try(c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("example.com")})).must(t)
	try(c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("never@example.com")})).must(t)
	try(c.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("old@example.com")})).must(t)
	if got := verificationAttrs(t, c, "example.com", "user@example.com"); len(got) != 0 {
		t.Errorf("deleted identities still found: %v", got)
	}
	// Verifying again starts afresh, with a new token.
	if again := verifyDomain(t, c, "example.com"); again == tok {
		t.Errorf("token after delete and verify is the old one")
	}

	for _, tc := range []struct {
		name string
		call func() error
		msg  string
	}{
		{name: "DeleteIdentity malformed", call: func() error {
			_, err := c.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("a..example.com")})
			return err
		}, msg: `Identity "a..example.com" is invalid`},
		{name: "DeleteVerifiedEmailAddress of a domain", call: func() error {
			_, err := c.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("keep.example")})
			return err
		}, msg: "Missing final '@domain'"},
		{name: "DeleteVerifiedEmailAddress malformed", call: func() error {
			_, err := c.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("a b@example.com")})
			return err
		}, msg: "a b@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, tc.call(), "InvalidParameterValue", http.StatusBadRequest)
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.msg)) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	// A domain is not deleted by DeleteVerifiedEmailAddress.
	if diff := cmp.Diff([]string{"example.com", "keep.example", "other@example.com"}, listAll(t, c, "")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestV1Windows runs the 72-hour and 24-hour windows on a fake clock.
func TestV1Windows(t *testing.T) {
	t.Parallel()
	clock := sestest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	_, a := start(t, sestest.Options{Now: clock.Now})
	c := a.V1(east)
	ctx := t.Context()
	tok := verifyDomain(t, c, "example.com")
	dk := verifyDkim(t, c, "example.com")
	verifyEmail(t, c, "user@example.com")
	try(c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com")})).must(t)

	status := func() (string, string, string, string) {
		v := verificationAttrs(t, c, "example.com", "user@example.com")
		d := dkimAttrs(t, c, "example.com")["example.com"]
		m := mailFromAttrs(t, c, "example.com")["example.com"]
		return string(v["example.com"].VerificationStatus), string(d.DkimVerificationStatus), string(m.MailFromDomainStatus), string(v["user@example.com"].VerificationStatus)
	}
	check := func(when string, want [4]string) {
		t.Helper()
		d, k, m, e := status()
		if diff := cmp.Diff(want, [4]string{d, k, m, e}); diff != "" {
			t.Errorf("%s: [domain, dkim, mail from, address] (-want +got):\n%s", when, diff)
		}
	}
	check("at start", [4]string{"Pending", "Pending", "Pending", "Pending"})
	clock.Advance(24*time.Hour - time.Second)
	check("24h - 1s", [4]string{"Pending", "Pending", "Pending", "Pending"})
	clock.Advance(time.Second)
	check("24h: the link expired", [4]string{"Pending", "Pending", "Pending", "Failed"})
	clock.Advance(48*time.Hour - time.Second)
	check("72h - 1s", [4]string{"Pending", "Pending", "Pending", "Failed"})
	clock.Advance(time.Second)
	check("72h: the records expired", [4]string{"Failed", "Failed", "Failed", "Failed"})

	// Asking again starts new windows and keeps the tokens.
	if got := verifyDomain(t, c, "example.com"); got != tok {
		t.Errorf("token after restart %q, want %q", got, tok)
	}
	if got := verifyDkim(t, c, "example.com"); !cmp.Equal(got, dk) {
		t.Errorf("DKIM tokens after restart %q, want %q", got, dk)
	}
	verifyEmail(t, c, "user@example.com")
	try(c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com")})).must(t)
	check("restarted", [4]string{"Pending", "Pending", "Pending", "Pending"})
	clock.Advance(72 * time.Hour)
	check("72h after restart", [4]string{"Failed", "Failed", "Failed", "Failed"})
}
