package netlimit

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestClient(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:443":              "192.0.2.1/32",
		"[::ffff:192.0.2.1]:443":     "192.0.2.1/32",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":   "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"@":                          "invalid Prefix",
		"":                           "invalid Prefix",
	} {
		if got := Client(remote).String(); got != want {
			t.Errorf("Client(%q) = %s, want %s", remote, got, want)
		}
	}
}

// dialFrom opens a connection to ln from the loopback address from.
func dialFrom(t *testing.T, ln net.Listener, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closed says whether the server closed c (within a second).
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || (err != nil && !isTimeout(err))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestListener: past PerClient from one address, or Max in all, a
// connection is closed at once; a closed connection frees its place.
func TestListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Limit(inner, 3, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	next := func() net.Conn {
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	a1, a2 := dialFrom(t, ln, "127.0.0.1"), dialFrom(t, ln, "127.0.0.1")
	s1, _ := next(), next()
	if a3 := dialFrom(t, ln, "127.0.0.1"); !closed(a3) {
		t.Error("a third connection from 127.0.0.1 (PerClient 2) was kept open")
	}
	b1 := dialFrom(t, ln, "127.0.0.2")
	next()
	if closed(b1) || closed(a1) || closed(a2) {
		t.Error("a connection within the limits was closed")
	}
	if b2 := dialFrom(t, ln, "127.0.0.3"); !closed(b2) {
		t.Error("a fourth connection (Max 3) was kept open")
	}
	if n := ln.Open(); n != 3 {
		t.Errorf("Open() = %d, want 3", n)
	}
	s1.Close()
	s1.Close() // twice: one place given back
	a4 := dialFrom(t, ln, "127.0.0.1")
	next()
	if closed(a4) {
		t.Error("a connection after one closed was refused")
	}
	if n := ln.Open(); n != 3 {
		t.Errorf("Open() = %d, want 3", n)
	}
}
