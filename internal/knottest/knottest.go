// Package knottest runs a real Knot DNS server (Debian package knot) on a
// loopback address for end-to-end tests, and publishes records into it with
// RFC 2136 dynamic updates signed with TSIG, through knsupdate (package
// knot-dnsutils): the way an operator's automation would. The same key may
// also transfer the zone (AXFR).
//
// Without knotd the tests skip, except in CI (CI=true), where they fail: the
// test set-up installs Knot, so its absence is a broken set-up.
package knottest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running knotd serving one zone.
type Server struct {
	Addr string // ip:port, UDP and TCP
	IP   string
	Port string
	Zone string // with the trailing dot
	// TSIG key for updates.
	KeyName, KeySecret string

	t *testing.T
}

// Require returns the path of a Knot tool, or stops the test: a failure in
// CI, a skip elsewhere.
func Require(t *testing.T, tool string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + tool); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed: the test set-up (scripts/install-test-deps.sh) must install knot and knot-dnsutils", tool)
	}
	t.Skipf("%s is not installed (apt-get install knot knot-dnsutils); CI fails here instead", tool)
	return ""
}

// freePort finds a port free for both UDP and TCP on ip.
func freePort(t *testing.T, ip string) string {
	for range 50 {
		l, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("%s:%d", ip, port))
		l.Close()
		if err == nil {
			u.Close()
			return fmt.Sprint(port)
		}
	}
	t.Fatal("no free port")
	return ""
}

// Start runs knotd on ip (e.g. "127.0.0.2") serving zone from zoneText
// (zone-file text with $ORIGIN and SOA), and stops it at the end of the test.
func Start(t *testing.T, ip, zone, zoneText string) *Server {
	t.Helper()
	return StartWith(t, ip, zone, zoneText, Options{})
}

// Options change how StartWith runs knotd.
type Options struct {
	// Port is the port to listen on; "" picks a free one. The name servers
	// of a zone listen on one port at several loopback addresses, as the
	// verifier asks every server of a zone on the same port: give the
	// first server's Port to the others.
	Port string
	// Unloaded configures the zone without its zone file, as after a load
	// that failed (a file missing or broken): knotd is authoritative for
	// the zone but has nothing to serve, and answers SERVFAIL for every
	// name in it. zoneText is ignored and Update fails.
	Unloaded bool
}

// StartWith is Start with options.
func StartWith(t *testing.T, ip, zone, zoneText string, o Options) *Server {
	t.Helper()
	knotd := Require(t, "knotd")
	Require(t, "knsupdate")
	zone = dns.Fqdn(zone)
	dir := t.TempDir()
	for _, d := range []string{"zones", "db", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if !o.Unloaded {
		if err := os.WriteFile(filepath.Join(dir, "zones", zone+"zone"), []byte(zoneText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	port := o.Port
	if port == "" {
		port = freePort(t, ip)
	}
	s := &Server{IP: ip, Port: port, Zone: zone, KeyName: "sesame-test.", KeySecret: base64.StdEncoding.EncodeToString(secret), t: t}
	s.Addr = net.JoinHostPort(ip, s.Port)
	conf := fmt.Sprintf(`server:
    listen: %s@%s
    rundir: %s/run
log:
  - target: stderr
    any: warning
database:
    storage: %s/db
key:
  - id: %s
    algorithm: hmac-sha256
    secret: %s
acl:
  - id: update
    key: %s
    action: [update, transfer]
template:
  - id: default
    storage: %s/zones
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
zone:
  - domain: %s
    acl: update
`, ip, s.Port, dir, dir, s.KeyName, s.KeySecret, s.KeyName, dir, zone)
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(knotd, "-c", confPath)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	// Ready when the zone's SOA is served, or for an unloaded zone when
	// knotd answers SERVFAIL for it.
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("knotd exited: %v\n%s", err, stderr.String())
		default:
		}
		if r, _, err := c.Exchange(m, s.Addr); err == nil {
			if !o.Unloaded && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 || o.Unloaded && r.Rcode == dns.RcodeServerFailure {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("knotd did not serve %s within 15s:\n%s", zone, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Update applies one dynamic update with knsupdate: each line is an nsupdate
// command such as "add _amazonses.example.test. 60 TXT \"token\"" or
// "delete _amazonses.example.test. TXT".
func (s *Server) Update(lines ...string) {
	s.t.Helper()
	var in strings.Builder
	fmt.Fprintf(&in, "server %s %s\nzone %s\nkey hmac-sha256:%s %s\n", s.IP, s.Port, s.Zone, s.KeyName, s.KeySecret)
	for _, l := range lines {
		fmt.Fprintf(&in, "update %s\n", l)
	}
	in.WriteString("send\nquit\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Require(s.t, "knsupdate"))
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("knsupdate: %v\n%s\ninput:\n%s", err, out, in.String())
	}
}
