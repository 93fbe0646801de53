package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServeBodyAndConnectionFlags: --body-memory-mib below what one largest body and
// the small calls beside it need is refused at start, with the minimum
// and why (before, 32 was accepted: a template upload then took all that
// large bodies may use, and 33 MiB bodies more than that); the
// connection bounds must be at least 1.
func TestServeBodyAndConnectionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--body-memory-mib", "46"}, []string{"--body-memory-mib 46", "at least 47 MiB", "template"}},
		{[]string{"--body-memory-mib", "32"}, []string{"--body-memory-mib 32", "at least 47 MiB"}},
		{[]string{"--body-memory-mib", "0"}, []string{"at least 47 MiB"}},
		{[]string{"--max-connections", "0"}, []string{"--max-connections 0", "at least 1"}},
		{[]string{"--max-connections-per-ip", "-1"}, []string{"--max-connections-per-ip -1", "at least 1"}},
	} {
		code, stderr := runSesame(t, append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, c.args...)...)
		if code != 2 {
			t.Errorf("serve %s: exit %d, want 2 (a usage error)\n%s", strings.Join(c.args, " "), code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("serve %s: the error does not say %q:\n%s", strings.Join(c.args, " "), w, stderr)
			}
		}
	}
}

// TestServeConnectionLimit: sesame serve's listener holds
// --max-connections-per-ip (here from its environment variable): one more
// connection from the address is closed at once, another address's is
// served.
func TestServeConnectionLimit(t *testing.T) {
	bin, err := buildSesame()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SESAME_MAX_CONNECTIONS_PER_IP", "2")
	cmd, url := startServe(t, bin, t.TempDir())
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	addr := strings.TrimPrefix(url, "http://")
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closed says whether the server closed c without a reply.
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(make([]byte, 1))
		var ne net.Error
		return n == 0 && !(errors.As(err, &ne) && ne.Timeout())
	}
	held := []net.Conn{dial("127.0.0.2"), dial("127.0.0.2")}
	for _, c := range held {
		if closed(c) {
			t.Fatal("a connection within --max-connections-per-ip was closed")
		}
	}
	if !closed(dial("127.0.0.2")) {
		t.Error("a third connection from 127.0.0.2 was kept (--max-connections-per-ip 2)")
	}
	c := dial("127.0.0.3")
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Errorf("another address: %q, %v; want 200", line, err)
	}
}
