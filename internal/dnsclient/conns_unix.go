//go:build unix

package dnsclient

import (
	"encoding/binary"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// rawExchange is the state of the socket's round trip in progress, with
// the function the poller calls, made once per socket rather than as a
// closure per query.
type rawExchange struct {
	raw       syscall.RawConn
	step      func(fd uintptr) bool
	wire, buf []byte
	id        uint16
	sent      bool
	n         int
	err       error
}

// roundTrip sends wire and reads into buf the reply with ID id, skipping
// others, until deadline. It works on the socket itself: the query is sent
// from within the read, so the reader starts waiting before the reply can
// come and does not first try a read that would find nothing, which costs a
// system call and a trip through the poller per query.
func (c *udpConn) roundTrip(wire, buf []byte, id uint16, deadline time.Time) (int, error) {
	x := &c.rt
	if x.raw == nil {
		raw, err := c.SyscallConn()
		if err != nil {
			return 0, err
		}
		x.raw, x.step = raw, x.run
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	x.wire, x.buf, x.id, x.sent, x.n, x.err = wire, buf, id, false, 0, nil
	err := x.raw.Read(x.step)
	n, opErr := x.n, x.err
	x.wire, x.buf, x.err = nil, nil, nil
	if err != nil {
		return 0, err
	}
	return n, opErr
}

// run is called by the poller: first it sends the query, then, each time
// the socket is readable, reads until the reply comes. It returns false to
// wait for the socket to be readable again.
func (x *rawExchange) run(fd uintptr) bool {
	if !x.sent {
		x.sent = true
		for {
			_, x.err = syscall.Write(int(fd), x.wire)
			if x.err != syscall.EINTR {
				return x.err != nil // sent: wait for the reply
			}
		}
	}
	for {
		x.n, x.err = syscall.Read(int(fd), x.buf)
		switch {
		case x.err == syscall.EINTR:
			continue
		case x.err == syscall.EAGAIN:
			return false
		case x.err != nil:
			return true
		case x.n < 12: // not even a header
			x.err = dns.ErrShortRead
			return true
		case binary.BigEndian.Uint16(x.buf) != x.id:
			continue // late reply to an earlier query
		}
		return true
	}
}
