package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"
)

// Names SES refuses, with a piece of the message each must give.
var (
	label63  = strings.Repeat("a", 63)
	badNames = []struct{ name, in, msg string }{
		{"empty label", "a..example.com", "empty label"},
		{"leading dot", ".example.com", "empty label"},
		{"label of 64", strings.Repeat("a", 64) + ".com", "63"},
		{"name of 256", label63 + "." + label63 + "." + label63 + "." + label63 + ".com", "253"},
		{"wildcard", "*.example.com", "wildcard"},
		{"IPv4", "192.0.2.1", "IP address"},
		{"IPv6 literal", "[2001:db8::1]", "IP address"},
		{"single label", "localhost", "single-label"},
		{"underscore", "_amazonses.example.com", "underscore"},
		{"space", "exa mple.com", "whitespace"},
		{"leading hyphen", "-example.com", "hyphen"},
		{"two trailing dots", "example.com..", "empty label"},
	}
	badEmails = []struct{ name, in, msg string }{
		{"no at", "user.example.com", "Missing final '@domain'"},
		{"whitespace in local", "us er@example.com", "Local address contains control or whitespace"},
		{"whitespace in domain", "user@exa mple.com", "Domain contains control or whitespace"},
		{"trailing newline", "user@example.com\n", "Domain contains control or whitespace"},
		{"local part of 65", strings.Repeat("l", 65) + "@example.com", "64"},
		{"display name", "Joe <joe@example.com>", "display name"},
		{"angle brackets", "<joe@example.com>", "display name"},
		{"empty local", "@example.com", "local"},
		{"empty domain", "user@", "domain"},
		{"two at", "a@b@example.com", "@"},
		{"single-label domain", "user@localhost", "single-label"},
		{"IP domain", "user@[192.0.2.1]", "domain literal"},
	}
)

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestV1Validation(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	ctx := t.Context()
	verifyDomain(t, c, "example.com")
	verifyDomain(t, c, "other.example")

	type tc struct {
		name string
		call func() error
		msg  string
	}
	var cases []tc
	for _, b := range badNames {
		cases = append(cases,
			tc{"VerifyDomainIdentity/" + b.name, func() error {
				_, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String(b.in)})
				return err
			}, b.msg},
			tc{"VerifyDomainDkim/" + b.name, func() error {
				_, err := c.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String(b.in)})
				return err
			}, b.msg},
			tc{"GetIdentityVerificationAttributes/" + b.name, func() error {
				_, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com", b.in}})
				return err
			}, "is invalid. Must be a verified email address or domain"},
		)
	}
	for _, b := range badEmails {
		cases = append(cases,
			tc{"VerifyEmailIdentity/" + b.name, func() error {
				_, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(b.in)})
				return err
			}, b.msg},
			tc{"VerifyEmailAddress/" + b.name, func() error {
				_, err := c.VerifyEmailAddress(ctx, &ses.VerifyEmailAddressInput{EmailAddress: aws.String(b.in)})
				return err
			}, b.msg},
		)
	}
	// A domain given where an address is wanted, and the reverse.
	cases = append(cases,
		tc{"VerifyEmailIdentity/domain", func() error {
			_, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("example.com")})
			return err
		}, "Missing final '@domain'"},
		tc{"VerifyDomainIdentity/address", func() error {
			_, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("user@example.com")})
			return err
		}, "@"},
	)
	hundredOne := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = fmt.Sprintf("d%d.example", i)
	}
	cases = append(cases,
		tc{"GetIdentityVerificationAttributes/101 identities", func() error {
			_, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: hundredOne})
			return err
		}, "100"},
		tc{"GetIdentityDkimAttributes/101 identities", func() error {
			_, err := c.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: hundredOne})
			return err
		}, "100"},
		tc{"GetIdentityMailFromDomainAttributes/101 identities", func() error {
			_, err := c.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: hundredOne})
			return err
		}, "100"},
		tc{"GetIdentityDkimAttributes/malformed", func() error {
			_, err := c.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: []string{"a b@example.com"}})
			return err
		}, `Identity "a b@example.com" is invalid`},
		tc{"GetIdentityMailFromDomainAttributes/malformed", func() error {
			_, err := c.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: []string{"*.example.com"}})
			return err
		}, `Identity "*.example.com" is invalid`},
		tc{"SetIdentityMailFromDomain/not a subdomain", func() error {
			_, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.other.example")})
			return err
		}, "Provided MAIL-FROM domain mail.other.example or its parents are not verified for identity example.com"},
		tc{"SetIdentityMailFromDomain/bad BehaviorOnMXFailure", func() error {
			_, err := c.SetIdentityMailFromDomain(ctx, &ses.SetIdentityMailFromDomainInput{Identity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.com"), BehaviorOnMXFailure: "Ignore"})
			return err
		}, "Ignore"},
		tc{"ListIdentities/MaxItems 0", func() error {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{MaxItems: aws.Int32(0)})
			return err
		}, "MaxItems"},
		tc{"ListIdentities/MaxItems 1001", func() error {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{MaxItems: aws.Int32(1001)})
			return err
		}, "MaxItems"},
		tc{"ListIdentities/MaxItems -1", func() error {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{MaxItems: aws.Int32(-1)})
			return err
		}, "MaxItems"},
		tc{"ListIdentities/bad IdentityType", func() error {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: "Everything"})
			return err
		}, "Everything"},
		tc{"ListIdentities/garbage NextToken", func() error {
			_, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{NextToken: aws.String("not a token!")})
			return err
		}, "NextToken"},
		tc{"ListIdentities/NextToken of another IdentityType", func() error {
			out, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: sestypes.IdentityTypeDomain, MaxItems: aws.Int32(1)})
			if err != nil || out.NextToken == nil {
				return fmt.Errorf("first page: %v, NextToken %v", err, out)
			}
			_, err = c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: sestypes.IdentityTypeEmailAddress, NextToken: out.NextToken})
			return err
		}, "NextToken"},
		tc{"ListIdentities/NextToken of a typed list, untyped", func() error {
			out, err := c.ListIdentities(ctx, &ses.ListIdentitiesInput{IdentityType: sestypes.IdentityTypeDomain, MaxItems: aws.Int32(1)})
			if err != nil || out.NextToken == nil {
				return fmt.Errorf("first page: %v, NextToken %v", err, out)
			}
			_, err = c.ListIdentities(ctx, &ses.ListIdentitiesInput{NextToken: out.NextToken})
			return err
		}, "NextToken"},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, tc.call(), "InvalidParameterValue", http.StatusBadRequest)
			if !containsFold(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	// None of it created anything.
	if diff := cmp.Diff([]string{"example.com", "other.example"}, listAll(t, c, "")); diff != "" {
		t.Errorf("identities after the failed calls (-want +got):\n%s", diff)
	}
}

func TestV1NamesFolded(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V1(east)
	for _, tc := range []struct{ in, want string }{
		{"bücher.example", "xn--bcher-kva.example"},
		{"BÜCHER.example.", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"Mixed.Case.EXAMPLE.", "mixed.case.example"},
		{"r3---sn-abc.example", "r3---sn-abc.example"},
		{label63 + ".example", label63 + ".example"},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			tok := verifyDomain(t, c, tc.in)
			got := verificationAttrs(t, c, tc.want)
			if len(got) != 1 || aws.ToString(got[tc.want].VerificationToken) != tok {
				t.Errorf("VerifyDomainIdentity(%q) not found as %q: %v", tc.in, tc.want, got)
			}
		})
	}
	verifyEmail(t, c, "User@BÜCHER.example")
	want := []string{"User@xn--bcher-kva.example", label63 + ".example", "mixed.case.example", "r3---sn-abc.example", "xn--bcher-kva.example", "xn--r8jz45g.xn--zckzah"}
	if diff := cmp.Diff(sorted(want), listAll(t, c, "")); diff != "" {
		t.Errorf("ListIdentities (-want +got):\n%s", diff)
	}
}

// v1 cases the SDK cannot send: it checks required members itself.
func TestV1RawValidation(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	for _, tc := range []struct {
		name   string
		body   string
		target string
		method string
		status int
		code   string
		msg    string
	}{
		{"VerifyDomainIdentity without Domain", v1Body("Action", "VerifyDomainIdentity", "Version", "2010-12-01"), "", "", 400, "ValidationError",
			"1 validation error detected: Value null at 'domain' failed to satisfy constraint: Member must not be null"},
		{"VerifyDomainDkim without Domain", v1Body("Action", "VerifyDomainDkim", "Version", "2010-12-01"), "", "", 400, "ValidationError",
			"Value null at 'domain'"},
		{"VerifyEmailIdentity without EmailAddress", v1Body("Action", "VerifyEmailIdentity", "Version", "2010-12-01"), "", "", 400, "ValidationError",
			"1 validation error detected: Value null at 'emailAddress' failed to satisfy constraint: Member must not be null"},
		{"VerifyEmailAddress without EmailAddress", v1Body("Action", "VerifyEmailAddress", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'emailAddress'"},
		{"GetIdentityVerificationAttributes without Identities", v1Body("Action", "GetIdentityVerificationAttributes", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'identities'"},
		{"GetIdentityDkimAttributes without Identities", v1Body("Action", "GetIdentityDkimAttributes", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'identities'"},
		{"GetIdentityMailFromDomainAttributes without Identities", v1Body("Action", "GetIdentityMailFromDomainAttributes", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'identities'"},
		{"SetIdentityDkimEnabled without Identity", v1Body("Action", "SetIdentityDkimEnabled", "Version", "2010-12-01", "DkimEnabled", "true"), "", "", 400, "ValidationError", "Value null at 'identity'"},
		{"SetIdentityDkimEnabled without DkimEnabled", v1Body("Action", "SetIdentityDkimEnabled", "Version", "2010-12-01", "Identity", "example.com"), "", "", 400, "ValidationError", "Value null at 'dkimEnabled'"},
		{"SetIdentityDkimEnabled with DkimEnabled=maybe", v1Body("Action", "SetIdentityDkimEnabled", "Version", "2010-12-01", "Identity", "example.com", "DkimEnabled", "maybe"), "", "", 400, "InvalidParameterValue", "maybe"},
		{"SetIdentityMailFromDomain without Identity", v1Body("Action", "SetIdentityMailFromDomain", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'identity'"},
		{"DeleteIdentity without Identity", v1Body("Action", "DeleteIdentity", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'identity'"},
		{"DeleteVerifiedEmailAddress without EmailAddress", v1Body("Action", "DeleteVerifiedEmailAddress", "Version", "2010-12-01"), "", "", 400, "ValidationError", "Value null at 'emailAddress'"},
		{"bad list index", v1Body("Action", "GetIdentityVerificationAttributes", "Version", "2010-12-01", "Identities.member.x", "example.com"), "", "", 400, "InvalidParameterValue", "Identities.member.x"},
		{"list index 0", v1Body("Action", "GetIdentityVerificationAttributes", "Version", "2010-12-01", "Identities.member.0", "example.com"), "", "", 400, "InvalidParameterValue", "Identities.member.0"},
		{"unknown Action", v1Body("Action", "FrobnicateIdentity", "Version", "2010-12-01"), "", "", 400, "InvalidAction", "FrobnicateIdentity"},
		{"SES action not served", v1Body("Action", "CreateReceiptRule", "Version", "2010-12-01"), "", "", 400, "InvalidAction", "CreateReceiptRule"},
		{"v2 operation name", v1Body("Action", "CreateEmailIdentity", "Version", "2010-12-01"), "", "", 400, "InvalidAction", "CreateEmailIdentity"},
		{"no Action", v1Body("Version", "2010-12-01"), "", "", 400, "MissingAction", "Action"},
		{"empty body", "", "", "", 400, "MissingAction", "Action"},
		{"other Version", v1Body("Action", "ListIdentities", "Version", "2019-09-27"), "", "", 400, "NoSuchVersion", "2019-09-27"},
		{"malformed body", "Action=ListIdentities&Version=2010-12-01&Bad=%zz", "", "", 400, "MalformedQueryString", "form body"},
		{"PUT", v1Body("Action", "ListIdentities", "Version", "2010-12-01"), "", "PUT", 405, "InvalidHttpRequest", "PUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := send(t, srv, raw{Method: tc.method, Target: tc.target, Body: tc.body, Creds: a.AWS()})
			msg := wantV1Error(t, resp, body, tc.status, tc.code)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

func TestV2Validation(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	createIdentity(t, c, "user@example.com")

	create := func(in *sesv2.CreateEmailIdentityInput) func() error {
		return func() error { _, err := c.CreateEmailIdentity(ctx, in); return err }
	}
	type tc struct {
		name string
		call func() error
		msg  string
	}
	var cases []tc
	for _, b := range badNames {
		cases = append(cases, tc{"CreateEmailIdentity/" + b.name, create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(b.in)}), b.msg})
	}
	for _, b := range badEmails {
		if !strings.Contains(b.in, "@") {
			continue // a domain name for v2
		}
		cases = append(cases, tc{"CreateEmailIdentity/" + b.name, create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(b.in)}), b.msg})
	}
	tags := func(n int) []types.Tag {
		var ts []types.Tag
		for i := range n {
			ts = append(ts, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		return ts
	}
	cases = append(cases,
		tc{"CreateEmailIdentity/empty", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("")}), "EmailIdentity"},
		tc{"CreateEmailIdentity/BYODKIM", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("byo.example"), DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector: aws.String("sel1"), DomainSigningPrivateKey: aws.String("TUlJQ1hR"),
		}}), "Invalid DomainSigningPrivateKey"},
		tc{"CreateEmailIdentity/BYODKIM bad selector", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("byo.example"), DkimSigningAttributes: &types.DkimSigningAttributes{
			DomainSigningSelector: aws.String("-sel"), DomainSigningPrivateKey: aws.String("TUlJQ1hR"),
		}}), "Invalid DomainSigningSelector"},
		tc{"CreateEmailIdentity/BYODKIM selector only", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("byo.example"), DkimSigningAttributes: &types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel1")}}), "Bring Your Own DKIM"},
		tc{"CreateEmailIdentity/replication without a parent", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("deed.example"), DkimSigningAttributes: &types.DkimSigningAttributes{DomainSigningAttributesOrigin: "AWS_SES_EU_WEST_1"}}), "REPLICATION_PRIMARY_NOT_FOUND"},
		tc{"CreateEmailIdentity/DKIM attributes on an address", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("new@example.com"), DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit}}), "domain"},
		tc{"CreateEmailIdentity/bad key length", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("key.example"), DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: "RSA_4096_BIT"}}), "RSA_4096_BIT"},
		tc{"CreateEmailIdentity/51 tags", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("tags.example"), Tags: tags(51)}), "50"},
		tc{"CreateEmailIdentity/empty tag key", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("tags.example"), Tags: []types.Tag{{Key: aws.String(""), Value: aws.String("v")}}}), "1 to 128"},
		tc{"CreateEmailIdentity/tag key of 129", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("tags.example"), Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}}), "1 to 128"},
		tc{"CreateEmailIdentity/tag value of 257", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("tags.example"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}}), "256"},
		tc{"CreateEmailIdentity/duplicate tag", create(&sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("tags.example"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}), "twice"},
		tc{"GetEmailIdentity/malformed", func() error {
			_, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("bad_name.example")})
			return err
		}, "underscore"},
		tc{"PutEmailIdentityMailFromAttributes/not a subdomain", func() error {
			_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), MailFromDomain: aws.String("mail.example.net")})
			return err
		}, "Provided MAIL-FROM domain mail.example.net"},
		tc{"PutEmailIdentityMailFromAttributes/bad behaviour", func() error {
			_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String("example.com"), BehaviorOnMxFailure: "DROP"})
			return err
		}, "DROP"},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, tc.call(), "BadRequestException", http.StatusBadRequest)
			if !containsFold(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	for _, n := range []string{"byo.example", "deed.example", "new@example.com", "key.example", "tags.example"} {
		_, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(n)})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	}
	t.Run("ListEmailIdentities/PageSize 1001", func(t *testing.T) {
		_, err := c.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(1001)})
		wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	})
	t.Run("ListEmailIdentities/bad NextToken", func(t *testing.T) {
		_, err := c.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{NextToken: aws.String("bogus")})
		wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	})
}

// A malformed query string is refused before the signature is checked
// (the SDK's signer would drop the bad pair), with 404 as SES documents.
func TestV1MalformedQuery(t *testing.T) {
	t.Parallel()
	srv, _ := start(t)
	resp, body := send(t, srv, raw{Method: "GET", Target: "/?Action=ListIdentities&Bad=%zz"})
	wantV1Error(t, resp, body, http.StatusNotFound, "MalformedQueryString")
}

// v2 cases the SDK cannot send.
func TestV2RawValidation(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	createIdentity(t, a.V2(east), "example.com")
	// A v1 NextToken of a typed list is refused by v2, which lists every type.
	verifyDomain(t, a.V1(east), "second.example")
	out := try(a.V1(east).ListIdentities(t.Context(), &ses.ListIdentitiesInput{IdentityType: sestypes.IdentityTypeDomain, MaxItems: aws.Int32(1)})).must(t)
	typedToken := aws.ToString(out.NextToken)

	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		code, msg                  string
	}{
		{"unknown path", "GET", "/v2/email/nothing-here", "", 404, "UnknownOperationException", "/v2/email/nothing-here"},
		{"unknown sub-resource", "PUT", "/v2/email/identities/example.com/colour", "{}", 404, "UnknownOperationException", "colour"},
		{"unknown operation under /v2/email", "GET", "/v2/email/configuration-sets-of-mine", "", 404, "UnknownOperationException", "configuration-sets-of-mine"},
		{"wrong method on identities", "PATCH", "/v2/email/identities", "{}", 404, "UnknownOperationException", "PATCH"},
		{"wrong method on an identity", "POST", "/v2/email/identities/example.com", "{}", 404, "UnknownOperationException", "POST"},
		{"malformed JSON on create", "POST", "/v2/email/identities", `{"EmailIdentity":`, 400, "BadRequestException", "JSON"},
		{"wrong JSON type on create", "POST", "/v2/email/identities", `{"EmailIdentity":42}`, 400, "BadRequestException", "EmailIdentity must be a string, not a number"},
		{"JSON array on create", "POST", "/v2/email/identities", `[]`, 400, "BadRequestException", "must be a JSON object, not an array"},
		{"empty create", "POST", "/v2/email/identities", `{}`, 400, "BadRequestException", "EmailIdentity"},
		{"malformed JSON on dkim", "PUT", "/v2/email/identities/example.com/dkim", `{"SigningEnabled":tru}`, 400, "BadRequestException", "JSON"},
		{"string for a boolean", "PUT", "/v2/email/identities/example.com/dkim", `{"SigningEnabled":"yes"}`, 400, "BadRequestException", "SigningEnabled must be a boolean, not a string"},
		{"number for a tag value", "POST", "/v2/email/identities", `{"EmailIdentity":"t.example","Tags":[{"Key":"k","Value":1}]}`, 400, "BadRequestException", "Tags.Value must be a string, not a number"},
		{"object for the tags", "POST", "/v2/email/identities", `{"EmailIdentity":"t.example","Tags":{}}`, 400, "BadRequestException", "Tags must be an array, not an object"},
		{"malformed JSON on mail-from", "PUT", "/v2/email/identities/example.com/mail-from", `{"MailFromDomain":"m.example.com"`, 400, "BadRequestException", "JSON"},
		{"slash in identity", "GET", "/v2/email/identities/a%2Fb.example", "", 400, "BadRequestException", "a/b.example"},
		{"PageSize not a number", "GET", "/v2/email/identities?PageSize=ten", "", 400, "BadRequestException", "PageSize"},
		{"PageSize 1001", "GET", "/v2/email/identities?PageSize=1001", "", 400, "BadRequestException", "PageSize"},
		{"PageSize -1", "GET", "/v2/email/identities?PageSize=-1", "", 400, "BadRequestException", "PageSize"},
		{"garbage NextToken", "GET", "/v2/email/identities?NextToken=%21%21", "", 400, "BadRequestException", "NextToken"},
		{"typed v1 NextToken", "GET", "/v2/email/identities?NextToken=" + typedToken, "", 400, "BadRequestException", "NextToken"},
		{"get unknown", "GET", "/v2/email/identities/unknown.example", "", 404, "NotFoundException", "unknown.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := send(t, srv, raw{Method: tc.method, Target: tc.target, Body: tc.body, Creds: a.AWS()})
			msg := wantV2Error(t, resp, body, tc.status, tc.code)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}
