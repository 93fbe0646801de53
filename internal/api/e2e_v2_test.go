package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sesame/sesame/internal/sestest"
)

func createIdentity(t *testing.T, c *sesv2.Client, name string) *sesv2.CreateEmailIdentityOutput {
	t.Helper()
	return try(c.CreateEmailIdentity(t.Context(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(name)})).must(t)
}

func getIdentity(t *testing.T, c *sesv2.Client, name string) *sesv2.GetEmailIdentityOutput {
	t.Helper()
	return try(c.GetEmailIdentity(t.Context(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(name)})).must(t)
}

// listV2 lists every identity with the SDK paginator.
func listV2(t *testing.T, c *sesv2.Client, pageSize int32) ([]types.IdentityInfo, int) {
	t.Helper()
	var all []types.IdentityInfo
	pages := 0
	p := sesv2.NewListEmailIdentitiesPaginator(c, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(pageSize)})
	for p.HasMorePages() {
		all = append(all, try(p.NextPage(t.Context())).must(t).EmailIdentities...)
		pages++
	}
	return all, pages
}

func identityNames(infos []types.IdentityInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, aws.ToString(i.IdentityName))
	}
	return sorted(out)
}

// legacyList is the JSON answer of GET /v2/email/identities.
type legacyList struct {
	EmailIdentities []struct {
		IdentityType       string
		IdentityName       string
		SendingEnabled     bool
		VerificationStatus string
	}
	NextToken string
}

// listLegacy lists every identity through GET /v2/email/identities, the
// binding of the botocore model (aws-sdk-go-v2 sesv2 since v1.77.0 uses
// POST /v2/email/list-identities instead), following NextToken. It returns
// the names in page order and the number of pages.
func listLegacy(t *testing.T, srv *sestest.Server, a *sestest.Account, region string, pageSize int) ([]string, int) {
	t.Helper()
	var names []string
	token := ""
	for pages := 1; ; pages++ {
		q := url.Values{}
		if pageSize >= 0 {
			q.Set("PageSize", fmt.Sprint(pageSize))
		}
		if token != "" {
			q.Set("NextToken", token)
		}
		resp, body := send(t, srv, raw{Method: "GET", Target: "/v2/email/identities?" + q.Encode(), Creds: a.AWS(), Region: region})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v2/email/identities?%s: %d %s", q.Encode(), resp.StatusCode, body)
		}
		var out legacyList
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if pageSize > 0 && len(out.EmailIdentities) > pageSize {
			t.Fatalf("page of %d, PageSize %d", len(out.EmailIdentities), pageSize)
		}
		for _, i := range out.EmailIdentities {
			names = append(names, i.IdentityName)
		}
		if out.NextToken == "" {
			return names, pages
		}
		if pages > 50 {
			t.Fatal("endless pages")
		}
		token = out.NextToken
	}
}

// ignoreMetadata leaves out the SDK's result metadata.
var ignoreMetadata = cmpopts.IgnoreFields(sesv2.GetEmailIdentityOutput{}, "ResultMetadata")

func TestV2CreateDomain(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)

	out := try(c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("Example.COM."),
		Tags:          []types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}, {Key: aws.String("empty"), Value: aws.String("")}},
	})).must(t)
	if out.IdentityType != types.IdentityTypeDomain || out.VerifiedForSendingStatus {
		t.Errorf("IdentityType %q VerifiedForSendingStatus %v, want DOMAIN false", out.IdentityType, out.VerifiedForSendingStatus)
	}
	d := out.DkimAttributes
	if d == nil {
		t.Fatal("no DkimAttributes for a domain")
	}
	checkDkimTokens(t, d.Tokens)
	if !d.SigningEnabled || d.Status != types.DkimStatusPending || d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes || d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit {
		t.Errorf("DkimAttributes = %+v; want signing enabled, PENDING, AWS_SES, RSA_2048_BIT", *d)
	}
	if ts := aws.ToTime(d.LastKeyGenerationTimestamp); ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("LastKeyGenerationTimestamp %v, want now", ts)
	}

	got := getIdentity(t, c, "example.com")
	want := &sesv2.GetEmailIdentityOutput{
		IdentityType:             types.IdentityTypeDomain,
		FeedbackForwardingStatus: true,
		VerifiedForSendingStatus: false,
		DkimAttributes:           d,
		MailFromAttributes:       &types.MailFromAttributes{BehaviorOnMxFailure: types.BehaviorOnMxFailureUseDefaultValue},
		Policies:                 map[string]string{},
		Tags:                     []types.Tag{{Key: aws.String("team"), Value: aws.String("mail")}, {Key: aws.String("empty"), Value: aws.String("")}},
		VerificationStatus:       types.VerificationStatusPending,
		VerificationInfo:         &types.VerificationInfo{},
	}
	if diff := cmp.Diff(want, got, cmpOpts, ignoreMetadata); diff != "" {
		t.Errorf("GetEmailIdentity (-want +got):\n%s", diff)
	}

	// Creating it again, in any spelling, is AlreadyExistsException.
	for _, n := range []string{"example.com", "EXAMPLE.com."} {
		_, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(n)})
		msg := wantAPIError(t, err, "AlreadyExistsException", http.StatusBadRequest)
		if !strings.Contains(msg, "example.com") {
			t.Errorf("message %q does not name the identity", msg)
		}
	}
	// The tokens did not change.
	if got := getIdentity(t, c, "example.com").DkimAttributes.Tokens; !cmp.Equal(got, d.Tokens) {
		t.Errorf("tokens changed: %q, want %q", got, d.Tokens)
	}
}

// A ConfigurationSetName that does not exist is NotFoundException, as SES
// answers, and nothing is created; once the set exists, the identity is
// created with it as its default set.
func TestV2CreateConfigurationSet(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	for _, n := range []string{"cs.example", "user@cs.example"} {
		_, err := c.CreateEmailIdentity(t.Context(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(n), ConfigurationSetName: aws.String("my-set")})
		if msg := wantAPIError(t, err, "NotFoundException", http.StatusNotFound); !strings.Contains(msg, "my-set") {
			t.Errorf("message %q does not name the configuration set", msg)
		}
		_, err = c.GetEmailIdentity(t.Context(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(n)})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	}
	try(c.CreateConfigurationSet(t.Context(), &sesv2.CreateConfigurationSetInput{ConfigurationSetName: aws.String("my-set")})).must(t)
	for _, n := range []string{"cs.example", "user@cs.example"} {
		try(c.CreateEmailIdentity(t.Context(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(n), ConfigurationSetName: aws.String("my-set")})).must(t)
		if got := aws.ToString(getIdentity(t, c, n).ConfigurationSetName); got != "my-set" {
			t.Errorf("%s: ConfigurationSetName %q, want my-set", n, got)
		}
	}
}

func TestV2CreateDomainKeyLength(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	for _, tc := range []struct {
		domain string
		length types.DkimSigningKeyLength
		want   types.DkimSigningKeyLength
	}{
		{"short.example", types.DkimSigningKeyLengthRsa1024Bit, types.DkimSigningKeyLengthRsa1024Bit},
		{"long.example", types.DkimSigningKeyLengthRsa2048Bit, types.DkimSigningKeyLengthRsa2048Bit},
		{"default.example", "", types.DkimSigningKeyLengthRsa2048Bit},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			out := try(c.CreateEmailIdentity(t.Context(), &sesv2.CreateEmailIdentityInput{
				EmailIdentity:         aws.String(tc.domain),
				DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: tc.length},
			})).must(t)
			checkDkimTokens(t, out.DkimAttributes.Tokens)
			if got := out.DkimAttributes.NextSigningKeyLength; got != tc.want {
				t.Errorf("create: NextSigningKeyLength %q, want %q", got, tc.want)
			}
			if got := getIdentity(t, c, tc.domain).DkimAttributes.NextSigningKeyLength; got != tc.want {
				t.Errorf("get: NextSigningKeyLength %q, want %q", got, tc.want)
			}
		})
	}
}

func TestV2CreateAddress(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)

	out := createIdentity(t, c, "User+tag@Example.COM")
	if out.IdentityType != types.IdentityTypeEmailAddress || out.VerifiedForSendingStatus || out.DkimAttributes != nil {
		t.Errorf("create = %q %v %+v; want EMAIL_ADDRESS, false, no DkimAttributes", out.IdentityType, out.VerifiedForSendingStatus, out.DkimAttributes)
	}
	// The raw JSON of a new address, as seen on live SES (spec §5).
	resp, body := send(t, srv, raw{Method: "GET", Target: "/v2/email/identities/" + url.PathEscape("User+tag@example.com"), Creds: a.AWS()})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var want map[string]any
	json.Unmarshal([]byte(`{"IdentityType":"EMAIL_ADDRESS","FeedbackForwardingStatus":true,"VerifiedForSendingStatus":false,"DkimAttributes":{"SigningEnabled":false,"Status":"NOT_STARTED","SigningAttributesOrigin":"AWS_SES","NextSigningKeyLength":"RSA_2048_BIT"},"MailFromAttributes":{"BehaviorOnMxFailure":"USE_DEFAULT_VALUE"},"Policies":{},"Tags":[],"VerificationStatus":"PENDING","VerificationInfo":{}}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetEmailIdentity JSON (-want +got):\n%s", diff)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// The SDK escapes '+' and '@' in the path; the identity is found.
	if g := getIdentity(t, c, "User+tag@example.com"); g.IdentityType != types.IdentityTypeEmailAddress {
		t.Errorf("IdentityType %q", g.IdentityType)
	}
	// The local part is case-sensitive.
	_, err := c.GetEmailIdentity(t.Context(), &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("user+tag@example.com")})
	wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
}

func TestV2GetEmailIdentity(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	createIdentity(t, c, "user@example.com")
	createIdentity(t, c, "loner@other.example")

	t.Run("unknown", func(t *testing.T) {
		for _, n := range []string{"unknown.example", "nobody@example.com", "sub.example.com"} {
			_, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(n)})
			wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("a..example.com")})
		wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	})
	// An address reports its own DKIM, not its domain's (as v1's
	// GetIdentityDkimAttributes example shows), and the default key length.
	t.Run("address in a DKIM domain", func(t *testing.T) {
		g := getIdentity(t, c, "user@example.com")
		if d := g.DkimAttributes; d == nil || d.SigningEnabled || d.Status != types.DkimStatusNotStarted || len(d.Tokens) != 0 || d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit {
			t.Errorf("DkimAttributes %+v; want its own: signing off, NOT_STARTED, no tokens, RSA_2048_BIT next", g.DkimAttributes)
		}
	})
	t.Run("verified", func(t *testing.T) {
		markVerified(t, srv, a, east, "loner@other.example")
		g := getIdentity(t, c, "loner@other.example")
		if g.VerificationStatus != types.VerificationStatusSuccess || !g.VerifiedForSendingStatus {
			t.Errorf("VerificationStatus %q VerifiedForSendingStatus %v, want SUCCESS true", g.VerificationStatus, g.VerifiedForSendingStatus)
		}
		if g.VerificationInfo == nil || g.VerificationInfo.LastSuccessTimestamp == nil {
			t.Errorf("VerificationInfo %+v, want LastSuccessTimestamp", g.VerificationInfo)
		}
	})
}

func TestV2ListEmailIdentities(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	var all []string
	for i := range 4 {
		n := fmt.Sprintf("d%d.example", i)
		createIdentity(t, c, n)
		all = append(all, n)
	}
	for i := range 3 {
		n := fmt.Sprintf("u%d@example.com", i)
		createIdentity(t, c, n)
		all = append(all, n)
	}
	all = sorted(all)
	markVerified(t, srv, a, east, "u1@example.com")

	for _, size := range []int32{0, 1, 3, 7, 1000} {
		t.Run(fmt.Sprintf("PageSize=%d", size), func(t *testing.T) {
			infos, pages := listV2(t, c, size)
			if diff := cmp.Diff(all, identityNames(infos)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			wantPages := 1
			if size > 0 {
				wantPages = (len(all) + int(size) - 1) / int(size)
			}
			if pages != wantPages && pages != wantPages+1 {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
	t.Run("manual", func(t *testing.T) {
		in := &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(2)}
		var got []types.IdentityInfo
		for i := 0; ; i++ {
			out := try(c.ListEmailIdentities(ctx, in)).must(t)
			if len(out.EmailIdentities) > 2 {
				t.Fatalf("page of %d, PageSize 2", len(out.EmailIdentities))
			}
			got = append(got, out.EmailIdentities...)
			if out.NextToken == nil {
				break
			}
			if i > 10 {
				t.Fatal("endless pages")
			}
			in.NextToken = out.NextToken
		}
		byName := map[string]types.IdentityInfo{}
		for _, i := range got {
			byName[aws.ToString(i.IdentityName)] = i
		}
		want := map[string]types.IdentityInfo{
			"d0.example":     {IdentityName: aws.String("d0.example"), IdentityType: types.IdentityTypeDomain, SendingEnabled: false, VerificationStatus: types.VerificationStatusPending},
			"u0@example.com": {IdentityName: aws.String("u0@example.com"), IdentityType: types.IdentityTypeEmailAddress, SendingEnabled: false, VerificationStatus: types.VerificationStatusPending},
			"u1@example.com": {IdentityName: aws.String("u1@example.com"), IdentityType: types.IdentityTypeEmailAddress, SendingEnabled: true, VerificationStatus: types.VerificationStatusSuccess},
		}
		for n, w := range want {
			if diff := cmp.Diff(w, byName[n], cmpOpts); diff != "" {
				t.Errorf("%s (-want +got):\n%s", n, diff)
			}
		}
		if len(got) != len(all) {
			t.Errorf("%d identities, want %d", len(got), len(all))
		}
	})
	t.Run("legacy GET binding", func(t *testing.T) {
		for _, size := range []int{-1, 0, 1, 2, 7, 1000} {
			names, pages := listLegacy(t, srv, a, east, size)
			if diff := cmp.Diff(all, sorted(names)); diff != "" {
				t.Errorf("PageSize=%d (-want +got):\n%s", size, diff)
			}
			wantPages := 1
			if size > 0 {
				wantPages = (len(all) + size - 1) / size
			}
			if pages != wantPages && pages != wantPages+1 {
				t.Errorf("PageSize=%d: %d pages, want %d", size, pages, wantPages)
			}
		}
		resp, body := send(t, srv, raw{Method: "GET", Target: "/v2/email/identities?PageSize=1", Creds: a.AWS()})
		var out legacyList
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		want := legacyList{NextToken: out.NextToken}
		want.EmailIdentities = append(want.EmailIdentities, struct {
			IdentityType       string
			IdentityName       string
			SendingEnabled     bool
			VerificationStatus string
		}{"DOMAIN", "d0.example", false, "PENDING"})
		if diff := cmp.Diff(want, out); diff != "" || out.NextToken == "" {
			t.Errorf("first page of 1 (-want +got):\n%s", diff)
		}
		if names, _ := listLegacy(t, srv, a, west, 0); len(names) != 0 {
			t.Errorf("eu-west-1: %q", names)
		}
	})
	t.Run("other region is empty", func(t *testing.T) {
		out := try(a.V2(west).ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{})).must(t)
		if len(out.EmailIdentities) != 0 || out.NextToken != nil {
			t.Errorf("eu-west-1: %v", identityNames(out.EmailIdentities))
		}
	})
}

func TestV2DeleteEmailIdentity(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	createIdentity(t, c, "user+x@example.com")
	createIdentity(t, c, "keep.example")

	for _, n := range []string{"EXAMPLE.com.", "user+x@example.com"} {
		try(c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(n)})).must(t)
	}
	names, _ := listLegacy(t, srv, a, east, -1)
	if diff := cmp.Diff([]string{"keep.example"}, names); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	for _, n := range []string{"example.com", "user+x@example.com", "never.example"} {
		_, err := c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(n)})
		msg := wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
		if !strings.Contains(msg, n) {
			t.Errorf("message %q does not name %s", msg, n)
		}
		_, err = c.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(n)})
		wantAPIError(t, err, "NotFoundException", http.StatusNotFound)
	}
	_, err := c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("bad..example")})
	wantAPIError(t, err, "BadRequestException", http.StatusBadRequest)
	// Created again, it is new.
	createIdentity(t, c, "example.com")
}

func TestV2PutEmailIdentityDkimAttributes(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	created := createIdentity(t, c, "example.com")
	createIdentity(t, c, "user@example.com")
	createIdentity(t, c, "user@nodkim.example")

	put := func(n string, on bool) error {
		_, err := c.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String(n), SigningEnabled: on})
		return err
	}
	for _, on := range []bool{false, true, false} {
		if err := put("example.com", on); err != nil {
			t.Fatalf("SigningEnabled=%v: %v", on, err)
		}
		d := getIdentity(t, c, "example.com").DkimAttributes
		if d.SigningEnabled != on || d.Status != types.DkimStatusPending || !cmp.Equal(d.Tokens, created.DkimAttributes.Tokens) {
			t.Errorf("after SigningEnabled=%v: %+v; want the status and tokens unchanged", on, d)
		}
		// v1 sees the same.
		v1 := dkimAttrs(t, a.V1(east), "example.com")["example.com"]
		if v1.DkimEnabled != on {
			t.Errorf("v1 DkimEnabled %v, want %v", v1.DkimEnabled, on)
		}
	}
	// An address whose domain has Easy DKIM: the same change as v1
	// SetIdentityDkimEnabled, seen by both.
	for _, on := range []bool{true, false} {
		if err := put("user@example.com", on); err != nil {
			t.Fatalf("address in a DKIM domain, SigningEnabled=%v: %v", on, err)
		}
		if got := getIdentity(t, c, "user@example.com").DkimAttributes.SigningEnabled; got != on {
			t.Errorf("address: SigningEnabled %v, want %v", got, on)
		}
		if got := dkimAttrs(t, a.V1(east), "user@example.com")["user@example.com"].DkimEnabled; got != on {
			t.Errorf("address: v1 DkimEnabled %v, want %v", got, on)
		}
	}
	if msg := wantAPIError(t, put("unknown.example", true), "NotFoundException", http.StatusNotFound); !strings.Contains(msg, "unknown.example") {
		t.Errorf("unknown identity: message %q", msg)
	}
	for _, tc := range []struct{ name, id, msg string }{
		{"address whose domain is not an identity", "user@nodkim.example", "Domain nodkim.example is not verified for DKIM signing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, put(tc.id, true), "BadRequestException", http.StatusBadRequest)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

// PutEmailIdentityDkimSigningAttributes: AWS_SES sets up Easy DKIM (on a
// domain added by v1 VerifyDomainIdentity, or again on one that has it);
// a bad BYODKIM key or selector and replication are refused with
// BadRequestException.
func TestV2PutEmailIdentityDkimSigningAttributes(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	verifyDomain(t, a.V1(east), "legacy.example")
	createIdentity(t, c, "user@legacy.example")
	put := func(n string, origin types.DkimSigningAttributesOrigin, attrs *types.DkimSigningAttributes) (*sesv2.PutEmailIdentityDkimSigningAttributesOutput, error) {
		return c.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
			EmailIdentity: aws.String(n), SigningAttributesOrigin: origin, SigningAttributes: attrs})
	}

	out := try(put("legacy.example", types.DkimSigningAttributesOriginAwsSes, nil)).must(t)
	checkDkimTokens(t, out.DkimTokens)
	if out.DkimStatus != types.DkimStatusPending {
		t.Errorf("DkimStatus %q, want PENDING", out.DkimStatus)
	}
	if d := getIdentity(t, c, "legacy.example").DkimAttributes; !cmp.Equal(d.Tokens, out.DkimTokens) || d.Status != types.DkimStatusPending || !d.SigningEnabled {
		t.Errorf("GetEmailIdentity DkimAttributes %+v, want the new tokens, PENDING, signing", d)
	}
	if v1 := dkimAttrs(t, a.V1(east), "legacy.example")["legacy.example"]; !cmp.Equal(v1.DkimTokens, out.DkimTokens) {
		t.Errorf("v1 DkimTokens %q, want %q", v1.DkimTokens, out.DkimTokens)
	}
	// Again, with a key length: the tokens stay.
	again := try(put("legacy.example", types.DkimSigningAttributesOriginAwsSes, &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit})).must(t)
	if !cmp.Equal(again.DkimTokens, out.DkimTokens) {
		t.Errorf("tokens changed: %q, want %q", again.DkimTokens, out.DkimTokens)
	}
	if got := getIdentity(t, c, "legacy.example").DkimAttributes.NextSigningKeyLength; got != types.DkimSigningKeyLengthRsa1024Bit {
		t.Errorf("NextSigningKeyLength %q, want RSA_1024_BIT", got)
	}

	for _, tc := range []struct {
		name   string
		id     string
		origin types.DkimSigningAttributesOrigin
		attrs  *types.DkimSigningAttributes
		code   string
		status int
		msg    string
	}{
		{"BYODKIM", "legacy.example", types.DkimSigningAttributesOriginExternal,
			&types.DkimSigningAttributes{DomainSigningSelector: aws.String("s1"), DomainSigningPrivateKey: aws.String("QUJD")}, "BadRequestException", 400, "Invalid DomainSigningPrivateKey"},
		{"BYODKIM without a selector", "legacy.example", types.DkimSigningAttributesOriginExternal,
			&types.DkimSigningAttributes{DomainSigningPrivateKey: aws.String("QUJD")}, "BadRequestException", 400, "DomainSigningSelector"},
		{"BYODKIM selector of two labels", "legacy.example", types.DkimSigningAttributesOriginExternal,
			&types.DkimSigningAttributes{DomainSigningSelector: aws.String("a.b"), DomainSigningPrivateKey: aws.String("QUJD")}, "BadRequestException", 400, "Invalid DomainSigningSelector"},
		{"replication", "legacy.example", types.DkimSigningAttributesOriginAwsSesEuWest1, nil, "BadRequestException", 400, "AWS_SES_EU_WEST_1"},
		{"selector with AWS_SES", "legacy.example", types.DkimSigningAttributesOriginAwsSes,
			&types.DkimSigningAttributes{DomainSigningSelector: aws.String("s1")}, "BadRequestException", 400, "Bring Your Own DKIM"},
		{"bad key length", "legacy.example", types.DkimSigningAttributesOriginAwsSes,
			&types.DkimSigningAttributes{NextSigningKeyLength: "RSA_4096_BIT"}, "BadRequestException", 400, "RSA_4096_BIT"},
		{"an address", "user@legacy.example", types.DkimSigningAttributesOriginAwsSes, nil, "BadRequestException", 400, "must be a valid domain"},
		{"unknown identity", "unknown.example", types.DkimSigningAttributesOriginAwsSes, nil, "NotFoundException", 404, "unknown.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := put(tc.id, tc.origin, tc.attrs)
			if msg := wantAPIError(t, err, tc.code, tc.status); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

func TestV2PutEmailIdentityMailFromAttributes(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	ctx := t.Context()
	createIdentity(t, c, "example.com")
	createIdentity(t, c, "user@example.com")

	put := func(n string, mf *string, b types.BehaviorOnMxFailure) error {
		_, err := c.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String(n), MailFromDomain: mf, BehaviorOnMxFailure: b})
		return err
	}
	for _, s := range []struct {
		name string
		id   string
		mf   *string
		b    types.BehaviorOnMxFailure
		want types.MailFromAttributes
	}{
		{"set", "example.com", aws.String("mail.example.com"), types.BehaviorOnMxFailureRejectMessage,
			types.MailFromAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: types.MailFromDomainStatusPending, BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage}},
		{"change behaviour only", "example.com", aws.String("mail.example.com"), types.BehaviorOnMxFailureUseDefaultValue,
			types.MailFromAttributes{MailFromDomain: aws.String("mail.example.com"), MailFromDomainStatus: types.MailFromDomainStatusPending, BehaviorOnMxFailure: types.BehaviorOnMxFailureUseDefaultValue}},
		{"remove", "example.com", nil, "",
			types.MailFromAttributes{BehaviorOnMxFailure: types.BehaviorOnMxFailureUseDefaultValue}},
		{"address", "user@example.com", aws.String("bounce.example.com"), types.BehaviorOnMxFailureRejectMessage,
			types.MailFromAttributes{MailFromDomain: aws.String("bounce.example.com"), MailFromDomainStatus: types.MailFromDomainStatusPending, BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage}},
	} {
		if err := put(s.id, s.mf, s.b); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(&s.want, getIdentity(t, c, s.id).MailFromAttributes, cmpOpts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
	// An unknown identity: NotFoundException, as the model lists for every
	// v2 Put* of an identity.
	if msg := wantAPIError(t, put("unknown.example", aws.String("mail.unknown.example"), ""), "NotFoundException", http.StatusNotFound); !strings.Contains(msg, "unknown.example") {
		t.Errorf("message %q does not name the identity", msg)
	}
	for _, tc := range []struct {
		name string
		id   string
		mf   string
		b    types.BehaviorOnMxFailure
		msg  string
	}{
		{name: "not a subdomain", id: "example.com", mf: "mail.example.org", msg: "Provided MAIL-FROM domain mail.example.org"},
		{name: "the domain itself", id: "example.com", mf: "example.com", msg: "Provided MAIL-FROM domain example.com"},
		{name: "bad behaviour", id: "example.com", mf: "mail.example.com", b: "BOUNCE", msg: "BOUNCE"},
		{name: "v1 spelling of behaviour", id: "example.com", mf: "mail.example.com", b: "RejectMessage", msg: "RejectMessage"},
		{name: "malformed mail from", id: "example.com", mf: "-mail.example.com", msg: "-mail.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wantAPIError(t, put(tc.id, aws.String(tc.mf), tc.b), "BadRequestException", http.StatusBadRequest)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

// TestV2Windows: v2 statuses follow the fake clock too.
func TestV2Windows(t *testing.T) {
	t.Parallel()
	clock := sestest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	srv, a := start(t, sestest.Options{Now: clock.Now})
	c := a.V2(east)
	createIdentity(t, c, "example.com")
	createIdentity(t, c, "user@example.com")
	clock.Advance(24 * time.Hour)
	if s := getIdentity(t, c, "user@example.com").VerificationStatus; s != types.VerificationStatusFailed {
		t.Errorf("address after 24h: %q, want FAILED", s)
	}
	if g := getIdentity(t, c, "example.com"); g.VerificationStatus != types.VerificationStatusPending || g.DkimAttributes.Status != types.DkimStatusPending {
		t.Errorf("domain after 24h: %q / DKIM %q, want PENDING", g.VerificationStatus, g.DkimAttributes.Status)
	}
	clock.Advance(48 * time.Hour)
	if g := getIdentity(t, c, "example.com"); g.VerificationStatus != types.VerificationStatusFailed || g.DkimAttributes.Status != types.DkimStatusFailed {
		t.Errorf("domain after 72h: %q / DKIM %q, want FAILED", g.VerificationStatus, g.DkimAttributes.Status)
	}
	resp, body := send(t, srv, raw{Method: "GET", Target: "/v2/email/identities", Creds: a.AWS()})
	var out legacyList
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK || len(out.EmailIdentities) != 2 {
		t.Fatalf("list: %d %s (%v)", resp.StatusCode, body, err)
	}
	for _, i := range out.EmailIdentities {
		if i.VerificationStatus != "FAILED" || i.SendingEnabled {
			t.Errorf("list: %s %q %v, want FAILED false", i.IdentityName, i.VerificationStatus, i.SendingEnabled)
		}
	}
}

// Tag limits are in characters (sesv2 model, Tag: "A tag key can contain
// as many as 128 characters. A tag value can contain as many as 256
// characters. The characters can be Unicode letters ..."), not bytes.
func TestV2TagsUnicode(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	c := a.V2(east)
	key, value := strings.Repeat("é", 128), strings.Repeat("ü", 256)
	_, err := c.CreateEmailIdentity(t.Context(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("tags.example"),
		Tags:          []types.Tag{{Key: aws.String(key), Value: aws.String(value)}, {Key: aws.String("Kostenstelle"), Value: aws.String("Bücher")}},
	})
	if err != nil {
		t.Fatalf("128-character key and 256-character value refused: %v", err)
	}
	want := []types.Tag{{Key: aws.String(key), Value: aws.String(value)}, {Key: aws.String("Kostenstelle"), Value: aws.String("Bücher")}}
	if diff := cmp.Diff(want, getIdentity(t, c, "tags.example").Tags, cmpOpts); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
}

// TestV2ListFilter: the Filter of ListEmailIdentities (aws-sdk-go-v2 sesv2
// since v1.77.0, POST /v2/email/list-identities).
func TestV2ListFilter(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	c := a.V2(east)
	for _, n := range []string{"alpha.example", "beta.example", "User@alpha.example", "other@beta.example", "gamma.test"} {
		createIdentity(t, c, n)
	}
	markVerified(t, srv, a, east, "other@beta.example")
	markDkimVerified(t, srv, a, east, "gamma.test")

	for _, tc := range []struct {
		name   string
		filter map[string]string
		want   []string
		code   string
	}{
		{name: "none", want: []string{"User@alpha.example", "alpha.example", "beta.example", "gamma.test", "other@beta.example"}},
		{name: "domains", filter: map[string]string{"IDENTITY_TYPE": "DOMAIN"}, want: []string{"alpha.example", "beta.example", "gamma.test"}},
		{name: "addresses", filter: map[string]string{"IDENTITY_TYPE": "EMAIL_ADDRESS"}, want: []string{"User@alpha.example", "other@beta.example"}},
		{name: "verified", filter: map[string]string{"VERIFICATION_STATUS": "SUCCESS"}, want: []string{"gamma.test", "other@beta.example"}},
		{name: "pending domains", filter: map[string]string{"VERIFICATION_STATUS": "PENDING", "IDENTITY_TYPE": "DOMAIN"}, want: []string{"alpha.example", "beta.example"}},
		{name: "name contains", filter: map[string]string{"IDENTITY_NAME_CONTAINS": "alpha"}, want: []string{"User@alpha.example", "alpha.example"}},
		{name: "name contains, as written", filter: map[string]string{"IDENTITY_NAME_CONTAINS": "User@"}, want: []string{"User@alpha.example"}},
		{name: "nothing matches", filter: map[string]string{"IDENTITY_NAME_CONTAINS": "zeta"}},
		{name: "bad type", filter: map[string]string{"IDENTITY_TYPE": "Domain"}, code: "BadRequestException"},
		{name: "bad status", filter: map[string]string{"VERIFICATION_STATUS": "Success"}, code: "BadRequestException"},
		{name: "bad key", filter: map[string]string{"COLOUR": "blue"}, code: "BadRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, size := range []int32{1, 2, 1000} {
				p := sesv2.NewListEmailIdentitiesPaginator(c, &sesv2.ListEmailIdentitiesInput{Filter: tc.filter, PageSize: aws.Int32(size)})
				var names []string
				for p.HasMorePages() {
					out, err := p.NextPage(t.Context())
					if tc.code != "" {
						wantAPIError(t, err, tc.code, http.StatusBadRequest)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					for _, i := range out.EmailIdentities {
						names = append(names, aws.ToString(i.IdentityName))
					}
				}
				if got != nil && !cmp.Equal(sorted(names), got) {
					t.Errorf("PageSize %d gives %q, larger pages %q", size, names, got)
				}
				got = sorted(names)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
