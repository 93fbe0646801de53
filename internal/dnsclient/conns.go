package dnsclient

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// UDP sockets are kept per server and reused: opening one per query cost
// more than the query itself when thousands of identities are checked.
// A socket carries one query at a time, and replies whose ID does not
// match are skipped, so a late answer to an earlier query cannot be taken
// for the current one. A socket serves at most maxUses queries, then a new
// one (with a new random source port, RFC 5452 §9.2) takes its place.
//
// Idle sockets are bounded per server and in all, and one idle for longer
// than maxIdleTime is closed rather than reused, so that checking many
// domains with servers of their own does not hold a socket for each.
const (
	maxIdle      = 512  // idle sockets kept per server
	maxIdleTotal = 2048 // idle sockets kept in all
	maxUses      = 256  // queries per socket
	maxIdleTime  = 30 * time.Second
)

type udpConn struct {
	*net.UDPConn
	uses int
	idle time.Time // when it was put back
	buf  []byte    // the query, then the reply
	rt   rawExchange
	q    dns.Msg // the query in progress
	opt  dns.OPT // its EDNS0 record
}

type connPool struct {
	mu    sync.Mutex
	idle  map[netip.AddrPort][]*udpConn
	total int
}

// get returns an idle socket to addr, or a new one.
func (p *connPool) get(addr netip.AddrPort) (*udpConn, error) {
	var stale []*udpConn
	p.mu.Lock()
	l := p.idle[addr]
	// The most recently used is at the end; those at the start idled
	// longest.
	if len(l) > 0 && time.Since(l[0].idle) > maxIdleTime {
		i := 0
		for i < len(l) && time.Since(l[i].idle) > maxIdleTime {
			i++
		}
		stale = l[:i:i]
		l = append(l[:0:0], l[i:]...)
		p.total -= len(stale)
	}
	var c *udpConn
	if len(l) > 0 {
		c = l[len(l)-1]
		l[len(l)-1] = nil
		l = l[:len(l)-1]
		p.total--
	}
	if len(l) == 0 {
		delete(p.idle, addr)
	} else {
		p.idle[addr] = l
	}
	p.mu.Unlock()
	for _, s := range stale {
		s.Close()
	}
	if c != nil {
		return c, nil
	}
	nc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return &udpConn{UDPConn: nc, buf: make([]byte, udpSize)}, nil
}

// put returns a socket after a clean exchange; after an error the caller
// closes it instead.
func (p *connPool) put(addr netip.AddrPort, c *udpConn) {
	c.uses++
	c.idle = time.Now()
	p.mu.Lock()
	if c.uses < maxUses && len(p.idle[addr]) < maxIdle && p.total < maxIdleTotal {
		if p.idle == nil {
			p.idle = make(map[netip.AddrPort][]*udpConn)
		}
		p.idle[addr] = append(p.idle[addr], c)
		p.total++
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
