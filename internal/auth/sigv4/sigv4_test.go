package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
	"github.com/google/go-cmp/cmp"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	errAKID    = "AKIALOOKUPFAILS00000"
	sesHost    = "https://email.us-east-1.amazonaws.com"
	formType   = "application/x-www-form-urlencoded; charset=utf-8"
	v1Body     = "Action=GetIdentityVerificationAttributes&Version=2010-12-01&Identities.member.1=example.com&Identities.member.2=user%40example.com"
)

var testTime = time.Date(2026, 11, 22, 10, 35, 24, 0, time.UTC)

var errDB = errors.New("database is down")

func testLookup(_ context.Context, id string) (string, bool, error) {
	switch id {
	case testAKID:
		return testSecret, true, nil
	case errAKID:
		return "", false, errDB
	}
	return "", false, nil
}

func newVerifier(services ...string) *Verifier {
	return &Verifier{Lookup: testLookup, Services: services, Now: func() time.Time { return testTime }}
}

// signed is a request as the server sees it after an SDK signed it.
type signed struct {
	req       *http.Request
	body      []byte
	canonical string // the SDK's canonical request
}

type signOpts struct {
	service, region, akid, secret string
	at                            time.Time
}

func defaults(o signOpts) signOpts {
	if o.service == "" {
		o.service = "ses"
	}
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.akid == "" {
		o.akid, o.secret = testAKID, testSecret
	}
	if o.at.IsZero() {
		o.at = testTime
	}
	return o
}

// sdkSign signs with aws-sdk-go-v2's v4.Signer and sends the result through
// the HTTP/1.1 wire format, so the verifier sees what a server would.
func sdkSign(t testing.TB, method, target string, header http.Header, body string, o signOpts) signed {
	t.Helper()
	o = defaults(o)
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	var canonical string
	logger := logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) { canonical = v[0].(string) })
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: o.akid, SecretAccessKey: o.secret},
		req, hex.EncodeToString(sum[:]), o.service, o.region, o.at, func(so *v4.SignerOptions) {
			so.LogSigning, so.Logger = true, logger
		})
	if err != nil {
		t.Fatal(err)
	}
	sr, b := overWire(t, req)
	return signed{sr, b, canonical}
}

// sdkPresign presigns a request with v4.Signer.PresignHTTP.
func sdkPresign(t testing.TB, method, target string, o signOpts) signed {
	t.Helper()
	o = defaults(o)
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	var canonical string
	logger := logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) { canonical = v[0].(string) })
	sum := sha256.Sum256(nil)
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: o.akid, SecretAccessKey: o.secret},
		req, hex.EncodeToString(sum[:]), o.service, o.region, o.at, func(so *v4.SignerOptions) {
			so.LogSigning, so.Logger = true, logger
		})
	if err != nil {
		t.Fatal(err)
	}
	preq, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if k != "Host" {
			preq.Header[k] = vs
		}
	}
	sr, b := overWire(t, preq)
	return signed{sr, b, canonical}
}

func overWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

func mustVerify(t *testing.T, v *Verifier, s signed) *Result {
	t.Helper()
	res, err := v.Verify(context.Background(), s.req, s.body)
	if err != nil {
		t.Fatalf("Verify(%s %s) = %v\nSDK canonical request:\n%s", s.req.Method, s.req.RequestURI, err, s.canonical)
	}
	return res
}

func wantKind(t *testing.T, err error, kind Kind, msgPrefix string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error of kind %v", err, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("kind = %v, want %v (message %q)", e.Kind, kind, e.Message)
	}
	if !strings.HasPrefix(e.Message, msgPrefix) {
		t.Fatalf("message = %q, want prefix %q", e.Message, msgPrefix)
	}
	return e
}

// sdkCases are requests as the Go SDK's SES clients send them.
func sdkCases() []struct {
	name, method, target string
	header               http.Header
	body                 string
} {
	return []struct {
		name, method, target string
		header               http.Header
		body                 string
	}{
		{"v1 POST form", "POST", sesHost + "/", http.Header{"Content-Type": {formType}}, v1Body},
		{"v1 GET query", "GET", sesHost + "/?Action=ListIdentities&Version=2010-12-01&IdentityType=Domain&MaxItems=10", nil, ""},
		{"v2 GET %2B%40", "GET", sesHost + "/v2/email/identities/user%2Btag%40example.com", nil, ""},
		{"v2 PUT", "PUT", sesHost + "/v2/email/identities/user%2Btag%40example.com/dkim",
			http.Header{"Content-Type": {"application/json"}}, `{"SigningEnabled":true}`},
		{"v2 DELETE space", "DELETE", sesHost + "/v2/email/custom-verification-email-templates/my%20template", nil, ""},
		{"v2 POST", "POST", sesHost + "/v2/email/identities",
			http.Header{"Content-Type": {"application/json"}}, `{"EmailIdentity":"example.com","Tags":[{"Key":"a b","Value":"ü"}]}`},
		{"literal plus and tilde", "GET", sesHost + "/v2/email/identities/a+b%7Ec~d", nil, ""},
		{"odd query", "GET", sesHost + "/v2/email/identities?PageSize=10&NextToken=a%2Fb%2Bc%3D%3D&tag=b&tag=a&tag=a-b&tag=a%2Fb&x=a+b&empty=&flag&%E2%9C%93=%7E*&sp%20ace=%21%27%28%29", nil, ""},
		{"header spacing and repeats", "GET", sesHost + "/v2/email/identities",
			http.Header{"X-Custom": {"  a   b  c "}, "X-Multi": {"1", " 2 "}, "Content-Type": {"application/json"}}, ""},
		{"non-default port", "GET", "http://127.0.0.1:8080/v2/email/identities/x%40example.com", nil, ""},
		{"unicode path", "GET", sesHost + "/v2/email/identities/%C3%BCser%40b%C3%BCcher.example", nil, ""},
	}
}

func TestSDKSigned(t *testing.T) {
	v := newVerifier("ses")
	for _, c := range sdkCases() {
		t.Run(c.name, func(t *testing.T) {
			s := sdkSign(t, c.method, c.target, c.header, c.body, signOpts{})
			res := mustVerify(t, v, s)
			want := &Result{AccessKeyID: testAKID, Region: "us-east-1", Service: "ses", Time: testTime}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCanonicalMatchesSDK cross-checks the hand-written canonical request
// against the SDK's, byte for byte: a wrong secret makes Verify report the
// canonical request it computed.
func TestCanonicalMatchesSDK(t *testing.T) {
	v := &Verifier{Lookup: func(context.Context, string) (string, bool, error) { return "other", true, nil },
		Now: func() time.Time { return testTime }}
	check := func(t *testing.T, s signed) {
		_, err := v.Verify(context.Background(), s.req, s.body)
		e := wantKind(t, err, Mismatch, msgSignature)
		if diff := cmp.Diff(s.canonical, e.CanonicalRequest); diff != "" {
			t.Errorf("canonical request (-sdk +ours):\n%s", diff)
		}
		if !strings.Contains(e.Message, "The Canonical String for this request should have been\n'"+s.canonical+"'") {
			t.Errorf("message lacks the canonical string: %q", e.Message)
		}
	}
	for _, c := range sdkCases() {
		t.Run(c.name, func(t *testing.T) { check(t, sdkSign(t, c.method, c.target, c.header, c.body, signOpts{})) })
	}
	t.Run("presigned", func(t *testing.T) {
		check(t, sdkPresign(t, "GET", sesHost+"/v2/email/identities/user%2Btag%40example.com?X-Amz-Expires=300&b=2&a=1", signOpts{}))
	})
}

func TestServiceEmail(t *testing.T) {
	s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{service: "email"})
	res := mustVerify(t, newVerifier("ses", "email"), s)
	if res.Service != "email" {
		t.Errorf("Service = %q, want email", res.Service)
	}
	_, err := newVerifier("ses").Verify(context.Background(), s.req, s.body)
	wantKind(t, err, Mismatch, "Credential should be scoped to correct service: 'ses'.")
	// An empty Services list means {"ses"}.
	_, err = newVerifier().Verify(context.Background(), s.req, s.body)
	wantKind(t, err, Mismatch, "Credential should be scoped to correct service: 'ses'.")
}

func TestPresigned(t *testing.T) {
	v := newVerifier("ses")
	for _, target := range []string{
		sesHost + "/?Action=ListIdentities&Version=2010-12-01&X-Amz-Expires=300",
		sesHost + "/v2/email/identities/user%2Btag%40example.com?X-Amz-Expires=60",
		sesHost + "/v2/email/identities?PageSize=5&NextToken=a%2Fb%2Bc&X-Amz-Expires=604800",
		sesHost + "/v2/email/identities", // no X-Amz-Expires: the skew window applies
	} {
		s := sdkPresign(t, "GET", target, signOpts{})
		if !strings.Contains(s.req.URL.RawQuery, "X-Amz-Signature=") {
			t.Fatalf("not presigned: %s", s.req.URL)
		}
		mustVerify(t, v, s)
	}

	s := sdkPresign(t, "GET", sesHost+"/?Action=ListIdentities&Version=2010-12-01&X-Amz-Expires=300", signOpts{})
	late := newVerifier("ses")
	late.Now = func() time.Time { return testTime.Add(301 * time.Second) }
	_, err := late.Verify(context.Background(), s.req, s.body)
	wantKind(t, err, Expired, msgPresignExpired)
	late.Now = func() time.Time { return testTime.Add(299 * time.Second) }
	if _, err := late.Verify(context.Background(), s.req, s.body); err != nil {
		t.Fatalf("within X-Amz-Expires: %v", err)
	}
	early := newVerifier("ses")
	early.Now = func() time.Time { return testTime.Add(-16 * time.Minute) }
	_, err = early.Verify(context.Background(), s.req, s.body)
	wantKind(t, err, Expired, "Signature not yet current: ")

	// Presigned without X-Amz-Expires, 16 minutes late.
	s2 := sdkPresign(t, "GET", sesHost+"/v2/email/identities", signOpts{})
	_, err = late.Verify(context.Background(), s2.req, s2.body) // 299 s: fine
	if err != nil {
		t.Fatal(err)
	}
	late.Now = func() time.Time { return testTime.Add(16 * time.Minute) }
	_, err = late.Verify(context.Background(), s2.req, s2.body)
	wantKind(t, err, Expired, "Signature expired: ")

	// Tampering with the query breaks the signature.
	tampered := *s.req
	tampered.RequestURI = strings.Replace(s.req.RequestURI, "Action=ListIdentities", "Action=DeleteIdentity", 1)
	_, err = v.Verify(context.Background(), &tampered, s.body)
	wantKind(t, err, Mismatch, msgSignature)

	// Missing parts.
	for _, drop := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		r := withQuery(t, s.req, func(k string) bool { return k == drop })
		_, err = v.Verify(context.Background(), r, nil)
		wantKind(t, err, Incomplete, msgPresignMissing)
	}
	r := withQuery(t, s.req, nil, "X-Amz-Expires=abc")
	_, err = v.Verify(context.Background(), r, nil)
	wantKind(t, err, Incomplete, "X-Amz-Expires should be a number")
	r = withQuery(t, s.req, nil, "X-Amz-Expires=604801")
	_, err = v.Verify(context.Background(), r, nil)
	wantKind(t, err, Incomplete, "X-Amz-Expires must be less than a week")
	r = withQuery(t, s.req, func(k string) bool { return k == "X-Amz-Algorithm" }, "X-Amz-Algorithm=AWS4-HMAC-SHA512")
	_, err = v.Verify(context.Background(), r, nil)
	wantKind(t, err, Mismatch, "X-Amz-Algorithm only supports")
	r = withQuery(t, s.req, func(k string) bool { return k == "X-Amz-SignedHeaders" }, "X-Amz-SignedHeaders=x-amz-date")
	_, err = v.Verify(context.Background(), r, nil)
	wantKind(t, err, Incomplete, msgHostNotSigned)

	// A presigned URL plus an Authorization header is ambiguous.
	both := *s.req
	both.Header = http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=x"}}
	_, err = v.Verify(context.Background(), &both, nil)
	wantKind(t, err, Incomplete, msgTwoMechanisms)
}

// withQuery copies r, dropping query pairs whose raw key matches drop and
// replacing/adding the raw pairs in set (the query keys are substituted in place when present).
func withQuery(t *testing.T, r *http.Request, drop func(string) bool, set ...string) *http.Request {
	t.Helper()
	path, q, _ := strings.Cut(r.RequestURI, "?")
	var out []string
	setKeys := map[string]string{}
	for _, p := range set {
		k, _, _ := strings.Cut(p, "=")
		setKeys[k] = p
	}
	for _, p := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(p, "=")
		if drop != nil && drop(k) {
			continue
		}
		if s, ok := setKeys[k]; ok {
			p = s
			delete(setKeys, k)
		}
		out = append(out, p)
	}
	for _, p := range set {
		k, _, _ := strings.Cut(p, "=")
		if _, ok := setKeys[k]; ok {
			out = append(out, p)
		}
	}
	c := *r
	c.RequestURI = path + "?" + strings.Join(out, "&")
	return &c
}

func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	v := newVerifier("ses")
	base := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	authz := base.req.Header.Get("Authorization")
	cred, rest, _ := strings.Cut(strings.TrimPrefix(authz, "AWS4-HMAC-SHA256 "), ", ")
	signedH, sig, _ := strings.Cut(rest, ", ")

	// withAuth copies the base request with another Authorization header and
	// optional header edits.
	withAuth := func(a string, edit func(h http.Header)) *http.Request {
		r := base.req.Clone(ctx)
		if a == "" {
			r.Header.Del("Authorization")
		} else {
			r.Header.Set("Authorization", a)
		}
		if edit != nil {
			edit(r.Header)
		}
		return r
	}
	verify := func(r *http.Request, body []byte) error {
		_, err := v.Verify(ctx, r, body)
		return err
	}

	t.Run("missing", func(t *testing.T) {
		e := wantKind(t, verify(withAuth("", nil), base.body), Missing, msgMissing)
		if e.Code(false) != "MissingAuthenticationToken" || e.HTTPStatus(false) != 403 {
			t.Errorf("code %s %d", e.Code(false), e.HTTPStatus(false))
		}
	})
	t.Run("garbled", func(t *testing.T) {
		for _, c := range []struct{ authz, want string }{
			{"AWS4-HMAC-SHA256 " + signedH + ", " + sig, "Authorization header requires 'Credential' parameter. Authorization="},
			{"AWS4-HMAC-SHA256 " + cred + ", " + sig, "Authorization header requires 'SignedHeaders' parameter. Authorization="},
			{"AWS4-HMAC-SHA256 " + cred + ", " + signedH, "Authorization header requires 'Signature' parameter. Authorization="},
			{"AWS4-HMAC-SHA256 " + cred + ", " + signedH + ", Signature=", "Authorization header requires 'Signature' parameter. Authorization="},
			{"AWS4-HMAC-SHA256", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"},
			{"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1, " + signedH + ", " + sig,
				"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20261122/us-east-1'"},
			{"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request/x, " + signedH + ", " + sig,
				"Credential must have exactly 5 slash-delimited elements"},
		} {
			e := wantKind(t, verify(withAuth(c.authz, nil), base.body), Incomplete, c.want)
			if e.Code(false) != "IncompleteSignature" || e.HTTPStatus(false) != 400 {
				t.Errorf("code %s %d", e.Code(false), e.HTTPStatus(false))
			}
		}
		// No date at all.
		err := verify(withAuth(authz, func(h http.Header) { h.Del("X-Amz-Date") }), base.body)
		wantKind(t, err, Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=")
		err = verify(withAuth(authz, func(h http.Header) { h.Set("X-Amz-Date", "2026-11-22T10:35:24Z") }), base.body)
		wantKind(t, err, Incomplete, "Date must be in ISO-8601 'basic format'. Got '2026-11-22T10:35:24Z'.")
		err = verify(withAuth(authz, func(h http.Header) { h.Del("X-Amz-Date"); h.Set("Date", "yesterday") }), base.body)
		wantKind(t, err, Incomplete, "Date must be in RFC 1123 format.")
	})
	t.Run("unsupported algorithm", func(t *testing.T) {
		wantKind(t, verify(withAuth(strings.Replace(authz, "SHA256", "SHA512", 1), nil), base.body), Mismatch, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'")
		wantKind(t, verify(withAuth("AWS3-HTTPS AWSAccessKeyId=x,Algorithm=HmacSHA256,Signature=y", nil), base.body), Mismatch, "Unsupported AWS 'algorithm': 'AWS3-HTTPS'")
	})
	t.Run("unknown key", func(t *testing.T) {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{akid: "AKIAUNKNOWNKEY000000", secret: "x"})
		e := wantKind(t, verify(s.req, s.body), UnknownKey, msgInvalidToken)
		if e.Code(false) != "InvalidClientTokenId" || e.Code(true) != "UnrecognizedClientException" || e.HTTPStatus(true) != 403 {
			t.Errorf("codes %s %s", e.Code(false), e.Code(true))
		}
		wantKind(t, verify(withAuth(strings.Replace(authz, "Credential="+testAKID, "Credential=", 1), nil), base.body), UnknownKey, msgInvalidToken)
	})
	t.Run("lookup error", func(t *testing.T) {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{akid: errAKID, secret: "x"})
		if err := verify(s.req, s.body); err != errDB {
			t.Fatalf("err = %v, want the lookup error as-is", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{akid: testAKID, secret: "not-the-secret"})
		e := wantKind(t, verify(s.req, s.body), Mismatch, msgSignature+"\n\nThe Canonical String for this request should have been\n'POST\n/\n\n")
		if e.Code(false) != "SignatureDoesNotMatch" || e.HTTPStatus(false) != 403 {
			t.Errorf("code %s %d", e.Code(false), e.HTTPStatus(false))
		}
		if !strings.Contains(e.Message, "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261122T103524Z\n20261122/us-east-1/ses/aws4_request\n") {
			t.Errorf("message: %q", e.Message)
		}
	})
	t.Run("wrong service", func(t *testing.T) {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{service: "s3"})
		wantKind(t, verify(s.req, s.body), Mismatch, "Credential should be scoped to correct service: 'ses'.")
	})
	t.Run("bad terminator and region", func(t *testing.T) {
		wantKind(t, verify(withAuth(strings.Replace(authz, "/aws4_request", "/aws5_request", 1), nil), base.body), Mismatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.")
		wantKind(t, verify(withAuth(strings.Replace(authz, "/us-east-1/", "//", 1), nil), base.body), Mismatch,
			"Credential should be scoped to a valid region, not ''.")
		for _, r := range []string{"US-EAST-1", "us east 1", "<x>", "1-east", "us-east-", strings.Repeat("a", 64)} {
			wantKind(t, verify(withAuth(strings.Replace(authz, "/us-east-1/", "/"+r+"/", 1), nil), base.body), Mismatch,
				"Credential should be scoped to a valid region, not '"+r+"'.")
		}
	})
	t.Run("scope date mismatch", func(t *testing.T) {
		err := verify(withAuth(strings.Replace(authz, "/20261122/", "/20261121/", 1), nil), base.body)
		wantKind(t, err, Mismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261121' != '20261122', from 'X-Amz-Date'.")
	})
	t.Run("skew", func(t *testing.T) {
		for _, c := range []struct {
			d    time.Duration
			want string
		}{
			{16 * time.Minute, "Signature expired: 20261122T103524Z is now earlier than 20261122T103624Z (20261122T105124Z - 15 min.)"},
			{-16 * time.Minute, "Signature not yet current: 20261122T103524Z is still later than 20261122T103424Z (20261122T101924Z + 15 min.)"},
		} {
			vv := newVerifier("ses")
			vv.Now = func() time.Time { return testTime.Add(c.d) }
			_, err := vv.Verify(ctx, base.req, base.body)
			e := wantKind(t, err, Expired, c.want)
			if e.Message != c.want {
				t.Errorf("message %q, want %q", e.Message, c.want)
			}
			if e.Code(false) != "RequestExpired" || e.HTTPStatus(false) != 400 || e.Code(true) != "InvalidSignatureException" || e.HTTPStatus(true) != 403 {
				t.Errorf("codes %s %d %s %d", e.Code(false), e.HTTPStatus(false), e.Code(true), e.HTTPStatus(true))
			}
			// 14 minutes is within the window; a custom MaxSkew is honoured.
			vv.Now = func() time.Time { return testTime.Add(c.d * 14 / 16) }
			if _, err := vv.Verify(ctx, base.req, base.body); err != nil {
				t.Errorf("14 min: %v", err)
			}
			vv.MaxSkew = 5 * time.Minute
			_, err = vv.Verify(ctx, base.req, base.body)
			wantKind(t, err, Expired, "Signature ")
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		err := verify(base.req, []byte(strings.Replace(v1Body, "example.com", "example.org", 1)))
		wantKind(t, err, Mismatch, msgSignature)
	})
	t.Run("tampered header", func(t *testing.T) {
		err := verify(withAuth(authz, func(h http.Header) { h.Set("Content-Type", "application/json") }), base.body)
		wantKind(t, err, Mismatch, msgSignature)
		// Unsigned headers may change.
		if err := verify(withAuth(authz, func(h http.Header) { h.Set("User-Agent", "other") }), base.body); err != nil {
			t.Errorf("unsigned User-Agent changed: %v", err)
		}
	})
	t.Run("tampered host", func(t *testing.T) {
		r := base.req.Clone(ctx)
		r.Host = "email.eu-west-1.amazonaws.com"
		wantKind(t, verify(r, base.body), Mismatch, msgSignature)
	})
	t.Run("tampered query", func(t *testing.T) {
		s := sdkSign(t, "GET", sesHost+"/v2/email/identities?PageSize=10", nil, "", signOpts{})
		mustVerify(t, v, s)
		for _, uri := range []string{"/v2/email/identities?PageSize=11", "/v2/email/identities?PageSize=10&NextToken=x", "/v2/email/identities"} {
			r := s.req.Clone(ctx)
			r.RequestURI = uri
			wantKind(t, verify(r, nil), Mismatch, msgSignature)
		}
	})
	t.Run("tampered path", func(t *testing.T) {
		s := sdkSign(t, "DELETE", sesHost+"/v2/email/identities/user%2Btag%40example.com", nil, "", signOpts{})
		r := s.req.Clone(ctx)
		r.RequestURI = "/v2/email/identities/user%2Bother%40example.com"
		wantKind(t, verify(r, nil), Mismatch, msgSignature)
		r.RequestURI = s.req.RequestURI
		r.Method = "GET"
		wantKind(t, verify(r, nil), Mismatch, msgSignature)
	})
	t.Run("unsigned host", func(t *testing.T) {
		a := strings.Replace(authz, "SignedHeaders=content-length;content-type;host;x-amz-date", "SignedHeaders=content-length;content-type;x-amz-date", 1)
		if a == authz {
			t.Fatalf("unexpected SignedHeaders in %q", authz)
		}
		wantKind(t, verify(withAuth(a, nil), base.body), Incomplete, msgHostNotSigned)
	})
	t.Run("bad signature hex", func(t *testing.T) {
		a := authz[:len(authz)-64] + strings.Repeat("zz", 32)
		wantKind(t, verify(withAuth(a, nil), base.body), Mismatch, msgSignature)
		a = authz[:len(authz)-2]
		wantKind(t, verify(withAuth(a, nil), base.body), Mismatch, msgSignature)
		a = authz[:len(authz)-64] + strings.ToUpper(authz[len(authz)-64:])
		if err := verify(withAuth(a, nil), base.body); err != nil {
			t.Errorf("upper-case hex signature: %v", err)
		}
	})
	t.Run("content sha256 header", func(t *testing.T) {
		err := verify(withAuth(authz, func(h http.Header) { h.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }), base.body)
		wantKind(t, err, Mismatch, msgPayloadHash)
	})
	t.Run("nil lookup", func(t *testing.T) {
		vv := &Verifier{Now: func() time.Time { return testTime }}
		if _, err := vv.Verify(ctx, base.req, base.body); err == nil {
			t.Fatal("nil Lookup accepted")
		} else if errors.As(err, new(*Error)) {
			t.Fatalf("nil Lookup reported as auth failure: %v", err)
		}
	})
}

// refSign is an independent, spec-literal SigV4 signer used for clients the
// SDK signer cannot imitate: it signs every header it is told to, including
// User-Agent, and can use the Date header instead of X-Amz-Date.
func refSign(r *http.Request, body []byte, signedNames []string, at time.Time, useDate bool) {
	amzDate := at.UTC().Format(timeFormat)
	if useDate {
		r.Header.Set("Date", at.UTC().Format(http.TimeFormat))
	} else {
		r.Header.Set("X-Amz-Date", amzDate)
	}
	sort.Strings(signedNames)
	var ch strings.Builder
	for _, n := range signedNames {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		ch.WriteString(n + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	path := r.URL.EscapedPath()
	var uri strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' || unreserved[c] {
			uri.WriteByte(c)
		} else {
			uri.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	sum := sha256.Sum256(body)
	cr := strings.Join([]string{r.Method, uri.String(), r.URL.RawQuery, ch.String(), strings.Join(signedNames, ";"), hex.EncodeToString(sum[:])}, "\n")
	crSum := sha256.Sum256([]byte(cr))
	scope := amzDate[:8] + "/us-east-1/ses/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	k := mac(mac(mac(mac([]byte("AWS4"+testSecret), amzDate[:8]), "us-east-1"), "ses"), "aws4_request")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/"+scope+", SignedHeaders="+
		strings.Join(signedNames, ";")+", Signature="+hex.EncodeToString(mac(k, sts)))
}

func TestClientSigningUserAgentAndDate(t *testing.T) {
	v := newVerifier("ses")
	body := []byte(v1Body)
	req, _ := http.NewRequest("POST", sesHost+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("User-Agent", "aws-sdk-java/1.12.0 Linux/6.1")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
	refSign(req, body, []string{"content-type", "host", "user-agent", "x-amz-date", "x-amzn-trace-id"}, testTime, false)
	sr, b := overWire(t, req)
	mustVerify(t, v, signed{req: sr, body: b})

	// The Date header instead of X-Amz-Date.
	req, _ = http.NewRequest("GET", sesHost+"/v2/email/identities/a%2Bb%40example.com", nil)
	refSign(req, nil, []string{"date", "host"}, testTime, true)
	sr, b = overWire(t, req)
	res := mustVerify(t, v, signed{req: sr, body: b})
	if !res.Time.Equal(testTime) {
		t.Errorf("Time = %v", res.Time)
	}
}

// TestBotocoreStyleVariants covers the canonical forms botocore produces that
// the SDK does not: a normalised path, and the raw (not re-encoded) query.
func TestBotocoreStyleVariants(t *testing.T) {
	v := newVerifier("ses")
	mk := func(rawURI, signURI string) *http.Request {
		req, _ := http.NewRequest("GET", sesHost+signURI, nil)
		refSign(req, nil, []string{"host"}, testTime, false)
		sr, _ := overWire(t, req)
		sr.RequestURI = rawURI
		return sr
	}
	// botocore signs "/v2/email/identities/x" for a URL path "/v2/email//identities/./x".
	if _, err := v.Verify(context.Background(), mk("/v2/email//identities/./x", "/v2/email/identities/x"), nil); err != nil {
		t.Errorf("normalised path: %v", err)
	}
	// A raw query using lower-case escapes is sorted as-is by botocore.
	if _, err := v.Verify(context.Background(), mk("/v2/email/identities?b=%2f&a=1", "/v2/email/identities?a=1&b=%2f"), nil); err != nil {
		t.Errorf("raw query: %v", err)
	}
	// A default port on the wire that the client left out of its signature.
	req, _ := http.NewRequest("GET", sesHost+"/v2/email/identities", nil)
	refSign(req, nil, []string{"host"}, testTime, false)
	sr, _ := overWire(t, req)
	sr.Host += ":443"
	if _, err := v.Verify(context.Background(), sr, nil); err != nil {
		t.Errorf("default port: %v", err)
	}
}

func TestParseHTTPDate(t *testing.T) {
	for _, s := range []string{"Sun, 22 Nov 2026 10:35:24 GMT", "Sun, 22 Nov 2026 10:35:24 -0000", "Sunday, 22-Nov-26 10:35:24 GMT", "Sun Nov 22 10:35:24 2026"} {
		if got, ok := parseHTTPDate(s); !ok || !got.Equal(testTime) {
			t.Errorf("parseHTTPDate(%q) = %v, %v", s, got, ok)
		}
	}
}

func TestRequestTarget(t *testing.T) {
	for _, c := range []struct{ uri, path, query string }{
		{"/a%2Bb?x=1", "/a%2Bb", "x=1"},
		{"http://host:1/p/q?z", "/p/q", "z"},
		{"http://host", "/", ""},
		{"http://host?x=1", "/", "x=1"},
		{"/", "/", ""},
	} {
		p, q := requestTarget(&http.Request{RequestURI: c.uri})
		if p != c.path || q != c.query {
			t.Errorf("requestTarget(%q) = %q, %q; want %q, %q", c.uri, p, q, c.path, c.query)
		}
	}
}

func TestKeyCacheConcurrent(t *testing.T) {
	var c keyCache
	want := deriveKey(testSecret, "20261122", "us-east-1", "ses")
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func(g int) {
			defer func() { done <- true }()
			for i := 0; i < 2000; i++ {
				region := "us-east-1"
				if i%3 == g%3 {
					region = "eu-west-" + string(rune('0'+i%10))
				}
				k := c.signingKey(testAKID, testSecret, "20261122", region, "ses")
				if region == "us-east-1" && k != want {
					t.Error("wrong cached key")
					return
				}
			}
		}(g)
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	// A rotated secret must not hit the old entry.
	if c.signingKey(testAKID, "new", "20261122", "us-east-1", "ses") == want {
		t.Error("rotated secret served the old key")
	}
}

func BenchmarkVerify(b *testing.B) {
	v := newVerifier("ses", "email")
	for _, c := range []struct {
		name string
		s    signed
	}{
		{"v1-post-form", sdkSign(b, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})},
		{"v2-get-path", sdkSign(b, "GET", sesHost+"/v2/email/identities/user%2Btag%40example.com", nil, "", signOpts{})},
		{"v2-get-query", sdkSign(b, "GET", sesHost+"/v2/email/identities?PageSize=10&NextToken=abc%2Fdef", nil, "", signOpts{})},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, c.s.req, c.s.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The region check against a list as long as SES's (30), the region
	// signed for last: the cost of serving only real regions.
	s := sdkSign(b, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	vr := newVerifier("ses", "email")
	for i := range 29 {
		vr.Regions = append(vr.Regions, fmt.Sprintf("zz-region-%d", i))
	}
	vr.Regions = append(vr.Regions, "us-east-1")
	b.Run("v1-post-form-30-regions", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := vr.Verify(ctx, s.req, s.body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSDKResign measures the alternative design (clone the request and
// re-sign it with the SDK signer), for comparison with BenchmarkVerify.
func BenchmarkSDKResign(b *testing.B) {
	s := sdkSign(b, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c := s.req.Clone(ctx)
		c.Header = http.Header{"Content-Type": s.req.Header["Content-Type"]}
		sum := sha256.Sum256(s.body)
		if err := signer.SignHTTP(ctx, creds, c, hex.EncodeToString(sum[:]), "ses", "us-east-1", testTime); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRegions: with Regions set, a name shaped like a region that is not
// in the list ("zz-fake-9", "a") is refused as AWS refuses a wrong scope
// region, even when the request is signed correctly for it; served
// regions pass.
func TestRegions(t *testing.T) {
	v := newVerifier("ses")
	v.Regions = []string{"us-east-1", "eu-west-1"}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{region: r})
		if res, err := v.Verify(context.Background(), s.req, s.body); err != nil || res.Region != r {
			t.Errorf("%s: %v, %v; want it served", r, res, err)
		}
	}
	for _, r := range []string{"zz-fake-9", "a", "us-west-2", "US-EAST-1"} {
		s := sdkSign(t, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{region: r})
		_, err := v.Verify(context.Background(), s.req, s.body)
		e := wantKind(t, err, Mismatch, "Credential should be scoped to a valid region, not '"+r+"'. Use a region this server serves: us-east-1, eu-west-1.")
		if e.Code(false) != "SignatureDoesNotMatch" || e.HTTPStatus(false) != http.StatusForbidden {
			t.Errorf("%s: %s %d, want SignatureDoesNotMatch 403", r, e.Code(false), e.HTTPStatus(false))
		}
	}
}
