package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// sesServer is a stand-in SES endpoint: it verifies every request with v and
// answers with the smallest valid response, or with the SES auth error.
type sesServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD escaped-path: ok|error"
}

func newSESServer(t *testing.T, v *Verifier) *sesServer {
	s := &sesServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := v.Verify(r.Context(), r, body)
		path, _ := requestTarget(r)
		s.mu.Lock()
		outcome := "ok"
		if err != nil {
			outcome = err.Error()
		}
		s.seen = append(s.seen, r.Method+" "+path+": "+outcome)
		s.mu.Unlock()
		v2 := strings.HasPrefix(r.URL.Path, "/v2/")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if v2 {
				w.Header().Set("x-amzn-ErrorType", e.Code(true))
				w.WriteHeader(e.HTTPStatus(true))
				json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
				return
			}
			w.WriteHeader(e.HTTPStatus(false))
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
				e.Code(false), strings.NewReplacer("<", "&lt;", "&", "&amp;").Replace(e.Message))
			return
		}
		if v2 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{}")
			return
		}
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		if action == "" {
			action = r.URL.Query().Get("Action")
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%[1]sResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><%[1]sResult/><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></%[1]sResponse>`, action)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sesServer) outcomes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func realVerifier() *Verifier {
	// Real clients sign with the current time.
	return &Verifier{Lookup: testLookup, Services: []string{"ses", "email"}}
}

// TestGoSDKClients calls the server with the real SES v1 and v2 Go clients.
func TestGoSDKClients(t *testing.T) {
	srv := newSESServer(t, realVerifier())
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")
	v1 := ses.New(ses.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(srv.URL)})
	v2 := sesv2.New(sesv2.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(srv.URL)})

	calls := []struct {
		name string
		call func() error
	}{
		{"GetIdentityVerificationAttributes", func() error {
			_, err := v1.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{"example.com", "user@example.com"}})
			return err
		}},
		{"VerifyEmailIdentity", func() error {
			_, err := v1.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("user+tag@example.com")})
			return err
		}},
		{"GetEmailIdentity", func() error {
			_, err := v2.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("user+tag@example.com")})
			return err
		}},
		{"ListEmailIdentities", func() error {
			_, err := v2.ListEmailIdentities(ctx, &sesv2.ListEmailIdentitiesInput{PageSize: aws.Int32(10), NextToken: aws.String("a/b+c= ==")})
			return err
		}},
		{"CreateEmailIdentity", func() error {
			_, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})
			return err
		}},
		{"PutEmailIdentityDkimAttributes", func() error {
			_, err := v2.PutEmailIdentityDkimAttributes(ctx, &sesv2.PutEmailIdentityDkimAttributesInput{EmailIdentity: aws.String("user+tag@example.com"), SigningEnabled: true})
			return err
		}},
		{"DeleteCustomVerificationEmailTemplate", func() error {
			_, err := v2.DeleteCustomVerificationEmailTemplate(ctx, &sesv2.DeleteCustomVerificationEmailTemplateInput{TemplateName: aws.String("my template")})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	seen := strings.Join(srv.outcomes(), "\n")
	for _, want := range []string{
		"GET /v2/email/identities/user%2Btag%40example.com: ok",
		"DELETE /v2/email/custom-verification-email-templates/my%20template: ok",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("server saw:\n%s\nwant a line %q", seen, want)
		}
	}

	// A wrong secret is rejected with SignatureDoesNotMatch.
	bad := sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(testAKID, "wrong", "")})
	_, err := bad.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String("a@example.com")})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: err = %v", err)
	}
}

// botocoreScript signs and sends requests the way the aws CLI and boto3 do:
// explicitly with botocore.auth.SigV4Auth / SigV4QueryAuth, and through
// botocore's own ses and sesv2 clients. It prints one JSON object per request.
const botocoreScript = `
import json, sys
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
from botocore.config import Config

url, akid, secret = sys.argv[1], sys.argv[2], sys.argv[3]
creds = Credentials(akid, secret)
http = URLLib3Session()
out = []

def send(name, req, signer):
    signer.add_auth(req)
    resp = http.send(req.prepare())
    out.append({"name": name, "status": resp.status_code, "body": resp.text,
                "authorization": req.headers.get("Authorization", "")})

form = "Action=GetIdentityVerificationAttributes&Version=2010-12-01&Identities.member.1=example.com&Identities.member.2=user%40example.com"
send("sigv4 POST form", AWSRequest(method="POST", url=url + "/", data=form,
     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
     SigV4Auth(creds, "ses", "us-east-1"))
send("sigv4 POST form, scope email", AWSRequest(method="POST", url=url + "/", data=form,
     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
     SigV4Auth(creds, "email", "us-east-1"))
send("sigv4 GET %2B path", AWSRequest(method="GET", url=url + "/v2/email/identities/user%2Btag%40example.com"),
     SigV4Auth(creds, "ses", "us-east-1"))
send("sigv4 GET query", AWSRequest(method="GET", url=url + "/v2/email/identities?PageSize=10&NextToken=a%2Fb%2Bc%3D%3D"),
     SigV4Auth(creds, "ses", "us-east-1"))
send("sigv4 PUT json", AWSRequest(method="PUT", url=url + "/v2/email/identities/user%2Btag%40example.com/dkim",
     data=b'{"SigningEnabled": true}', headers={"Content-Type": "application/x-amz-json-1.1"}),
     SigV4Auth(creds, "ses", "us-east-1"))
send("sigv4 Date header", AWSRequest(method="GET", url=url + "/v2/email/identities/x%40example.com",
     headers={"Date": "Mon, 01 Jan 2001 00:00:00 GMT"}), SigV4Auth(creds, "ses", "us-east-1"))
send("presigned GET", AWSRequest(method="GET", url=url + "/?Action=ListIdentities&Version=2010-12-01"),
     SigV4QueryAuth(creds, "ses", "us-east-1", expires=300))
send("presigned GET %2B path", AWSRequest(method="GET", url=url + "/v2/email/identities/user%2Btag%40example.com"),
     SigV4QueryAuth(creds, "ses", "us-east-1", expires=300))
send("wrong secret", AWSRequest(method="GET", url=url + "/v2/email/identities"),
     SigV4Auth(Credentials(akid, "wrong"), "ses", "us-east-1"))

session = botocore.session.get_session()
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=akid, aws_secret_access_key=secret,
          config=Config(retries={"max_attempts": 1}))
v1 = session.create_client("ses", **kw)
v2 = session.create_client("sesv2", **kw)
for name, call in [
    ("client GetIdentityVerificationAttributes", lambda: v1.get_identity_verification_attributes(Identities=["example.com", "user@example.com"])),
    ("client ListIdentities", lambda: v1.list_identities(IdentityType="Domain", MaxItems=10)),
    ("client GetEmailIdentity", lambda: v2.get_email_identity(EmailIdentity="user+tag@example.com")),
    ("client ListEmailIdentities", lambda: v2.list_email_identities(PageSize=10, NextToken="a/b+c= ==")),
    ("client CreateEmailIdentity", lambda: v2.create_email_identity(EmailIdentity="example.com")),
    ("client DeleteCustomVerificationEmailTemplate", lambda: v2.delete_custom_verification_email_template(TemplateName="my template")),
]:
    try:
        call()
        out.append({"name": name, "status": 200})
    except Exception as e:
        out.append({"name": name, "status": getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0), "body": repr(e)})
print(json.dumps(out))
`

// TestBotocore checks requests signed by botocore (the aws CLI and boto3),
// which signs a different header set than the Go SDK (content-type, host,
// x-amz-date; never user-agent or content-length).
func TestBotocore(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import botocore").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with botocore is required in CI: %v", err)
		}
		t.Skipf("python3 with botocore not available: %v", err)
	}
	srv := newSESServer(t, realVerifier())
	script := filepath.Join(t.TempDir(), "sign.py")
	if err := os.WriteFile(script, []byte(botocoreScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, srv.URL, testAKID, testSecret)
	// Keep the machine's AWS settings (profiles, endpoints) out of the test.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var results []struct {
		Name, Body, Authorization string
		Status                    int
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(results) != 15 {
		t.Fatalf("got %d results, want 15: %s", len(results), out)
	}
	for _, r := range results {
		want := 200
		if r.Name == "wrong secret" {
			want = 403
		}
		if r.Status != want {
			t.Errorf("%s: status %d, want %d: %s", r.Name, r.Status, want, r.Body)
		}
		if r.Name == "sigv4 POST form" && !strings.Contains(r.Authorization, "SignedHeaders=content-type;host;x-amz-date,") {
			t.Errorf("botocore signed other headers than expected: %s", r.Authorization)
		}
	}
	seen := strings.Join(srv.outcomes(), "\n")
	if !strings.Contains(seen, "GET /v2/email/identities/user%2Btag%40example.com: ok") {
		t.Errorf("server saw:\n%s", seen)
	}
	t.Logf("server saw:\n%s", seen)
}
