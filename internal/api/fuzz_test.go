package api_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sesame/sesame/internal/sestest"
)

// The fuzz targets send requests through the server's real handler (the
// mux with both protocols), signed with the SDK's signer so that parsing
// past authentication is exercised, and check that no request panics or
// gets a 5xx, and that every error is well formed for its protocol.
//
//	go test ./internal/api/ -run XXX -fuzz FuzzV1 -fuzztime 30s
//	go test ./internal/api/ -run XXX -fuzz FuzzV2 -fuzztime 30s

const fuzzHost = "email.us-east-1.amazonaws.com"

// fuzzServer is a server with one account whose log is discarded (the
// fuzz target may not log through the *testing.F).
func fuzzServer(f *testing.F) (*sestest.Server, aws.Credentials) {
	srv := sestest.New(f, sestest.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a := srv.NewAccount("fuzz")
	// Something to find, change and delete.
	for _, d := range []string{"example.com", "xn--bcher-kva.example"} {
		verifyDomainTB(f, a.V1(east), d)
	}
	return srv, a.AWS()
}

// targetSafe percent-encodes the bytes that cannot appear in an HTTP
// request target, so that the request is one a server could receive.
func targetSafe(s string, alsoQuestion bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || (alsoQuestion && c == '?') {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// serve signs a request as a client would and serves it in process. It
// returns nil when the target could not be a request target at all.
func serve(t *testing.T, srv *sestest.Server, creds aws.Credentials, method, rawPath, rawQuery string, header http.Header, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	target := rawPath
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil // net/http answers 400 before any handler
	}
	req := &http.Request{
		Method: method, URL: u, RequestURI: target, Host: fuzzHost,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	// Sign a copy whose URL is the path exactly as sent: the SDK signer
	// reads an opaque URL verbatim and rewrites RawQuery, which the
	// request served keeps as the client wrote it.
	signed := req.Clone(t.Context())
	signed.URL = &url.URL{Scheme: "http", Host: fuzzHost, Opaque: rawPath, RawQuery: rawQuery}
	if err := sestest.Sign(signed, body, creds, "ses", east, time.Now()); err != nil {
		return nil
	}
	for _, h := range []string{"Authorization", "X-Amz-Date"} {
		req.Header.Set(h, signed.Header.Get(h))
	}
	rec := httptest.NewRecorder()
	srv.Sesame.Handler.ServeHTTP(rec, req)
	return rec
}

// checkXML reports whether b is one well-formed XML document.
func checkXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func FuzzV1(f *testing.F) {
	srv, creds := fuzzServer(f)
	f.Add("", v1Body("Action", "ListIdentities", "Version", "2010-12-01", "MaxItems", "1"), false)
	f.Fuzz(func(t *testing.T, query, body string, get bool) {
		method := http.MethodPost
		if get {
			method = http.MethodGet
		}
		h := http.Header{"Content-Type": {formType}}
		rec := serve(t, srv, creds, method, "/", targetSafe(query, false), h, []byte(body))
		if rec == nil {
			return
		}
		b := rec.Body.Bytes()
		switch {
		case rec.Code >= 500:
			t.Fatalf("HTTP %d for %s /?%s body %q:\n%s", rec.Code, method, query, body, b)
		case rec.Code == http.StatusOK:
			if err := checkXML(b); err != nil || !bytes.HasPrefix(b, []byte("<")) || !bytes.Contains(b, []byte("Response xmlns=\""+xmlns+"\">")) {
				t.Fatalf("200 with a bad XML body (%v):\n%s", err, b)
			}
		case rec.Code >= 400:
			var e v1ErrorResponse
			if err := xml.Unmarshal(b, &e); err != nil {
				t.Fatalf("HTTP %d body is not an <ErrorResponse> (%v):\n%s", rec.Code, err, b)
			}
			if err := checkXML(b); err != nil {
				t.Fatalf("HTTP %d body is not well-formed XML (%v):\n%s", rec.Code, err, b)
			}
			if e.Error.Type != "Sender" || e.Error.Code == "" || e.Error.Message == "" || e.RequestId == "" || e.RequestId != rec.Header().Get("x-amzn-RequestId") {
				t.Fatalf("HTTP %d: malformed error %+v", rec.Code, e)
			}
		default:
			t.Fatalf("HTTP %d for %s /?%s body %q:\n%s", rec.Code, method, query, body, b)
		}
	})
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

func FuzzV2(f *testing.F) {
	srv, creds := fuzzServer(f)
	f.Add(uint8(1), "identities", "", `{"EmailIdentity":"fuzz.example"}`)
	f.Add(uint8(1), "identities", "", `{"EmailIdentity":"byo.example","DkimSigningAttributes":{"DomainSigningSelector":"s1","DomainSigningPrivateKey":"MIIBOgIBAAJBAK"}}`)
	f.Add(uint8(1), "identities", "", `{"EmailIdentity":"fuzz.example","DkimSigningAttributes":{"DomainSigningAttributesOrigin":"AWS_SES_EU_WEST_1"}}`)
	f.Add(uint8(2), "identities/fuzz.example/dkim/signing", "", `{"SigningAttributesOrigin":"EXTERNAL","SigningAttributes":{"DomainSigningSelector":"a-b","DomainSigningPrivateKey":"QUJD"}}`)
	f.Fuzz(func(t *testing.T, m uint8, rawPath, query, body string) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		p := "/v2/email/" + targetSafe(rawPath, true)
		rec := serve(t, srv, creds, method, p, targetSafe(query, false), http.Header{"Content-Type": {"application/json"}}, []byte(body))
		if rec == nil {
			return
		}
		b := rec.Body.Bytes()
		switch {
		case rec.Code >= 500:
			t.Fatalf("HTTP %d for %s %s?%s body %q:\n%s", rec.Code, method, p, query, body, b)
		case rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect || rec.Code == http.StatusPermanentRedirect:
			// net/http's ServeMux sends a client to the clean form of
			// a path with "." or ".." or "//" segments.
			u, _ := url.ParseRequestURI(p)
			if u == nil || path.Clean(u.Path) == u.Path && !strings.HasSuffix(u.Path, "/") {
				t.Fatalf("redirect for the clean path %s", p)
			}
		case rec.Code == http.StatusOK:
			if method == http.MethodHead {
				return
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("200 with a body that is not a JSON object (%v):\n%s", err, b)
			}
		case rec.Code >= 400:
			code := rec.Header().Get("x-amzn-ErrorType")
			if code == "" || strings.ContainsAny(code, ": ") {
				t.Fatalf("HTTP %d with x-amzn-ErrorType %q:\n%s", rec.Code, code, b)
			}
			if rec.Header().Get("x-amzn-RequestId") == "" {
				t.Fatalf("HTTP %d without x-amzn-RequestId", rec.Code)
			}
			if method == http.MethodHead {
				return
			}
			var v struct {
				Message *string `json:"message"`
			}
			if err := json.Unmarshal(b, &v); err != nil || v.Message == nil || *v.Message == "" {
				t.Fatalf("HTTP %d %s: body is not {\"message\": ...} (%v):\n%s", rec.Code, code, err, b)
			}
		default:
			t.Fatalf("HTTP %d for %s %s?%s body %q:\n%s", rec.Code, method, p, query, body, b)
		}
	})
}

// TestFuzzHarness checks that the fuzz targets' requests get past the
// signature check, so that the fuzzing reaches the parsers behind it.
func TestFuzzHarness(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	creds := a.AWS()
	verifyEmail(t, a.V1(east), "user+tag@example.com")
	for _, tc := range []struct {
		method, path, query, body string
		want                      int
		contains                  string
	}{
		{"POST", "/", "", v1Body("Action", "ListIdentities", "Version", "2010-12-01"), 200, "<member>user+tag@example.com</member>"},
		{"GET", "/", "Action=ListIdentities&Version=2010-12-01&IdentityType=EmailAddress", "", 200, "<member>user+tag@example.com</member>"},
		{"POST", "/", "Action=ListIdentities", "Version=2010-12-01&MaxItems=1", 200, "<member>user+tag@example.com</member>"},
		{"GET", "/", "Action=ListIdentities&Version=2010-12-01&Extra=a+b%20c%2F", "", 200, "<ListIdentitiesResult>"},
		{"POST", "/", "", "Action=Nope", 400, "<Code>InvalidAction</Code>"},
		{"GET", "/v2/email/identities/user%2Btag%40example.com", "", "", 200, `"IdentityType":"EMAIL_ADDRESS"`},
		{"GET", "/v2/email/identities/user+tag@example.com", "", "", 200, `"IdentityType":"EMAIL_ADDRESS"`},
		{"GET", "/v2/email/identities", "PageSize=1", "", 200, `"IdentityName":"user+tag@example.com"`},
		{"PUT", "/v2/email/identities/user%2Btag%40example.com/mail-from", "", `{"MailFromDomain":"m.example.com"}`, 200, `{}`},
		{"POST", "/v2/email/identities", "", `{"EmailIdentity":"harness.example"}`, 200, `"IdentityType":"DOMAIN"`},
	} {
		rec := serve(t, srv, creds, tc.method, tc.path, tc.query, http.Header{"Content-Type": {formType}}, []byte(tc.body))
		if rec == nil {
			t.Fatalf("%s %s?%s: not a request target", tc.method, tc.path, tc.query)
		}
		if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s %s?%s: HTTP %d, want %d with %q:\n%s", tc.method, tc.path, tc.query, rec.Code, tc.want, tc.contains, rec.Body)
		}
	}
}
