//go:build !unix

package dnsclient

import (
	"encoding/binary"
	"time"

	"github.com/miekg/dns"
)

// rawExchange is kept on the socket by the unix round trip only.
type rawExchange struct{}

// roundTrip sends wire and reads into buf the reply with ID id, skipping
// others, until deadline.
func (c *udpConn) roundTrip(wire, buf []byte, id uint16, deadline time.Time) (int, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return 0, err
	}
	if _, err := c.Write(wire); err != nil {
		return 0, err
	}
	for {
		n, err := c.Read(buf)
		if err != nil {
			return 0, err
		}
		if n < 12 { // not even a header
			return 0, dns.ErrShortRead
		}
		if binary.BigEndian.Uint16(buf) == id {
			return n, nil
		}
	}
}
