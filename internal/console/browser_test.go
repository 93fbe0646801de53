package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
)

const browserZone = `$ORIGIN example.test.
$TTL 60
@    SOA ns1 hostmaster 1 3600 600 86400 30
@    NS  ns1
ns1  A   127.0.0.1
`

// requireTool stops the test when a tool of the browser test is missing:
// a failure in CI (CI=true), where the test set-up installs it, a skip
// elsewhere.
func requireTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: scripts/install-test-deps.sh must install it", what)
	}
	t.Skipf("%s is missing (bash scripts/install-test-deps.sh installs it); CI fails here instead", what)
}

// TestBrowser runs test/browser/console.spec.mjs: Chromium signs in,
// creates a domain, publishes its records into Knot (through this test),
// presses 'check now' and sees it verified; has this test send from it
// through the API and reads the message on the Sent page, with the
// verified MAIL FROM domain as its envelope; a second account sees none
// of it, and a form without its CSRF token is refused. Screenshots go to
// test-artifacts/.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a real browser: not with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test", "browser")
	node, err := exec.LookPath("node")
	requireTool(t, err == nil, "node (Debian package nodejs)")
	chromium := cmpEnv("CHROMIUM", "/usr/bin/chromium")
	_, err = os.Stat(chromium)
	requireTool(t, err == nil, chromium+" (Debian package chromium)")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json"))
	requireTool(t, err == nil, "playwright-core in test/browser/node_modules (npm install there)")

	knot := knottest.Start(t, "127.0.0.1", "example.test", browserZone)
	// The background verifier stays off: only the button checks, so the
	// test shows that 'check now' is what verifies.
	srv := sestest.New(t, sestest.Options{Verify: server.VerifyOptions{
		Resolver: knot.Addr, AuthPort: knot.Port, RateLimit: 1000, Timeout: 500 * time.Millisecond, Budget: 3 * time.Second,
	}})
	a, z := srv.NewAccount("alpha"), srv.NewAccount("zulu")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.spec.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"SESAME_URL="+srv.URL, "DOMAIN=example.test", "ARTIFACTS="+filepath.Join(root, "test-artifacts"), "CHROMIUM="+chromium,
		"SESAME_KEY_ID="+a.AccessKeyId, "SESAME_SECRET="+string(a.SecretAccessKey),
		"SESAME_KEY_ID_2="+z.AccessKeyId, "SESAME_SECRET_2="+string(z.SecretAccessKey),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sendAs := func(from, to, subject string) error {
		_, err := a.V1(sestest.DefaultRegion).SendEmail(ctx, &ses.SendEmailInput{Source: aws.String(from), Destination: &types.Destination{ToAddresses: []string{to}},
			Message: &types.Message{Subject: &types.Content{Data: aws.String(subject)}, Body: &types.Body{Text: &types.Content{Data: aws.String("Sent by the browser test.")}}}})
		return err
	}
	serve(t, knot, stdout, stdin, sendAs)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser test: %v\n%s", err, stderr.String())
	}
	t.Logf("screenshots in %s", filepath.Join(root, "test-artifacts"))
}

// serve answers the script's requests until it closes its output: each
// "@@publish" line is a list of records to add to the zone, each "@@send"
// line a message for the first account to send through the API.
func serve(t *testing.T, knot *knottest.Server, out io.Reader, in io.WriteCloser, send func(from, to, subject string) error) {
	t.Helper()
	defer in.Close()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if payload, ok := strings.CutPrefix(line, "@@send "); ok {
			var m struct{ From, To, Subject string }
			if err := json.Unmarshal([]byte(payload), &m); err != nil {
				t.Fatalf("send %q: %v", payload, err)
			}
			if err := send(m.From, m.To, m.Subject); err != nil {
				t.Fatalf("send %q: %v", payload, err)
			}
			t.Logf("sent %q from %s", m.Subject, m.From)
			fmt.Fprintln(in, "ok")
			continue
		}
		payload, ok := strings.CutPrefix(line, "@@publish ")
		if !ok {
			t.Log(line)
			continue
		}
		var recs []struct{ Name, Type, Value string }
		if err := json.Unmarshal([]byte(payload), &recs); err != nil {
			t.Fatalf("publish %q: %v", payload, err)
		}
		var lines []string
		for _, r := range recs {
			lines = append(lines, updateLine(r.Name, r.Type, r.Value))
		}
		knot.Update(lines...)
		t.Logf("published %d records", len(recs))
		fmt.Fprintln(in, "ok")
	}
}

// updateLine is the nsupdate command that adds one record as the console
// shows it: names without the final dot, TXT values unquoted.
func updateLine(name, typ, value string) string {
	switch typ {
	case "TXT":
		value = fmt.Sprintf("%q", value)
	case "CNAME", "MX":
		value += "."
	}
	return fmt.Sprintf("add %s. 60 %s %s", name, typ, value)
}

func cmpEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
