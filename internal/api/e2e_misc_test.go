package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// TestSpecialNames: addresses and domains whose characters need escaping in
// a v2 path or a v1 form, through both SDK clients.
func TestSpecialNames(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	v1, v2 := a.V1(east), a.V2(east)
	ctx := t.Context()
	for _, tc := range []struct{ in, canonical string }{
		{"user+tag@example.com", "user+tag@example.com"},
		{"a/b@example.com", "a/b@example.com"},
		{"100%@example.com", "100%@example.com"},
		{"q?x=1&y#z@example.com", "q?x=1&y#z@example.com"},
		{`"john doe"@example.com`, `"john doe"@example.com`},
		{`"a@b"@example.com`, `"a@b"@example.com`},
		{"o'brien@Example.COM", "o'brien@example.com"},
		{"user@bücher.example", "user@xn--bcher-kva.example"},
		{"bücher.example", "xn--bcher-kva.example"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			out := createIdentity(t, v2, tc.in)
			for _, n := range []string{tc.in, tc.canonical} {
				if g := getIdentity(t, v2, n); g.IdentityType != out.IdentityType {
					t.Errorf("v2 get %q: %q, want %q", n, g.IdentityType, out.IdentityType)
				}
			}
			if got := verificationAttrs(t, v1, tc.canonical); len(got) != 1 {
				t.Errorf("v1 does not find %q: %v", tc.canonical, got)
			}
			try(v2.PutEmailIdentityMailFromAttributes(ctx, &sesv2.PutEmailIdentityMailFromAttributesInput{EmailIdentity: aws.String(tc.in), BehaviorOnMxFailure: types.BehaviorOnMxFailureRejectMessage})).must(t)
			if got := mailFromAttrs(t, v1, tc.canonical)[tc.canonical].BehaviorOnMXFailure; got != "RejectMessage" {
				t.Errorf("v1 BehaviorOnMXFailure %q after v2 put", got)
			}
			try(v2.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String(tc.in)})).must(t)
			if got := verificationAttrs(t, v1, tc.canonical); len(got) != 0 {
				t.Errorf("v1 still finds %q after v2 delete", tc.canonical)
			}
			// And v1 makes it, v2 finds it.
			if strings.Contains(tc.in, "@") {
				verifyEmail(t, v1, tc.in)
			} else {
				verifyDomain(t, v1, tc.in)
			}
			getIdentity(t, v2, tc.canonical)
		})
	}
}

// TestConcurrent: many clients at once on one identity.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	_, a := start(t)
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	tokens := make([]string, n)
	dkim := make([][]string, n)
	errs := make([]error, n)
	created := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := a.V1(east)
			out, err := c.VerifyDomainIdentity(ctx, &ses.VerifyDomainIdentityInput{Domain: aws.String("race.example")})
			if err != nil {
				errs[i] = err
				return
			}
			tokens[i] = aws.ToString(out.VerificationToken)
			d, err := c.VerifyDomainDkim(ctx, &ses.VerifyDomainDkimInput{Domain: aws.String("race.example")})
			if err != nil {
				errs[i] = err
				return
			}
			dkim[i] = d.DkimTokens
			c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"race.example", "race2.example"}})
			_, created[i] = a.V2(east).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("race2.example")})
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] || !cmp.Equal(dkim[i], dkim[0]) {
			t.Errorf("client %d got token %q / %q, client 0 %q / %q", i, tokens[i], dkim[i], tokens[0], dkim[0])
		}
		var ae smithy.APIError
		switch {
		case created[i] == nil:
			ok++
		case errors.As(created[i], &ae) && ae.ErrorCode() == "AlreadyExistsException":
		default:
			t.Errorf("client %d create: %v", i, created[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent CreateEmailIdentity calls succeeded, want 1", ok)
	}
	if got := aws.ToString(verificationAttrs(t, a.V1(east), "race.example")["race.example"].VerificationToken); got != tokens[0] {
		t.Errorf("stored token %q, clients got %q", got, tokens[0])
	}
}

// TestPresigned: a presigned URL (the query-string form of SigV4) works
// for both protocols, and expires.
func TestPresigned(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	createIdentity(t, a.V2(east), "example.com")
	presign := func(target string, at time.Time, expires time.Duration) string {
		t.Helper()
		req := srv.NewRequest("GET", target, nil)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires.Seconds())))
		req.URL.RawQuery = q.Encode()
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), a.AWS(), req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ses", east, at)
		if err != nil {
			t.Fatal(err)
		}
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return p.RequestURI()
	}
	for _, tc := range []struct {
		name, target string
		at           time.Time
		expires      time.Duration
		status       int
		code         string
		check        func(*testing.T, *http.Response, []byte, int, string) string
	}{
		{"v1", "/?Action=ListIdentities&Version=2010-12-01", time.Now(), 60 * time.Second, 200, "", wantV1Error},
		{"v2", "/v2/email/identities/example.com", time.Now(), 60 * time.Second, 200, "", wantV2Error},
		{"v1 expired", "/?Action=ListIdentities&Version=2010-12-01", time.Now().Add(-2 * time.Minute), 60 * time.Second, 400, "RequestExpired", wantV1Error},
		{"v2 expired", "/v2/email/identities/example.com", time.Now().Add(-2 * time.Minute), 60 * time.Second, 400, "RequestExpired", wantV2Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := srv.Do(srv.NewRequest("GET", presign(tc.target, tc.at, tc.expires), nil))
			if tc.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
				}
				return
			}
			tc.check(t, resp, body, tc.status, tc.code)
		})
	}
}

// TestUncleanPaths: paths that Go's ServeMux would redirect (no slash after
// /v2/email, //, /./, /../) reach the API as sent, so a client gets an SES
// answer rather than a redirect that it follows into a bad signature: v1
// serves any path, v2 names the operations it has.
func TestUncleanPaths(t *testing.T) {
	srv, a := start(t)
	list := v1Body("Action", "ListIdentities", "Version", "2010-12-01")
	notRedirected := func(t *testing.T, resp *http.Response, target string) {
		t.Helper()
		if got := resp.Request.URL.EscapedPath(); got != target {
			t.Fatalf("%s was redirected to %s", target, got)
		}
	}
	for _, target := range []string{"//", "/./", "/x/../"} {
		t.Run("v1 "+target, func(t *testing.T) {
			resp, body := send(t, srv, raw{Target: target, Body: list, Creds: a.AWS(),
				Header: http.Header{"Content-Type": {formType}}})
			notRedirected(t, resp, target)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<ListIdentitiesResponse") {
				t.Errorf("POST %s: HTTP %d\n%s", target, resp.StatusCode, body)
			}
		})
	}
	for _, target := range []string{"/v2/email", "/v2", "/v2/email//identities", "/v2/email/./identities"} {
		t.Run("v2 "+target, func(t *testing.T) {
			resp, body := send(t, srv, raw{Method: http.MethodGet, Target: target, Creds: a.AWS()})
			notRedirected(t, resp, target)
			wantV2Error(t, resp, body, http.StatusNotFound, "UnknownOperationException")
		})
	}
}
