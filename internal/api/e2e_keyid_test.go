package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/sestest"
)

// dialFrom opens a raw connection to the server from the loopback
// address from (any 127.0.0.0/8 address is this machine's), closed at the
// end of the test: a client other than the SDK clients, which dial from
// 127.0.0.1.
func dialFrom(t *testing.T, srv *sestest.Server, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// keyedHead is the head of a POST to / in the name of the access key id,
// whose secret its sender does not know: a well-formed Authorization with
// a wrong signature, which the server can tell only once it has the body.
func keyedHead(id string, length int) string {
	now := time.Now().UTC()
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nX-Amz-Date: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=%s\r\nContent-Length: %d\r\n\r\n",
		formType, now.Format("20060102T150405Z"), id, now.Format("20060102"), strings.Repeat("0", 64), length)
}

// TestKeyIDCannotHoldBudget (issue 14): access key IDs are no secret, and
// a body is read before its signature can be checked. A client that knows
// key IDs but no secret, sending from one address, opens many requests
// that announce bodies and stall after their first bytes, and a template
// upload that announces most of the large share and stalls after its
// first part. Other keys' signed calls, small and large, keep working:
// the budget is charged as bytes arrive, not from Content-Length, and the
// small-body bytes of one key and of one address are capped. Before, each
// request took its announced length from the budget up front, and these
// took all of it.
func TestKeyIDCannotHoldBudget(t *testing.T) {
	t.Parallel()
	const budget = 1 << 20
	srv, _ := start(t, sestest.Options{Limits: api.Limits{BodyMemory: budget, Body: 64 << 10, BodyTimeout: time.Minute}})
	var victims []*sestest.Account
	for i := range 5 {
		victims = append(victims, srv.NewAccount(fmt.Sprintf("victim-%d", i)))
	}
	b := srv.NewAccount("tenant-b")

	// A template upload in the name of victim 0, from 127.0.0.3: it
	// announces nearly the large share (three quarters), sends its
	// first part (Limits.Body and a bit) and stalls.
	big := "Action=CreateCustomVerificationEmailTemplate&Version=2010-12-01&TemplateContent=" + strings.Repeat("x", 80<<10)
	conn := dialFrom(t, srv, "127.0.0.3")
	fmt.Fprint(conn, keyedHead(victims[0].AccessKeyId, budget*3/4-1024))
	fmt.Fprint(conn, big)

	// 80 small bodies in the names of victims 1-4, from 127.0.0.2: each
	// announces 64 KiB (Limits.Body), sends 1 KiB and stalls. Those the
	// server refuses are answered at once; the others hold what they sent.
	var replies atomic.Int64
	var wg sync.WaitGroup
	const small = 80
	for i := range small {
		c := dialFrom(t, srv, "127.0.0.2")
		fmt.Fprint(c, keyedHead(victims[1+i%4].AccessKeyId, 64<<10))
		fmt.Fprint(c, "Action=ListIdentities&Version=2010-12-01&Pad="+strings.Repeat("y", 1<<10-40))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return // still held when the test ends
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>Throttling<") || !resp.Close {
				t.Errorf("a stalled body in a victim's name: HTTP %d, close %v, want 400 Throttling and the connection closed\n%s", resp.StatusCode, resp.Close, body)
			}
			replies.Add(1)
		}()
	}
	// Those past the caps are refused at once: at most 128 KiB of small
	// bodies (budget/8) from one address, 16 KiB held by each.
	for deadline := time.Now().Add(20 * time.Second); replies.Load() < small-8 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := replies.Load(); n < small-8 {
		t.Errorf("%d of %d stalled bodies refused, want at least %d (the rest held within the address's share)", n, small, small-8)
	}

	// Another tenant's calls, small and large, are served.
	if _, err := b.V1(east).VerifyDomainIdentity(t.Context(), &ses.VerifyDomainIdentityInput{Domain: aws.String("b.example")}); err != nil {
		t.Errorf("another key's small call: %v", err)
	}
	createIdentity(t, b.V2(east), "b.example.org")
	template := v1Body("Action", "CreateCustomVerificationEmailTemplate", "Version", "2010-12-01", "TemplateContent", strings.Repeat("x", 200<<10))
	resp, got := send(t, srv, raw{Body: template, Creds: b.AWS()})
	wantV1Error(t, resp, got, http.StatusBadRequest, "ValidationError") // read in full: no TemplateName
	conn.Close()
}
