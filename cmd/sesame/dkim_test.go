package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
)

// TestServeDNSListenUsage: --dns-listen is refused with SES's DKIM zone
// (Sesame cannot answer for Amazon's), and so is a --dns-ns that is not a
// host name.
func TestServeDNSListenUsage(t *testing.T) {
	code, stderr := runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--dns-listen", "127.0.0.1:0", "--dns-ns", "ns1.example.net")
	if code != 2 || !strings.Contains(stderr, "dkim.amazonses.com") || !strings.Contains(stderr, "--dkim-domain") {
		t.Errorf("--dns-listen with SES's DKIM zone: exit %d, want 2 naming the zone and --dkim-domain\n%s", code, stderr)
	}
	code, stderr = runSesame(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--dkim-domain", "dkim.example.net", "--dns-listen", "127.0.0.1:0", "--dns-ns", "not a name")
	if code != 2 || !strings.Contains(stderr, "--dns-ns") {
		t.Errorf("--dns-ns that is not a host name: exit %d, want 2 naming --dns-ns\n%s", code, stderr)
	}
	code, stderr = runSesame(t, "dkim", "rotate", "--data", t.TempDir(), "--identity", "example.com")
	if code != 2 || !strings.Contains(stderr, "dkim.amazonses.com") {
		t.Errorf("dkim rotate with SES's DKIM zone: exit %d, want 2\n%s", code, stderr)
	}
}

// TestDKIMCommandsAndDNSListen: keys made in the data directory are
// listed and rotated by `sesame dkim`, and `sesame serve --dns-listen`
// answers with them from its first query.
func TestDKIMCommandsAndDNSListen(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := server.OpenStore(ctx, data, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := server.OpenAccounts(st, data, "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := m.Create(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	id := &identity.Identity{Key: identity.Key{Account: creds.AccountId, Region: "us-east-1", Name: "example.com"}, Kind: names.KindDomain,
		DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens(), KeyLength: "RSA_1024_BIT", Origin: "AWS_SES"}}
	if _, err := st.UpdateIdentity(ctx, id.Key, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		t.Fatal(err)
	}
	ring := &keyring.Keyring{Keys: st, Identities: st, Sealer: m.Sealer}
	if err := ring.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	stored, err := st.ListDKIMKeys(ctx, id.Key)
	st.Close()
	if err != nil || len(stored) != 3 {
		t.Fatalf("%d keys, %v", len(stored), err)
	}

	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--data", data}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("sesame %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	rows := func(out string) []dkimKeyRow {
		var rs []dkimKeyRow
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r dkimKeyRow
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	listed := rows(run("dkim", "keys", "-o", "json"))
	if len(listed) != 3 || listed[0].Identity != "example.com" || listed[0].Length != "RSA_1024_BIT" {
		t.Fatalf("dkim keys: %+v", listed)
	}
	if out := run("dkim", "keys", "--identity", "example.com"); !strings.Contains(out, "current") || strings.Contains(out, "BEGIN") {
		t.Errorf("dkim keys (text):\n%s", out)
	}
	rotated := rows(run("dkim", "rotate", "--identity", "example.com", "--dkim-domain", "dkim.example.test", "-o", "json"))
	next := ""
	for _, r := range rotated {
		if r.State == store.DKIMNext {
			next = r.Token
		}
	}
	if next == "" {
		t.Fatalf("dkim rotate published no next key: %+v", rotated)
	}
	if out, err := exec.Command(bin, "--data", data, "dkim", "rotate", "--identity", "example.com", "--dkim-domain", "dkim.example.test").CombinedOutput(); err == nil || !strings.Contains(string(out), "rotation is under way") {
		t.Errorf("a second rotate: %v\n%s", err, out)
	}

	// The server answers for the zone with the stored keys at once.
	port := freeUDPPort(t)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--data", data, "serve", "--listen", "127.0.0.1:0", "--dkim-domain", "dkim.example.test",
		"--dns-listen", "127.0.0.1:"+port, "--verify=false") // the command: --dns-ns defaults to ns1.<zone>
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait() // stderr is whole, and no longer written, after this
		}
	}
	defer stop()
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	for _, r := range rotated {
		q := new(dns.Msg)
		q.SetQuestion(r.Token+".dkim.example.test.", dns.TypeTXT)
		var resp *dns.Msg
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if resp, _, err = c.Exchange(q, "127.0.0.1:"+port); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer on --dns-listen: %v\n%s", err, stderr.String())
			}
		}
		var want string
		st2, err := server.OpenStore(ctx, data, "")
		if err != nil {
			t.Fatal(err)
		}
		if k, err := st2.GetDKIMKey(ctx, r.Token); err == nil {
			want = k.Record
		}
		st2.Close()
		if !resp.Authoritative || len(resp.Answer) != 1 || strings.Join(resp.Answer[0].(*dns.TXT).Txt, "") != want {
			t.Errorf("%s (%s): %v, want the stored record", r.Token, r.State, resp)
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("dkim.example.test.", dns.TypeNS)
	r, _, err := c.Exchange(q, "127.0.0.1:"+port)
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.NS).Ns != "ns1.dkim.example.test." {
		t.Errorf("NS of the zone without --dns-ns: %v %v, want ns1.dkim.example.test.", r, err)
	}
	stop()
	if !strings.Contains(stderr.String(), "--dns-ns") {
		t.Errorf("no warning about --dns-ns:\n%s", stderr.String())
	}
}

func freeUDPPort(t *testing.T) string {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			_, p, _ := net.SplitHostPort(l.Addr().String())
			return p
		}
	}
	t.Fatal("no free port")
	return ""
}
