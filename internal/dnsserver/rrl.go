package dnsserver

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// verdict is what the response rate limit says of one response.
type verdict int

const (
	send verdict = iota
	drop
	slip // send it truncated: a real resolver retries over TCP, a spoofed victim gets little
)

// limiter is a response rate limit (after BIND's RRL): a token bucket per
// client network, /24 for IPv4 and /56 for IPv6, refilled at rate a second
// up to rate. Over the limit, every second response slips (is sent
// truncated) and the others are dropped. The table is bounded: past
// maxNets networks the stalest are forgotten, so spoofed sources cannot
// make it grow.
type limiter struct {
	rate float64

	mu   sync.Mutex
	nets map[netip.Prefix]*bucket
	now  func() time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
	over   int // responses over the limit, for the slip
}

const maxNets = 65536

func newLimiter(rate int) *limiter {
	return &limiter{rate: float64(rate), nets: make(map[netip.Prefix]*bucket), now: time.Now}
}

func netOf(a net.Addr) netip.Prefix {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	}
	ip = ip.Unmap()
	bits := 56
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

func (l *limiter) allow(a net.Addr) verdict {
	p := netOf(a)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.nets[p]
	if b == nil {
		if len(l.nets) >= maxNets {
			l.forget(now)
		}
		b = &bucket{tokens: l.rate, at: now}
		l.nets[p] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		b.over = 0
		return send
	}
	b.over++
	if b.over%2 == 1 {
		return slip
	}
	return drop
}

// forget drops the buckets that are full again (their networks have been
// quiet for a second or more), or, if none is, half of the table.
func (l *limiter) forget(now time.Time) {
	n := 0
	for p, b := range l.nets {
		if now.Sub(b.at).Seconds()*l.rate+b.tokens >= l.rate {
			delete(l.nets, p)
			n++
		}
	}
	if n > 0 {
		return
	}
	for p := range l.nets {
		delete(l.nets, p)
		if len(l.nets) <= maxNets/2 {
			return
		}
	}
}
