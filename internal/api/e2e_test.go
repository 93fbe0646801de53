package api_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/sestest"
)

// The end-to-end tests of both SES protocols: real aws-sdk-go-v2 clients
// (or raw requests signed with the SDK's signer, where a client cannot
// produce the case) against a real Sesame on loopback. sestest fails every
// test whose server answered any request with a 5xx.

const (
	east = "us-east-1"
	west = "eu-west-1"

	formType = "application/x-www-form-urlencoded; charset=utf-8"
	xmlns    = "http://ses.amazonaws.com/doc/2010-12-01/"
)

var (
	// verificationTokenRE is 32 bytes of standard base64: 43 characters
	// and one '='.
	verificationTokenRE = regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`)
	// dkimTokenRE is 32 characters of lower-case base32.
	dkimTokenRE = regexp.MustCompile(`^[a-z2-7]{32}$`)
)

// cmpOpts let cmp look into the SDK's types, which embed an unexported
// (empty) no-serde marker.
var cmpOpts = cmp.Exporter(func(reflect.Type) bool { return true })

// start returns a fresh server and one account on it.
func start(t *testing.T, opts ...sestest.Options) (*sestest.Server, *sestest.Account) {
	t.Helper()
	srv := sestest.New(t, opts...)
	return srv, srv.NewAccount("tenant-a")
}

// wantAPIError checks that err is an SES error with this code and HTTP
// status, as the SDK reports it, and returns its message.
func wantAPIError(t *testing.T, err error, code string, status int) string {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s (%d)", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an smithy.APIError, want %s", err, err, code)
	}
	var re *awshttp.ResponseError
	got := 0
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if ae.ErrorCode() != code || got != status {
		t.Fatalf("error %s (HTTP %d), want %s (HTTP %d): %v", ae.ErrorCode(), got, code, status, err)
	}
	if status < 500 && ae.ErrorFault() == smithy.FaultServer {
		t.Errorf("error %s is a server fault, want a client fault", code)
	}
	return ae.ErrorMessage()
}

// result is a call's value and error: try(call()).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

// must fails the test on an error and returns the value.
func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// markVerified sets an identity's verification check to Success, as the
// verifier or a clicked link would. It writes through the registry's
// store: the server keeps identities in a write-through cache in front of
// Sesame.Store, so a write to Sesame.Store directly is never seen.
func markVerified(t *testing.T, srv *sestest.Server, a *sestest.Account, region, name string) {
	t.Helper()
	k := identity.Key{Account: a.AccountId, Region: region, Name: name}
	_, err := srv.Sesame.Registry.Store.UpdateIdentity(t.Context(), k, func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			t.Fatalf("markVerified: no identity %v", k)
		}
		cur.Verification.Status = identity.Success
		cur.Verification.LastChecked = time.Now()
		cur.Verification.LastSuccess = time.Now()
		return cur, nil
	})
	if err != nil {
		t.Fatalf("markVerified %s: %v", name, err)
	}
}

// markDkimVerified sets a domain's DKIM check to Success, as the verifier
// would once the three CNAME records are found.
func markDkimVerified(t *testing.T, srv *sestest.Server, a *sestest.Account, region, name string) {
	t.Helper()
	k := identity.Key{Account: a.AccountId, Region: region, Name: name}
	_, err := srv.Sesame.Registry.Store.UpdateIdentity(t.Context(), k, func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil || len(cur.DKIM.Tokens) == 0 {
			t.Fatalf("markDkimVerified: no identity with DKIM %v", k)
		}
		cur.DKIM.Check.Status = identity.Success
		cur.DKIM.Check.LastChecked = time.Now()
		cur.DKIM.Check.LastSuccess = time.Now()
		return cur, nil
	})
	if err != nil {
		t.Fatalf("markDkimVerified %s: %v", name, err)
	}
}

// raw is a request built by hand, for the cases an SDK client cannot
// produce.
type raw struct {
	Method string // default POST
	Target string // escaped path and query; default "/"
	Body   string
	// Header is added before signing.
	Header http.Header
	// Creds signs the request; the zero value sends it unsigned.
	Creds   aws.Credentials
	Service string    // default "ses"
	Region  string    // default us-east-1
	At      time.Time // signing time; default now
	// Authorization, when set, replaces the header after signing.
	Authorization string
}

// v1Body is a form body: pairs of name and value.
func v1Body(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

func send(t *testing.T, srv *sestest.Server, r raw) (*http.Response, []byte) {
	t.Helper()
	if r.Method == "" {
		r.Method = http.MethodPost
	}
	if r.Target == "" {
		r.Target = "/"
	}
	if r.Service == "" {
		r.Service = "ses"
	}
	if r.Region == "" {
		r.Region = east
	}
	if r.At.IsZero() {
		r.At = time.Now()
	}
	req := srv.NewRequest(r.Method, r.Target, []byte(r.Body))
	if r.Method == http.MethodPost && r.Target == "/" && r.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", formType)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Creds.AccessKeyID != "" {
		if err := sestest.Sign(req, []byte(r.Body), r.Creds, r.Service, r.Region, r.At); err != nil {
			t.Fatalf("signing: %v", err)
		}
	}
	if r.Authorization != "" {
		req.Header.Set("Authorization", r.Authorization)
	}
	return srv.Do(req)
}

// v1ErrorResponse is the v1 error body.
type v1ErrorResponse struct {
	XMLName xml.Name `xml:"http://ses.amazonaws.com/doc/2010-12-01/ ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestId string
}

// wantV1Error checks a raw v1 error response and returns its message.
func wantV1Error(t *testing.T, resp *http.Response, body []byte, status int, code string) string {
	t.Helper()
	var e v1ErrorResponse
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("v1 error body is not an <ErrorResponse>: %v\n%s", err, body)
	}
	if resp.StatusCode != status || e.Error.Code != code {
		t.Fatalf("got HTTP %d %s, want HTTP %d %s\n%s", resp.StatusCode, e.Error.Code, status, code, body)
	}
	wantType := "Sender"
	if status >= 500 {
		wantType = "Receiver"
	}
	if e.Error.Type != wantType {
		t.Errorf("<Type>%s</Type>, want %s", e.Error.Type, wantType)
	}
	if e.Error.Message == "" {
		t.Error("empty <Message>")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
	if e.RequestId == "" || e.RequestId != resp.Header.Get("x-amzn-RequestId") {
		t.Errorf("<RequestId>%s</RequestId>, header x-amzn-RequestId %q: want the same, non-empty", e.RequestId, resp.Header.Get("x-amzn-RequestId"))
	}
	return e.Error.Message
}

// wantV2Error checks a raw v2 error response and returns its message.
func wantV2Error(t *testing.T, resp *http.Response, body []byte, status int, code string) string {
	t.Helper()
	got := resp.Header.Get("x-amzn-ErrorType")
	if resp.StatusCode != status || got != code {
		t.Fatalf("got HTTP %d x-amzn-ErrorType %q, want HTTP %d %s\n%s", resp.StatusCode, got, status, code, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("v2 error body is not JSON: %v\n%s", err, body)
	}
	msg, _ := m["message"].(string)
	if msg == "" {
		t.Errorf("v2 error body has no message: %s", body)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId header")
	}
	return msg
}
