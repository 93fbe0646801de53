package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runSesame runs the binary with args and returns its exit status and
// standard error.
func runSesame(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	// A bound: code before a fix may serve instead of refusing.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("sesame %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// TestServeRefusesPublicOutbox: without a relay, a listener other machines
// reach is refused (a usage error, before anything is opened), unless the
// operator says --allow-local-outbox. 192.0.2.1 (TEST-NET-1) is not this
// machine's: with the flag, serve gets past the check and fails to bind,
// so the test never listens on a public address.
func TestServeRefusesPublicOutbox(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", listen)
		if code != 2 || !strings.Contains(stderr, "--allow-local-outbox") || !strings.Contains(stderr, "--smtp-url") {
			t.Errorf("serve --listen %s without --smtp-url: exit %d, want 2 naming --smtp-url and --allow-local-outbox\n%s", listen, code, stderr)
		}
	}
	code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "192.0.2.1:0", "--allow-local-outbox")
	if code != 1 || !strings.Contains(stderr, "--listen 192.0.2.1:0") {
		t.Errorf("serve --allow-local-outbox: exit %d, want 1 (the address cannot be bound)\n%s", code, stderr)
	}
	code, stderr = runSesame(t, "serve", "--data", t.TempDir(), "--listen", "192.0.2.1:0", "--smtp-url", "smtp://relay.example.com")
	if code != 1 || !strings.Contains(stderr, "--listen 192.0.2.1:0") {
		t.Errorf("serve --smtp-url: exit %d, want 1 (the address cannot be bound)\n%s", code, stderr)
	}
}

// TestServeRedactsSMTPPassword: an --smtp-url that does not parse is
// reported without its password, whatever is wrong with it.
func TestServeRedactsSMTPPassword(t *testing.T) {
	for _, u := range []string{
		"smtp://user:hunter2@relay.example.com:bad",    // bad port
		"smtp://user:hunter2@relay.example.com:25/x",   // a path
		"smtp://user:hunter2@relay.example.com:25?a=b", // a query
		"ftp://user:hunter2@relay.example.com",         // scheme
		"smtp://user:hunter2@relay example.com",        // a space in the host
		"smtp://user:hunter2%zz@relay.example.com",     // bad escape
		"smtp://user:hunter2@[::1",                     // bad IPv6 literal
	} {
		code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--smtp-url", u)
		if code == 0 || strings.Contains(stderr, "hunter2") || !strings.Contains(stderr, "SMTP URL") {
			t.Errorf("--smtp-url %s: exit %d, want an error about the SMTP URL without the password:\n%s", u, code, stderr)
		}
	}
	for _, u := range []string{"http://user:hunter2@sesame.example.com:bad", "http://user:hunter2@sesame.example.com/?q"} {
		code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--public-url", u)
		if code == 0 || strings.Contains(stderr, "hunter2") || !strings.Contains(stderr, "public URL") {
			t.Errorf("--public-url %s: exit %d, want an error about the public URL without the password:\n%s", u, code, stderr)
		}
	}
}

// TestServeRefusesProxiedOutbox: a loopback listener behind a reverse
// proxy is reached from anywhere through its public URL, so without a relay
// a --public-url that is not loopback is refused as a public --listen is,
// with the same escape. A --data that is a file makes serve fail (exit 1)
// just after the check, so nothing is served.
func TestServeRefusesProxiedOutbox(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pub := range []string{"https://sesame.example.com", "http://192.0.2.1:8080/", "http://[2001:db8::1]/"} {
		code, stderr := runSesame(t, "serve", "--data", notDir, "--listen", "127.0.0.1:0", "--public-url", pub)
		if code != 2 || !strings.Contains(stderr, "--public-url") || !strings.Contains(stderr, "--allow-local-outbox") || !strings.Contains(stderr, "--smtp-url") {
			t.Errorf("serve --public-url %s without --smtp-url: exit %d, want 2 naming --public-url, --smtp-url and --allow-local-outbox\n%s", pub, code, stderr)
		}
	}
	for _, args := range [][]string{
		{"--public-url", "https://sesame.example.com", "--allow-local-outbox"},
		{"--public-url", "https://sesame.example.com", "--smtp-url", "smtp://relay.example.com"},
		{"--public-url", "http://localhost:8080"},
		{"--public-url", "http://[::1]:8080/sesame"},
	} {
		code, stderr := runSesame(t, append([]string{"serve", "--data", notDir, "--listen", "127.0.0.1:0"}, args...)...)
		if code != 1 || strings.Contains(stderr, "local outbox") {
			t.Errorf("serve %s: exit %d, want 1 (past the outbox check, the data directory is a file)\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestServeRefusesSMTPPort: a relay port that is not 1-65535 is a usage
// error at start, its password masked.
func TestServeRefusesSMTPPort(t *testing.T) {
	for _, port := range []string{"0", "65536", "99999999999", ""} {
		u := "smtp://user:hunter2@relay.example.com:" + port
		code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--smtp-url", u)
		if code != 2 || strings.Contains(stderr, "hunter2") || !strings.Contains(stderr, "from 1 to 65535") || !strings.Contains(stderr, "user:REDACTED@relay.example.com") {
			t.Errorf("--smtp-url %s: exit %d, want 2 and an error about the port without the password:\n%s", u, code, stderr)
		}
	}
}
