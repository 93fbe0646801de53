package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/smtpserver"
)

// TestServeSMTP: serve --smtp-listen and --smtps-listen print their
// addresses and the self-signed certificate's fingerprint (made 0600 in
// the data directory), and `accounts smtp-password` prints the password
// of the --smtp-region, which authenticates; another region's does not.
func TestServeSMTP(t *testing.T) {
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0",
		"--smtps-listen", "127.0.0.1:0", "--smtp-region", "eu-west-1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var keyID, addr, tlsAddr, fp string
	timeout := time.After(30 * time.Second)
	for fp == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before printing the SMTP fingerprint")
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "export AWS_ACCESS_KEY_ID="); ok {
				keyID = v
			}
			if m := regexp.MustCompile(`^SMTP interface \((STARTTLS|TLS), region eu-west-1\): (\S+)$`).FindStringSubmatch(l); m != nil {
				if m[1] == "TLS" {
					tlsAddr = m[2]
				} else {
					addr = m[2]
				}
			}
			if v, ok := strings.CutPrefix(l, "SMTP certificate SHA-256 fingerprint: "); ok {
				fp = v
			}
		case <-timeout:
			t.Fatal("serve printed no SMTP fingerprint")
		}
	}
	if keyID == "" || addr == "" || tlsAddr == "" {
		t.Fatalf("key %q, STARTTLS %q, TLS %q: want all printed", keyID, addr, tlsAddr)
	}
	for _, f := range []string{smtpserver.CertFile, smtpserver.KeyFile} {
		if fi, err := os.Stat(filepath.Join(data, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi.Mode(), err)
		}
	}
	password := func(region string, args ...string) string {
		out, err := exec.Command(bin, append([]string{"accounts", "smtp-password", keyID, "--data", data, "--region", region}, args...)...).Output()
		if err != nil {
			t.Fatalf("accounts smtp-password --region %s: %v", region, err)
		}
		return strings.TrimSpace(string(out))
	}
	pw := password("eu-west-1")
	if len(pw) != 44 || pw[0] != 'B' {
		t.Errorf("password %q: want 44 characters starting with B", pw)
	}
	var j smtpPasswordOut
	if err := json.Unmarshal([]byte(password("eu-west-1", "--output", "json")), &j); err != nil || j.SmtpPassword != pw || j.AccessKeyId != keyID || j.Region != "eu-west-1" {
		t.Errorf("--output json: %+v, %v", j, err)
	}
	login := func(pass string) error {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
			t.Fatal(err)
		}
		// The printed fingerprint is how a client pins the certificate.
		st, _ := c.TLSConnectionState()
		if got := smtpserver.Fingerprint(st.PeerCertificates[0].Raw); got != fp {
			t.Errorf("certificate fingerprint %s, printed %s", got, fp)
		}
		return c.Auth(smtp.PlainAuth("", keyID, pass, "127.0.0.1"))
	}
	if err := login(pw); err != nil {
		t.Errorf("AUTH with the eu-west-1 password: %v", err)
	}
	if err := login(password("us-east-1")); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("AUTH with the us-east-1 password on an eu-west-1 listener: %v, want 535", err)
	}
	if out, err := exec.Command(bin, "accounts", "smtp-password", "AKIAAAAAAAAAAAAAAAAA", "--data", data).CombinedOutput(); err == nil || !strings.Contains(string(out), "unknown or revoked") {
		t.Errorf("smtp-password of an unknown key: %v %s", err, out)
	}
}

// TestServeSMTPFlags: mistakes in the SMTP flags are usage errors, and a
// region not served is refused before serving.
func TestServeSMTPFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--smtp-listen", "nope"},
		{"--smtp-listen", "127.0.0.1:0", "--smtp-tls-cert", "cert.pem"},
		{"--smtp-listen", "127.0.0.1:0", "--smtp-region", "US EAST"},
	} {
		code, stderr := runSesame(t, append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, args...)...)
		if code != 2 || !strings.Contains(stderr, "--smtp-") {
			t.Errorf("serve %v: exit %d, want 2 naming the flag\n%s", args, code, stderr)
		}
	}
	code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--regions", "us-east-1", "--smtp-listen", "127.0.0.1:0", "--smtp-region", "eu-west-1")
	if code != 1 || !strings.Contains(stderr, `SMTP region "eu-west-1" is not served`) {
		t.Errorf("--smtp-region not in --regions: exit %d\n%s", code, stderr)
	}
}
