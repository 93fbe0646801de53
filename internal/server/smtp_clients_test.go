package server_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/smtpserver"
	"github.com/sesame/sesame/internal/store"
)

// need finds a client program the test set-up installs: missing, the
// test skips, but fails under CI.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: scripts/install-test-deps.sh must install it", name)
		}
		t.Skipf("%s is missing; CI fails here instead", name)
	}
	return p
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// stored returns the message with this ID; the test fails without it.
func (e *smtpEnv) stored(t *testing.T, id string) *store.Message {
	t.Helper()
	m, err := e.srv.Store.GetMessage(context.Background(), id)
	if err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	return m
}

// TestSMTPPythonSmtplib runs testdata/smtplib_client.py: Python's smtplib
// with STARTTLS (the certificate checked), the SES SMTP password,
// BODY=8BITMIME and SMTP_SSL. The 8-bit body is stored as sent.
func TestSMTPPythonSmtplib(t *testing.T) {
	py := need(t, "python3")
	e := startSMTP(t, server.Options{}, smtpserver.Limits{})
	e.verifyDomain(t, "example.com")
	e.sending(t, func(s *store.SendingState) { s.MaxSendRate = -1 })
	cmd := exec.Command(py, "testdata/smtplib_client.py")
	cmd.Env = append(os.Environ(), "SMTP_PORT="+port(e.addr), "SMTPS_PORT="+port(e.tlsAddr), "SMTP_CA="+e.caFile,
		"SMTP_USER="+e.keyID, "SMTP_PASS="+e.password)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smtplib_client.py: %v\n%s", err, out)
	}
	var ids []string
	for _, l := range strings.Split(string(out), "\n") {
		if id, ok := strings.CutPrefix(l, "accepted "); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("accepted %v, want 2 messages\n%s", ids, out)
	}
	if raw := string(e.stored(t, ids[0]).Raw); !strings.Contains(raw, "Grüße aus smtplib.") {
		t.Errorf("8-bit body not stored as sent:\n%s", raw)
	}
	e.stored(t, ids[1])
}

// TestSMTPSwaks: swaks, for what other clients seldom do: PIPELINING,
// AUTH LOGIN, an 8-bit body, implicit TLS, a UTF-8 address (SES has no
// SMTPUTF8: refused), and a connection dropped after DATA began.
func TestSMTPSwaks(t *testing.T) {
	bin := need(t, "swaks")
	e := startSMTP(t, server.Options{}, smtpserver.Limits{})
	e.verifyDomain(t, "example.com")
	e.sending(t, func(s *store.SendingState) { s.MaxSendRate = -1 })
	swaks := func(args ...string) (string, error) {
		t.Helper()
		base := []string{"--server", e.addr, "--tls", "--auth-user", e.keyID, "--auth-password", e.password,
			"--from", "app@example.com", "--to", "success@simulator.amazonses.com", "--timeout", "30s"}
		out, err := exec.Command(bin, append(base, args...)...).CombinedOutput()
		return string(out), err
	}
	accepted := func(what, out string, err error) string {
		t.Helper()
		i := strings.Index(out, "<~  250 Ok ")
		if err != nil || i < 0 {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		id, _, _ := strings.Cut(out[i+len("<~  250 Ok "):], "\n")
		return strings.TrimSpace(id)
	}

	out, err := swaks("--pipeline", "--auth", "PLAIN")
	accepted("--pipeline", out, err)
	if !strings.Contains(out, "PIPELINING") || !strings.Contains(out, "~> MAIL FROM:<app@example.com>\n ~> RCPT TO:<success@simulator.amazonses.com>") {
		t.Errorf("swaks did not pipeline MAIL and RCPT:\n%s", out)
	}

	out, err = swaks("--auth", "LOGIN", "--header", "Content-Type: text/plain; charset=utf-8", "--header", "Content-Transfer-Encoding: 8bit",
		"--body", "naïve café, 8-bit")
	id := accepted("AUTH LOGIN, 8-bit body", out, err)
	if raw := string(e.stored(t, id).Raw); !strings.Contains(raw, "naïve café, 8-bit") {
		t.Errorf("8-bit body not stored as sent:\n%s", raw)
	}

	b, err := exec.Command(bin, "--server", e.tlsAddr, "--tls-on-connect", "--auth-user", e.keyID, "--auth-password", e.password,
		"--from", "app@example.com", "--to", "success@simulator.amazonses.com", "--timeout", "30s").CombinedOutput()
	accepted("--tls-on-connect", string(b), err)

	before := e.sentCount(t)
	out, err = swaks("--from", "jöe@example.com")
	if err == nil || !strings.Contains(out, "553 <jöe@example.com> Invalid email address") {
		t.Errorf("UTF-8 MAIL FROM without SMTPUTF8: %v, want SES's 553\n%s", err, out)
	}
	out, _ = swaks("--drop-after", "DATA")
	if !strings.Contains(out, "354 ") {
		t.Fatalf("--drop-after DATA: no 354\n%s", out)
	}
	// Then one whole message on a new connection: only it is stored.
	out, err = swaks("--header", "Subject: after the drop")
	accepted("after the drop", out, err)
	if n := e.sentCount(t); n != before+1 {
		t.Errorf("%d messages stored after a refused one, a dropped one and a whole one, want %d", n, before+1)
	}
}
