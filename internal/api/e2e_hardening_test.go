package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/sestest"
)

// The findings of issue 14 about what a request may cost the server, each
// reproduced: on the code before, the server read (and held) every body in
// full before it looked at the signature, with no deadline and no bound.

// dial opens a raw connection to the server, closed at the end of the test.
func dial(t *testing.T, srv *sestest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wire is a request as it goes on the wire: head is the request line and
// headers, body the body they announce.
func wire(t *testing.T, req *http.Request, body []byte) (head, rest []byte) {
	t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	all := b.Bytes()
	return all[:len(all)-len(body)], all[len(all)-len(body):]
}

// signedWire is a signed request, as wire gives it.
func signedWire(t *testing.T, srv *sestest.Server, a *sestest.Account, method, target, contentType string, body []byte) (head, rest []byte) {
	t.Helper()
	req := srv.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if err := sestest.Sign(req, body, a.AWS(), "ses", east, time.Now()); err != nil {
		t.Fatal(err)
	}
	return wire(t, req, body)
}

// reply reads one response from c, failing the test if none comes
// within d.
func reply(t *testing.T, c net.Conn, d time.Duration) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no reply within %s: %v", d, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// TestUnsignedBodyIsNotRead: a request without a valid key is refused on
// its headers, whatever body it announces, and the connection is closed
// rather than read on. Before, the server waited for all 32 MiB.
func TestUnsignedBodyIsNotRead(t *testing.T) {
	t.Parallel()
	srv, _ := start(t)
	for _, c := range []struct {
		name, method, target, auth string
		code                       string
		length                     int // announced; 32 MiB if 0
	}{
		{"v1 unsigned", "POST", "/", "", "MissingAuthenticationToken", 0},
		// net/http reads a body of up to 256 KiB left unread by the
		// handler, at the client's pace: before, the connection stayed
		// open for as long as the client waited.
		{"v1 unsigned, 100 KiB", "POST", "/", "", "MissingAuthenticationToken", 100 << 10},
		{"v2 unsigned, 100 KiB", "POST", "/v2/email/identities", "", "MissingAuthenticationToken", 100 << 10},
		{"v2 unsigned", "POST", "/v2/email/custom-verification-email-templates", "", "MissingAuthenticationToken", 0},
		{"v1 unknown key", "POST", "/", "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN000000000/" + time.Now().UTC().Format("20060102") + "/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64), "InvalidClientTokenId", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, srv)
			length := c.length
			if length == 0 {
				length = 32 << 20
			}
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Amz-Date: %s\r\nContent-Length: %d\r\n", c.method, c.target, time.Now().UTC().Format("20060102T150405Z"), length)
			if c.auth != "" {
				fmt.Fprintf(conn, "Authorization: %s\r\n", c.auth)
			}
			fmt.Fprintf(conn, "\r\nAction=ListIdentities&") // then nothing: the body stalls
			resp, _ := reply(t, conn, 5*time.Second)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("HTTP %d, want 403 %s", resp.StatusCode, c.code)
			}
			if !resp.Close {
				t.Error("the connection is kept open: the server would read the rest of the body")
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("after the reply: read %d bytes, %v; want the connection closed", n, err)
			}
		})
	}
}

// TestBodyCaps: every operation but the template ones takes a body of up
// to Limits.Body; the template ones up to Limits.TemplateBody, and in v1
// only when their Action comes among the first pairs (as SDKs write it).
func TestBodyCaps(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	pad := strings.Repeat("x", 300<<10)
	cases := []struct {
		name, method, target, ctype string
		body                        string
		status                      int
		code                        string
	}{
		{"v1 ListIdentities, 300 KiB", "POST", "/", formType, v1Body("Action", "ListIdentities", "Version", "2010-12-01", "Pad", pad), 413, "RequestEntityTooLarge"},
		{"v1 template, Action last", "POST", "/", formType, v1Body("TemplateContent", pad, "Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01"), 413, "RequestEntityTooLarge"},
		{"v1 template, Action first", "POST", "/", formType, v1Body("Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01", "TemplateContent", pad), 400, "ValidationError"},
		{"v1 template, Action in the query", "POST", "/?Action=CreateCustomVerificationEmailTemplate", formType, v1Body("TemplateContent", pad, "Version", "2010-12-01"), 400, "ValidationError"},
		{"v2 CreateEmailIdentity, 300 KiB", "POST", "/v2/email/identities", "application/json", `{"EmailIdentity":"example.com","Pad":"` + pad + `"}`, 413, "RequestEntityTooLarge"},
		{"v2 template, 300 KiB", "POST", "/v2/email/custom-verification-email-templates", "application/json", `{"TemplateName":"t","TemplateContent":"` + pad + `"}`, 400, "BadRequestException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := send(t, srv, raw{Method: c.method, Target: c.target, Body: c.body, Creds: a.AWS(), Header: http.Header{"Content-Type": {c.ctype}}})
			if strings.HasPrefix(c.target, "/v2") {
				wantV2Error(t, resp, body, c.status, c.code)
			} else {
				wantV1Error(t, resp, body, c.status, c.code)
			}
		})
	}
}

// TestBodyDeadline: a signed body that stops arriving is cut off at the
// deadline of its length, and its bytes given back. Before, the server
// waited for ever.
func TestBodyDeadline(t *testing.T) {
	t.Parallel()
	srv, a := start(t, sestest.Options{Limits: api.Limits{BodyTimeout: 300 * time.Millisecond, BodyRate: 64 << 10}})
	for _, c := range []struct{ name, target, ctype, body string }{
		{"v1", "/", formType, v1Body("Action", "VerifyDomainIdentity", "Version", "2010-12-01", "Domain", "example.com")},
		{"v2", "/v2/email/identities", "application/json", `{"EmailIdentity":"example.com"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			head, body := signedWire(t, srv, a, "POST", c.target, c.ctype, []byte(c.body))
			conn := dial(t, srv)
			conn.Write(head)
			conn.Write(body[:10]) // and then a byte every 200 ms: too slow
			go func() {
				for _, b := range body[10:] {
					time.Sleep(200 * time.Millisecond)
					if _, err := conn.Write([]byte{b}); err != nil {
						return
					}
				}
			}()
			start := time.Now()
			resp, _ := reply(t, conn, 5*time.Second)
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("HTTP %d, want 408 RequestTimeout", resp.StatusCode)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("cut off after %s, want about 0.3 s", d)
			}
		})
	}
	// A large body sent steadily but slower than Limits.BodyRate is cut off
	// once it falls behind, not at the deadline of its whole length (17 s).
	t.Run("slow template", func(t *testing.T) {
		b := v1Body("Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01", "TemplateContent", strings.Repeat("x", 1<<20))
		head, body := signedWire(t, srv, a, "POST", "/", formType, []byte(b))
		conn := dial(t, srv)
		conn.Write(head)
		go func() {
			for i := 0; i < len(body); i += 1 << 10 {
				if _, err := conn.Write(body[i:min(len(body), i+1<<10)]); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond) // 20 KiB/s
			}
		}()
		start := time.Now()
		resp, _ := reply(t, conn, 10*time.Second)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("HTTP %d, want 408 RequestTimeout", resp.StatusCode)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("cut off after %s, want within a second", d)
		}
	})
	// Nothing was created, and the budget is whole again: a normal call works.
	createIdentity(t, a.V2(east), "after.example")
}

// TestBodyMemory: the body bytes held across the server are bounded; past
// the bound, SES's throttling error of each protocol, and the bytes are
// given back when a request ends. Large bodies may use three quarters of
// the bound, so that other calls always have room.
func TestBodyMemory(t *testing.T) {
	t.Parallel()
	const budget = 1 << 20
	srv, a := start(t, sestest.Options{Limits: api.Limits{BodyMemory: budget, Body: 64 << 10, BodyTimeout: time.Minute}})
	template := func(size int) []byte {
		b := v1Body("Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01", "TemplateContent", "")
		return []byte(b + strings.Repeat("x", size-len(b)))
	}
	// A template upload of all of the large share but 16 bytes, which
	// sends all but its last byte and stalls (the budget is charged as
	// bytes arrive: see TestKeyIDCannotHoldBudget).
	head, body := signedWire(t, srv, a, "POST", "/", formType, template(budget*3/4-16))
	stalled := func() net.Conn {
		conn := dial(t, srv)
		conn.Write(head)
		conn.Write(body[:len(body)-1])
		return conn
	}
	conn := stalled()

	// Another large body (from another key: one key has one large body at
	// a time) does not fit, until the first ends.
	b2 := srv.NewAccount("tenant-b")
	second := func() (*http.Response, []byte) {
		return send(t, srv, raw{Body: string(template(200 << 10)), Creds: b2.AWS()})
	}
	var resp *http.Response
	var b []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		// until the server has taken the first upload's bytes
		if resp, b = second(); resp.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte("<Code>ValidationError<")) {
			break
		}
		// A probe read whole while the first upload asked for its share
		// makes the first one the refused body: stall another.
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if n, _ := conn.Read(make([]byte, 1)); n > 0 {
			conn.Close()
			conn = stalled()
		}
		conn.SetReadDeadline(time.Time{})
	}
	if msg := wantV1Error(t, resp, b, http.StatusBadRequest, "Throttling"); !strings.Contains(msg, "too many request bodies") {
		t.Errorf("message %q, want the server's body budget as the reason", msg)
	}
	v2 := `{"TemplateName":"t","TemplateContent":"` + strings.Repeat("x", 200<<10) + `"}`
	resp, b = send(t, srv, raw{Target: "/v2/email/custom-verification-email-templates", Body: v2, Creds: b2.AWS(), Header: http.Header{"Content-Type": {"application/json"}}})
	wantV2Error(t, resp, b, http.StatusTooManyRequests, "TooManyRequestsException")
	// Calls with small bodies still have room.
	createIdentity(t, a.V2(east), "example.com")
	if _, err := a.V1(east).VerifyDomainIdentity(t.Context(), &ses.VerifyDomainIdentityInput{Domain: aws.String("example.org")}); err != nil {
		t.Errorf("a call with a small body: %v", err)
	}

	// The upload ends (its client gives up): its bytes are given back.
	conn.Close()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, b = second(); resp.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte("<Code>Throttling<")) {
			break
		}
	}
	wantV1Error(t, resp, b, http.StatusBadRequest, "ValidationError") // read in full: no TemplateName
}

// TestLargeBodyPerKey: one large body at a time for each access key, so
// that a client that knows a key ID, without its secret, cannot take the
// whole share of large bodies; other keys are not held up.
func TestLargeBodyPerKey(t *testing.T) {
	t.Parallel()
	srv, a := start(t, sestest.Options{Limits: api.Limits{Body: 64 << 10, BodyTimeout: time.Minute}})
	b := srv.NewAccount("tenant-b")
	template := v1Body("Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01", "TemplateContent", strings.Repeat("x", 200<<10))
	head, body := signedWire(t, srv, a, "POST", "/", formType, []byte(template))
	conn := dial(t, srv)
	conn.Write(head)
	conn.Write(body[:100<<10]) // and stalls

	var resp *http.Response
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, got = send(t, srv, raw{Body: template, Creds: a.AWS()}); resp.StatusCode != http.StatusBadRequest || !bytes.Contains(got, []byte("<Code>ValidationError<")) {
			break
		}
	}
	if msg := wantV1Error(t, resp, got, http.StatusBadRequest, "Throttling"); !strings.Contains(msg, "one at a time") {
		t.Errorf("message %q, want one large body at a time as the reason", msg)
	}
	resp, got = send(t, srv, raw{Body: template, Creds: b.AWS()})
	wantV1Error(t, resp, got, http.StatusBadRequest, "ValidationError") // read in full: no TemplateName
	conn.Close()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, got = send(t, srv, raw{Body: template, Creds: a.AWS()}); !bytes.Contains(got, []byte("<Code>Throttling<")) {
			break
		}
	}
	wantV1Error(t, resp, got, http.StatusBadRequest, "ValidationError")
}

// TestAccountRate: each account has its token bucket; past it, v1
// Throttling ("Rate exceeded", 400) and v2 TooManyRequestsException (429).
// Other accounts are not slowed.
func TestAccountRate(t *testing.T) {
	t.Parallel()
	srv, a := start(t, sestest.Options{Limits: api.Limits{AccountRate: 0.01, AccountBurst: 3}})
	ctx := t.Context()
	for i := range 3 {
		if _, err := a.V1(east).ListIdentities(ctx, &ses.ListIdentitiesInput{}); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	_, err := a.V1(east).ListIdentities(ctx, &ses.ListIdentitiesInput{})
	if msg := wantAPIError(t, err, "Throttling", http.StatusBadRequest); msg != "Rate exceeded" {
		t.Errorf("message %q, want Rate exceeded", msg)
	}
	_, err = a.V2(west).ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{})
	wantAPIError(t, err, "TooManyRequestsException", http.StatusTooManyRequests)

	b := srv.NewAccount("tenant-b")
	if _, err := b.V2(east).ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{}); err != nil {
		t.Errorf("another account: %v", err)
	}
	// A badly signed request does not spend the account's requests.
	c := srv.NewAccount("tenant-c")
	bad := c.AWS()
	bad.SecretAccessKey = "not-the-secret-not-the-secret-not-the-se"
	for range 5 {
		_, err := srv.V1(bad, east).ListIdentities(ctx, &ses.ListIdentitiesInput{})
		wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
	}
	if _, err := c.V1(east).ListIdentities(ctx, &ses.ListIdentitiesInput{}); err != nil {
		t.Errorf("after badly signed requests in its name: %v", err)
	}
}

// TestSignatureMismatchReplyIsSmall: a SignatureDoesNotMatch echoes the
// canonical request, clipped: a 1 MB header gave a 6 MB reply. Headers
// past 8 KiB (server.MaxHeaderBytes) are refused by the HTTP server itself.
func TestSignatureMismatchReplyIsSmall(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	bad := a.AWS()
	bad.SecretAccessKey = "not-the-secret-not-the-secret-not-the-se"
	for _, size := range []int{7 << 10, 1 << 20} {
		for _, target := range []string{"/", "/v2/email/identities"} {
			t.Run(fmt.Sprintf("%s %d", target, size), func(t *testing.T) {
				method, body := "POST", v1Body("Action", "ListIdentities", "Version", "2010-12-01")
				if target != "/" {
					method, body = "GET", ""
				}
				resp, b := send(t, srv, raw{Method: method, Target: target, Body: body, Creds: bad, Header: http.Header{"X-Big": {strings.Repeat("y", size)}}})
				if resp.StatusCode < 400 {
					t.Fatalf("HTTP %d, want an error", resp.StatusCode)
				}
				if len(b) > 16<<10 {
					t.Errorf("a %d-byte reply to a %d-byte header, want at most 16 KiB", len(b), size)
				}
			})
		}
	}
}
