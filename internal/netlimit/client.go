// Package netlimit says which client a connection or request comes from,
// for the limits that hold per client, and bounds the connections a
// server accepts, in all and from each client (Listener).
package netlimit

import "net/netip"

// Client is what a client is counted by, from a remote address as
// net/http's Request.RemoteAddr and net.Conn's RemoteAddr give it
// (host:port): an IPv4 address (an IPv4-mapped IPv6 one counts as IPv4),
// or the /64 of an IPv6 address, which one host usually has whole, so
// that its 2^64 addresses count as one client. An address that does not
// parse (a Unix socket) gives the zero Prefix, which all such clients
// share. Behind a reverse proxy every client is the proxy:
// X-Forwarded-For is not trusted, since anyone can send it.
func Client(remote string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.WithZone("").Prefix(bits)
	return p
}
