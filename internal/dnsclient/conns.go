package dnsclient

import (
	"context"
	"net"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// UDP sockets are kept per server and reused: opening one per query cost
// more than the query itself when thousands of identities are checked.
// miekg/dns skips replies whose ID does not match on a packet connection,
// so a late answer to an earlier query cannot be taken for the current one.
// A socket serves at most maxUses queries, then a new one (with a new
// random source port, RFC 5452 §9.2) takes its place.
const (
	maxIdle = 128 // idle sockets kept per server
	maxUses = 256 // queries per socket
)

type udpConn struct {
	*dns.Conn
	uses int
}

type connPool struct {
	mu   sync.Mutex
	idle map[netip.AddrPort][]*udpConn
}

func (p *connPool) get(ctx context.Context, addr netip.AddrPort) (*udpConn, error) {
	p.mu.Lock()
	if l := p.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		p.idle[addr] = l[:len(l)-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", addr.String())
	if err != nil {
		return nil, err
	}
	return &udpConn{Conn: &dns.Conn{Conn: nc}}, nil
}

// put returns a socket after a clean exchange; after an error the caller
// closes it instead.
func (p *connPool) put(addr netip.AddrPort, c *udpConn) {
	c.uses++
	p.mu.Lock()
	if c.uses < maxUses && len(p.idle[addr]) < maxIdle {
		if p.idle == nil {
			p.idle = make(map[netip.AddrPort][]*udpConn)
		}
		p.idle[addr] = append(p.idle[addr], c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
