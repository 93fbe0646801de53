package api_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/sestest"
)

// TestAuth sends requests that only a broken or hostile client sends,
// signed with the SDK's own signer, to both protocols.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	ctx := t.Context()
	createIdentity(t, a.V2(east), "example.com")
	good := a.AWS()
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "whatever"}
	wrongSecret := aws.Credentials{AccessKeyID: good.AccessKeyID, SecretAccessKey: "not-the-secret-not-the-secret-not-the-se"}
	k2, err := srv.Sesame.Accounts.AddKey(ctx, a.AccountId)
	if err != nil {
		t.Fatal(err)
	}
	revoked := aws.Credentials{AccessKeyID: k2.AccessKeyId, SecretAccessKey: string(k2.SecretAccessKey)}
	// The second key works until it is revoked.
	try(srv.V1(revoked, east).ListIdentities(ctx, &ses.ListIdentitiesInput{})).must(t)
	if err := srv.Sesame.Accounts.Revoke(ctx, k2.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	protocols := []struct {
		name, method, target, body string
		wantErr                    func(t *testing.T, resp *http.Response, body []byte, status int, code string) string
	}{
		{"v1", "POST", "/", v1Body("Action", "GetIdentityVerificationAttributes", "Version", "2010-12-01", "Identities.member.1", "example.com"), wantV1Error},
		{"v2", "GET", "/v2/email/identities/example.com", "", wantV2Error},
	}
	cases := []struct {
		name    string
		r       raw
		v1, v2  int    // status
		code    string // error code of both, when not 200
		v1Code  string // v1 only
		msgPart string
	}{
		{name: "signed", r: raw{Creds: good}, v1: 200, v2: 200},
		{name: "signed in another region", r: raw{Creds: good, Region: west}, v1: 200, v2: 404, v1Code: "", code: "NotFoundException"},
		{name: "unsigned", r: raw{}, v1: 403, v2: 403, code: "MissingAuthenticationToken", msgPart: "Authentication Token"},
		{name: "garbled credential", r: raw{Creds: good, Authorization: "AWS4-HMAC-SHA256 Credential=garbage, SignedHeaders=host;x-amz-date, Signature=00"}, v1: 400, v2: 400, code: "IncompleteSignature", msgPart: "Credential"},
		{name: "no signature", r: raw{Creds: good, Authorization: "AWS4-HMAC-SHA256 Credential=" + good.AccessKeyID + "/" + now.UTC().Format("20060102") + "/us-east-1/ses/aws4_request"}, v1: 400, v2: 400, code: "IncompleteSignature", msgPart: "Signature"},
		{name: "no date", r: raw{Creds: good, Header: http.Header{}, Authorization: "AWS4-HMAC-SHA256 Credential=" + good.AccessKeyID + "/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=00"}, v1: 400, v2: 400, code: "IncompleteSignature", msgPart: "'X-Amz-Date' or a 'Date' header"},
		{name: "unknown key", r: raw{Creds: unknown}, v1: 403, v2: 403, code: "InvalidClientTokenId", msgPart: "security token"},
		{name: "wrong secret", r: raw{Creds: wrongSecret}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "signature"},
		{name: "revoked key", r: raw{Creds: revoked}, v1: 403, v2: 403, code: "InvalidClientTokenId", msgPart: "security token"},
		{name: "16 minutes late", r: raw{Creds: good, At: now.Add(-16 * time.Minute)}, v1: 400, v2: 400, code: "RequestExpired", msgPart: "Signature expired"},
		{name: "16 minutes early", r: raw{Creds: good, At: now.Add(16 * time.Minute)}, v1: 400, v2: 400, code: "RequestExpired", msgPart: "not yet current"},
		{name: "14 minutes late", r: raw{Creds: good, At: now.Add(-14 * time.Minute)}, v1: 200, v2: 200},
		{name: "service email", r: raw{Creds: good, Service: "email"}, v1: 200, v2: 403, code: "SignatureDoesNotMatch", msgPart: "'ses'"},
		{name: "service s3", r: raw{Creds: good, Service: "s3"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "service"},
		{name: "region in upper case", r: raw{Creds: good, Region: "US-EAST-1"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "valid region, not 'US-EAST-1'"},
		{name: "region with a space", r: raw{Creds: good, Region: "us east"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "valid region"},
		// Shaped like regions, but SES has no endpoint there: identities
		// must not get a new place to live for each name a client makes up.
		{name: "made-up region", r: raw{Creds: good, Region: "zz-fake-9"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "valid region, not 'zz-fake-9'. Use a region this server serves: "},
		{name: "one-letter region", r: raw{Creds: good, Region: "a"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "valid region, not 'a'"},
		{name: "newest SES region", r: raw{Creds: good, Region: "ap-southeast-5"}, v1: 200, v2: 404, code: "NotFoundException"},
		{name: "other algorithm", r: raw{Creds: good, Authorization: "AWS3-HTTPS AWSAccessKeyId=" + good.AccessKeyID + ",Algorithm=HmacSHA256,Signature=x"}, v1: 403, v2: 403, code: "SignatureDoesNotMatch", msgPart: "algorithm"},
	}
	for _, p := range protocols {
		for _, c := range cases {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				r := c.r
				r.Method, r.Target, r.Body = p.method, p.target, p.body
				if c.name == "no date" {
					r.Creds = aws.Credentials{} // unsigned but for the header, so no X-Amz-Date
				}
				resp, body := send(t, srv, r)
				status := c.v1
				if p.name == "v2" {
					status = c.v2
				}
				if status == 200 {
					if resp.StatusCode != 200 {
						t.Fatalf("HTTP %d, want 200: %s", resp.StatusCode, body)
					}
					return
				}
				msg := p.wantErr(t, resp, body, status, c.code)
				if !strings.Contains(msg, c.msgPart) {
					t.Errorf("message %q, want it to contain %q", msg, c.msgPart)
				}
			})
		}
	}

	t.Run("tampered body", func(t *testing.T) {
		body := v1Body("Action", "VerifyDomainIdentity", "Version", "2010-12-01", "Domain", "signed.example")
		req := srv.NewRequest("POST", "/", []byte(strings.Replace(body, "signed", "forged", 1)))
		req.Header.Set("Content-Type", formType)
		if err := sestest.Sign(req, []byte(body), good, "ses", east, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, got := srv.Do(req)
		wantV1Error(t, resp, got, http.StatusForbidden, "SignatureDoesNotMatch")
		if got := verificationAttrs(t, a.V1(east), "forged.example", "signed.example"); len(got) != 0 {
			t.Errorf("a forged request changed the store: %v", got)
		}
	})

	t.Run("SDK clients", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			creds aws.Credentials
			code  string
		}{
			{"unknown key", unknown, "InvalidClientTokenId"},
			{"wrong secret", wrongSecret, "SignatureDoesNotMatch"},
			{"revoked key", revoked, "InvalidClientTokenId"},
		} {
			_, err := srv.V1(c.creds, east).ListIdentities(ctx, &ses.ListIdentitiesInput{})
			wantAPIError(t, err, c.code, http.StatusForbidden)
			_, err = srv.V2(c.creds, east).GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("example.com")})
			wantAPIError(t, err, c.code, http.StatusForbidden)
		}
	})
}

// TestV1Get: the Query protocol over GET, with the parameters in the
// signed query string.
func TestV1Get(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	get := func(service string, kv ...string) []byte {
		t.Helper()
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		resp, body := send(t, srv, raw{Method: "GET", Target: "/?" + q.Encode(), Creds: a.AWS(), Service: service})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", q.Encode(), resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
			t.Errorf("Content-Type %q", ct)
		}
		return body
	}
	var verify struct {
		XMLName xml.Name `xml:"http://ses.amazonaws.com/doc/2010-12-01/ VerifyDomainIdentityResponse"`
		Token   string   `xml:"VerifyDomainIdentityResult>VerificationToken"`
		ID      string   `xml:"ResponseMetadata>RequestId"`
	}
	body := get("ses", "Action", "VerifyDomainIdentity", "Version", "2010-12-01", "Domain", "get.example")
	if err := xml.Unmarshal(body, &verify); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	checkVerificationToken(t, verify.Token)
	if verify.ID == "" {
		t.Error("no RequestId")
	}

	var list struct {
		Members []string `xml:"ListIdentitiesResult>Identities>member"`
	}
	body = get("email", "Action", "ListIdentities", "Version", "2010-12-01")
	if err := xml.Unmarshal(body, &list); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if diff := cmp.Diff([]string{"get.example"}, list.Members); diff != "" {
		t.Errorf("ListIdentities over GET (-want +got):\n%s", diff)
	}

	var attrs struct {
		Entries []struct {
			Key    string `xml:"key"`
			Status string `xml:"value>VerificationStatus"`
			Token  string `xml:"value>VerificationToken"`
		} `xml:"GetIdentityVerificationAttributesResult>VerificationAttributes>entry"`
	}
	body = get("ses", "Action", "GetIdentityVerificationAttributes", "Version", "2010-12-01", "Identities.member.1", "get.example", "Identities.member.2", "nobody@get.example")
	if err := xml.Unmarshal(body, &attrs); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(attrs.Entries) != 1 || attrs.Entries[0].Key != "get.example" || attrs.Entries[0].Status != "Pending" || attrs.Entries[0].Token != verify.Token {
		t.Errorf("GetIdentityVerificationAttributes over GET: %+v", attrs.Entries)
	}
	// The SDK (POST) sees what GET made.
	if got := aws.ToString(verificationAttrs(t, a.V1(east), "get.example")["get.example"].VerificationToken); got != verify.Token {
		t.Errorf("POST reads token %q, GET made %q", got, verify.Token)
	}

	// Errors over GET are XML too.
	q := "/?" + url.Values{"Action": {"VerifyDomainIdentity"}, "Version": {"2010-12-01"}, "Domain": {"bad..example"}}.Encode()
	resp, body := send(t, srv, raw{Method: "GET", Target: q, Creds: a.AWS()})
	wantV1Error(t, resp, body, http.StatusBadRequest, "InvalidParameterValue")
}

// TestV1EmptyResults: operations without output still send <OpResult/>
// (botocore fails without it), except those with no output shape.
func TestV1EmptyResults(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	verifyDomain(t, a.V1(east), "example.com")
	markVerified(t, srv, a, east, "example.com")
	tmpl := []string{"TemplateName", "t1", "FromEmailAddress", "no-reply@example.com", "TemplateSubject", "Verify",
		"TemplateContent", "<p>Click</p>", "SuccessRedirectionURL", "https://example.com/ok", "FailureRedirectionURL", "https://example.com/no"}
	for _, tc := range []struct {
		action string
		kv     []string
		result bool
	}{
		// The model gives the template actions no output shape either.
		{"CreateCustomVerificationEmailTemplate", tmpl, false},
		{"UpdateCustomVerificationEmailTemplate", []string{"TemplateName", "t1", "TemplateSubject", "Verify me"}, false},
		{"DeleteCustomVerificationEmailTemplate", []string{"TemplateName", "t1"}, false},
		{"SetIdentityHeadersInNotificationsEnabled", []string{"Identity", "example.com", "NotificationType", "Bounce", "Enabled", "true"}, true},
		{"VerifyEmailIdentity", []string{"EmailAddress", "a@example.com"}, true},
		{"VerifyEmailAddress", []string{"EmailAddress", "b@example.com"}, false},
		{"SetIdentityMailFromDomain", []string{"Identity", "example.com", "MailFromDomain", "mail.example.com"}, true},
		{"DeleteIdentity", []string{"Identity", "a@example.com"}, true},
		{"DeleteVerifiedEmailAddress", []string{"EmailAddress", "b@example.com"}, false},
		{"ListIdentities", []string{"IdentityType", "EmailAddress"}, true},
	} {
		t.Run(tc.action, func(t *testing.T) {
			resp, body := send(t, srv, raw{Body: v1Body(append([]string{"Action", tc.action, "Version", "2010-12-01"}, tc.kv...)...), Creds: a.AWS()})
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			s := string(body)
			if !strings.HasPrefix(s, `<`+tc.action+`Response xmlns="`+xmlns+`">`) {
				t.Errorf("body does not start with <%sResponse xmlns=...>: %s", tc.action, s)
			}
			if has := strings.Contains(s, "<"+tc.action+"Result>") || strings.Contains(s, "<"+tc.action+"Result/>"); has != tc.result {
				t.Errorf("<%sResult> present: %v, want %v: %s", tc.action, has, tc.result, s)
			}
			if !strings.Contains(s, "<ResponseMetadata><RequestId>"+resp.Header.Get("x-amzn-RequestId")+"</RequestId></ResponseMetadata>") {
				t.Errorf("RequestId of the body is not the header's: %s", s)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	srv := sestest.New(t)
	for _, m := range []string{"GET", "HEAD"} {
		resp, body := srv.Do(srv.NewRequest(m, "/healthz", nil))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /healthz: %d %s", m, resp.StatusCode, body)
		}
		if m == "GET" && strings.TrimSpace(string(body)) != "ok" {
			t.Errorf("GET /healthz body %q, want ok", body)
		}
	}
}
