package dnsserver

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestListen: one UDP socket per CPU on one port, TCP on the same port,
// and each UDP socket answers (queries from many source ports reach all
// of them).
func TestListen(t *testing.T) {
	pcs, l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if len(pcs) != runtime.GOMAXPROCS(0) {
		t.Errorf("%d UDP sockets, want one per CPU (%d)", len(pcs), runtime.GOMAXPROCS(0))
	}
	port := pcs[0].LocalAddr().(*net.UDPAddr).Port
	for _, pc := range pcs {
		if p := pc.LocalAddr().(*net.UDPAddr).Port; p != port {
			t.Errorf("UDP socket on port %d, want %d", p, port)
		}
	}
	if p := l.Addr().(*net.TCPAddr).Port; p != port {
		t.Errorf("TCP on port %d, want %d", p, port)
	}
	s, _ := newServer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeAll(ctx, pcs, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeAll: %v", err)
		}
	}()
	addr := pcs[0].LocalAddr().String()
	for _, proto := range []string{"udp", "tcp"} {
		for i := range 32 { // a new source port each time
			c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion("tok1.dkim.example.test.", dns.TypeTXT)
			var r *dns.Msg
			var err error
			for try := 0; try < 20; try++ {
				if r, _, err = c.Exchange(m, addr); err == nil {
					break
				}
			}
			if err != nil || len(r.Answer) != 1 {
				t.Fatalf("%s query %d: %v %v", proto, i, r, err)
			}
		}
	}
}
