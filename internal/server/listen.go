package server

import (
	"net"

	"github.com/sesame/sesame/internal/netlimit"
)

// Listen opens the TCP listener of `sesame serve` on addr: at most max
// connections at once, and at most perClient from one client address (an
// IPv4 address, an IPv6 /64); a connection past either is closed as soon
// as it is accepted, and counted in sesame_connections_refused_total.
// Zero bounds take netlimit's defaults (1024 and 256).
func Listen(addr string, max, perClient int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netlimit.Limit(ln, max, perClient), nil
}
