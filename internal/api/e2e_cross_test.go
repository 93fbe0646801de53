package api_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"
)

// TestOneStore: v1 and v2 are two views of one store.
func TestOneStore(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	v1, v2 := a.V1(east), a.V2(east)
	ctx := t.Context()

	t.Run("created with v2, read with v1", func(t *testing.T) {
		created := createIdentity(t, v2, "v2.example")
		createIdentity(t, v2, "user@v2.example")
		va := verificationAttrs(t, v1, "v2.example", "user@v2.example")
		if va["v2.example"].VerificationStatus != sestypes.VerificationStatusPending || va["user@v2.example"].VerificationStatus != sestypes.VerificationStatusPending {
			t.Errorf("v1 statuses %+v, want Pending", va)
		}
		tok := aws.ToString(va["v2.example"].VerificationToken)
		checkVerificationToken(t, tok)
		if va["user@v2.example"].VerificationToken != nil {
			t.Errorf("an address has a verification token")
		}
		// The v2 DKIM tokens are v1's, and VerifyDomainDkim keeps them.
		want := sestypes.IdentityDkimAttributes{DkimEnabled: true, DkimVerificationStatus: sestypes.VerificationStatusPending, DkimTokens: created.DkimAttributes.Tokens}
		if diff := cmp.Diff(want, dkimAttrs(t, v1, "v2.example")["v2.example"], cmpOpts); diff != "" {
			t.Errorf("v1 DKIM (-want +got):\n%s", diff)
		}
		if got := verifyDkim(t, v1, "v2.example"); !cmp.Equal(got, created.DkimAttributes.Tokens) {
			t.Errorf("VerifyDomainDkim = %q, want v2's %q", got, created.DkimAttributes.Tokens)
		}
		// VerifyDomainIdentity on it keeps the token too.
		if got := verifyDomain(t, v1, "v2.example"); got != tok {
			t.Errorf("VerifyDomainIdentity = %q, want %q", got, tok)
		}
		if diff := cmp.Diff([]string{"user@v2.example", "v2.example"}, listAll(t, v1, "")); diff != "" {
			t.Errorf("v1 list (-want +got):\n%s", diff)
		}
		// v1 deletes what v2 made.
		try(v1.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("user@v2.example")})).must(t)
		_, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("user@v2.example")})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	})

	t.Run("created with v1, read with v2", func(t *testing.T) {
		verifyDomain(t, v1, "v1.example")
		verifyEmail(t, v1, "user@v1.example")
		g := getIdentity(t, v2, "v1.example")
		if g.IdentityType != types.IdentityTypeDomain || g.VerificationStatus != types.VerificationStatusPending {
			t.Errorf("v2 sees %q %q", g.IdentityType, g.VerificationStatus)
		}
		// Without VerifyDomainDkim, no DKIM.
		if g.DkimAttributes == nil || g.DkimAttributes.Status != types.DkimStatusNotStarted || len(g.DkimAttributes.Tokens) != 0 {
			t.Errorf("v2 DKIM of a TXT-only domain: %+v", g.DkimAttributes)
		}
		toks := verifyDkim(t, v1, "v1.example")
		if got := getIdentity(t, v2, "v1.example").DkimAttributes; got.Status != types.DkimStatusPending || !cmp.Equal(got.Tokens, toks) {
			t.Errorf("v2 DKIM after VerifyDomainDkim: %+v, want PENDING %q", got, toks)
		}
		if g := getIdentity(t, v2, "user@v1.example"); g.IdentityType != types.IdentityTypeEmailAddress {
			t.Errorf("v2 sees %q", g.IdentityType)
		}
		_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("v1.example")})
		wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
		_, err = v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("user@v1.example")})
		wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
		try(v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("user@v1.example")})).must(t)
		if got := verificationAttrs(t, v1, "user@v1.example"); len(got) != 0 {
			t.Errorf("v1 still sees the address v2 deleted: %v", got)
		}
		names, _ := listLegacy(t, srv, a, east, -1)
		if diff := cmp.Diff([]string{"v1.example", "v2.example"}, sorted(names)); diff != "" {
			t.Errorf("v2 list (-want +got):\n%s", diff)
		}
	})

	t.Run("settings", func(t *testing.T) {
		try(v1.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("v1.example"), MailFromDomain: aws.String("mail.v1.example"), BehaviorOnMXFailure: sestypes.BehaviorOnMXFailureRejectMessage})).must(t)
		want := &types.MailFromAttributes{MailFromDomain: aws.String("mail.v1.example"), MailFromDomainStatus: types.MailFromDomainStatusPending, BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage}
		if diff := cmp.Diff(want, getIdentity(t, v2, "v1.example").MailFromAttributes, cmpOpts); diff != "" {
			t.Errorf("v2 view of v1 MAIL FROM (-want +got):\n%s", diff)
		}
		try(v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("v2.example"), MailFromDomain: aws.String("bounce.v2.example"), BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage})).must(t)
		wantV1 := sestypes.IdentityMailFromDomainAttributes{MailFromDomain: aws.String("bounce.v2.example"), MailFromDomainStatus: sestypes.CustomMailFromStatusPending, BehaviorOnMXFailure: sestypes.BehaviorOnMXFailureRejectMessage}
		if diff := cmp.Diff(wantV1, mailFromAttrs(t, v1, "v2.example")["v2.example"], cmpOpts); diff != "" {
			t.Errorf("v1 view of v2 MAIL FROM (-want +got):\n%s", diff)
		}
		try(v1.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("v2.example"), DkimEnabled: false})).must(t)
		if getIdentity(t, v2, "v2.example").DkimAttributes.SigningEnabled {
			t.Error("v2 SigningEnabled still true after v1 SetIdentityDkimEnabled false")
		}
	})
}

// TestAccountsAndRegions: identities belong to one (account, region).
func TestAccountsAndRegions(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	b := srv.NewAccount("tenant-b")
	ctx := t.Context()
	aEast, aWest, bEast := a.V1(east), a.V1(west), b.V1(east)

	t.Run("same domain, different tokens", func(t *testing.T) {
		toks := map[string]string{}
		dkim := map[string]bool{}
		for name, c := range map[string]*ses.Client{"A/us-east-1": aEast, "A/eu-west-1": aWest, "B/us-east-1": bEast} {
			tok := verifyDomain(t, c, "shared.example")
			checkVerificationToken(t, tok)
			toks[name] = tok
			for _, k := range verifyDkim(t, c, "shared.example") {
				if dkim[k] {
					t.Errorf("DKIM token %s given twice", k)
				}
				dkim[k] = true
			}
			// Stable within its own (account, region).
			if again := verifyDomain(t, c, "shared.example"); again != tok {
				t.Errorf("%s: token changed", name)
			}
		}
		if toks["A/us-east-1"] == toks["A/eu-west-1"] || toks["A/us-east-1"] == toks["B/us-east-1"] || toks["A/eu-west-1"] == toks["B/us-east-1"] {
			t.Errorf("tokens shared across accounts or regions: %v", toks)
		}
		// Each reads its own token.
		if got := aws.ToString(verificationAttrs(t, aWest, "shared.example")["shared.example"].VerificationToken); got != toks["A/eu-west-1"] {
			t.Errorf("A/eu-west-1 reads %q, want %q", got, toks["A/eu-west-1"])
		}
	})

	verifyDomain(t, aEast, "only-a.example")
	verifyDkim(t, aEast, "only-a.example")
	verifyEmail(t, aEast, "user@only-a.example")
	aBefore := getIdentity(t, a.V2(east), "only-a.example")

	t.Run("B cannot see A", func(t *testing.T) {
		if got := verificationAttrs(t, bEast, "only-a.example", "user@only-a.example"); len(got) != 0 {
			t.Errorf("B GetIdentityVerificationAttributes: %v", got)
		}
		if got := dkimAttrs(t, bEast, "only-a.example"); len(got) != 0 {
			t.Errorf("B GetIdentityDkimAttributes: %v", got)
		}
		if got := mailFromAttrs(t, bEast, "only-a.example"); len(got) != 0 {
			t.Errorf("B GetIdentityMailFromDomainAttributes: %v", got)
		}
		_, err := b.V2(east).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("only-a.example")})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		if diff := cmp.Diff([]string{"shared.example"}, listAll(t, bEast, "")); diff != "" {
			t.Errorf("B list (-want +got):\n%s", diff)
		}
		names, _ := listLegacy(t, srv, b, east, -1)
		if diff := cmp.Diff([]string{"shared.example"}, names); diff != "" {
			t.Errorf("B v2 list (-want +got):\n%s", diff)
		}
		// Nor does A in another region.
		if got := verificationAttrs(t, aWest, "only-a.example"); len(got) != 0 {
			t.Errorf("A/eu-west-1 sees us-east-1: %v", got)
		}
	})

	t.Run("B cannot change or delete A", func(t *testing.T) {
		_, err := bEast.SetIdentityDkimEnabled(ctx, &ses.SetIdentityDkimEnabledInput{Identity: aws.String("only-a.example"), DkimEnabled: false})
		wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
		_, err = bEast.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("only-a.example"), MailFromDomain: aws.String("mail.only-a.example")})
		wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
		_, err = b.V2(east).PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String("only-a.example"), SigningEnabled: false})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		_, err = b.V2(east).PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("only-a.example"), MailFromDomain: aws.String("mail.only-a.example")})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		// v1 delete of an identity B does not have succeeds and does nothing.
		try(bEast.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("only-a.example")})).must(t)
		try(bEast.DeleteVerifiedEmailAddress(ctx, &ses.DeleteVerifiedEmailAddressInput{EmailAddress: aws.String("user@only-a.example")})).must(t)
		_, err = b.V2(east).DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("only-a.example")})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		// Nor does A in another region.
		try(aWest.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("only-a.example")})).must(t)

		after := getIdentity(t, a.V2(east), "only-a.example")
		if diff := cmp.Diff(aBefore, after, cmpOpts, ignoreMetadata); diff != "" {
			t.Errorf("A's identity changed (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"only-a.example", "shared.example", "user@only-a.example"}, listAll(t, aEast, "")); diff != "" {
			t.Errorf("A list (-want +got):\n%s", diff)
		}
		// B's own copy of the shared domain goes; A's stays.
		try(bEast.DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("shared.example")})).must(t)
		if got := verificationAttrs(t, aEast, "shared.example"); len(got) != 1 {
			t.Errorf("A lost shared.example when B deleted its own")
		}
		if got := verificationAttrs(t, aWest, "shared.example"); len(got) != 1 {
			t.Errorf("A/eu-west-1 lost shared.example when B deleted its own")
		}
	})

	t.Run("second key of A sees A", func(t *testing.T) {
		k2, err := srv.Sesame.Accounts.AddKey(ctx, a.AccountId)
		if err != nil {
			t.Fatal(err)
		}
		c := srv.V1(aws.Credentials{AccessKeyID: k2.AccessKeyId, SecretAccessKey: string(k2.SecretAccessKey)}, east)
		if got := verificationAttrs(t, c, "only-a.example"); len(got) != 1 {
			t.Errorf("A's second key sees %v", got)
		}
	})
}

// TestDkimVerifiesDomain: "A DKIM success also verifies the domain" (spec
// §7, ses model): both views must call such a domain verified, the v1 one
// included, although its TXT record was never found.
func TestDkimVerifiesDomain(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	v1, v2 := a.V1(east), a.V2(east)
	createIdentity(t, v2, "dkim-only.example")
	markDkimVerified(t, srv, a, east, "dkim-only.example")

	g := getIdentity(t, v2, "dkim-only.example")
	if g.VerificationStatus != types.VerificationStatusSuccess || !g.VerifiedForSendingStatus || g.DkimAttributes.Status != types.DkimStatusSuccess {
		t.Errorf("v2: VerificationStatus %q VerifiedForSendingStatus %v DKIM %q; want SUCCESS true SUCCESS", g.VerificationStatus, g.VerifiedForSendingStatus, g.DkimAttributes.Status)
	}
	if got := dkimAttrs(t, v1, "dkim-only.example")["dkim-only.example"].DkimVerificationStatus; got != sestypes.VerificationStatusSuccess {
		t.Errorf("v1 DkimVerificationStatus %q, want Success", got)
	}
	if got := verificationAttrs(t, v1, "dkim-only.example")["dkim-only.example"].VerificationStatus; got != sestypes.VerificationStatusSuccess {
		t.Errorf("v1 GetIdentityVerificationAttributes: VerificationStatus %q, want Success (v2 says %q)", got, g.VerificationStatus)
	}
}
