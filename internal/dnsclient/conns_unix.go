//go:build unix

package dnsclient

import (
	"encoding/binary"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// roundTrip sends wire and reads into buf the reply with ID id, skipping
// others, until deadline. It works on the socket itself: the query is sent
// from within the read, so the reader starts waiting before the reply can
// come and does not first try a read that would find nothing, which costs a
// system call and a trip through the poller per query.
func (c *udpConn) roundTrip(wire, buf []byte, id uint16, deadline time.Time) (int, error) {
	if c.raw == nil {
		raw, err := c.SyscallConn()
		if err != nil {
			return 0, err
		}
		c.raw = raw
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	var n int
	var opErr error
	sent := false
	err := c.raw.Read(func(fd uintptr) bool {
		if !sent {
			sent = true
			for {
				_, opErr = syscall.Write(int(fd), wire)
				if opErr != syscall.EINTR {
					return opErr != nil // sent: wait for the reply
				}
			}
		}
		for {
			n, opErr = syscall.Read(int(fd), buf)
			switch {
			case opErr == syscall.EINTR:
				continue
			case opErr == syscall.EAGAIN:
				return false
			case opErr != nil:
				return true
			case n < 12: // not even a header
				opErr = dns.ErrShortRead
				return true
			case binary.BigEndian.Uint16(buf) != id:
				continue // late reply to an earlier query
			}
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	return n, opErr
}
