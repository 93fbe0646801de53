package dnsclient

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// exchange asks addr one question and returns its reply, checked by
// validate. It retries timeouts, network errors and bad replies up to
// Retries times within the lookup's budget. Queries to authoritative
// servers (lim != nil) go without recursion and wait for lim; the resolver
// gets RD set. What happens is appended to ev as dig would show it,
// unless ev is nil.
func (c *Client) exchange(l lookup, addr netip.AddrPort, name string, qtype uint16, lim *rate.Limiter, ev *[]string) (*dns.Msg, time.Duration, error) {
	if ev != nil {
		cmd := digCommand(addr, lim == nil, name, qtype)
		if l.cd {
			cmd += " +cd"
		}
		*ev = append(*ev, cmd)
	}
	var err error
	for try := 0; try <= c.retries() && l.err() == nil; try++ {
		var r *dns.Msg
		var rtt time.Duration
		r, rtt, err = c.attempt(l, addr, name, qtype, lim, ev)
		if err == nil {
			if ev != nil {
				*ev = appendReply(*ev, r)
			}
			return r, rtt, nil
		}
		if ev != nil {
			*ev = append(*ev, fmt.Sprintf(";; communications error to %s: %s", digAddr(addr), errText(err)))
		}
		if errors.Is(err, errBudget) {
			break
		}
	}
	if err == nil { // the budget was spent before the first try
		err = l.err()
		if ev != nil {
			*ev = append(*ev, ";; not sent: "+errText(err))
		}
	}
	return nil, 0, err
}

// attempt sends the query over UDP and, if the reply is truncated, again
// over TCP (RFC 1035 §4.2.1, RFC 7766 §5), where the whole answer fits.
func (c *Client) attempt(l lookup, addr netip.AddrPort, name string, qtype uint16, lim *rate.Limiter, ev *[]string) (*dns.Msg, time.Duration, error) {
	r, rtt, err := c.send(l, "udp", addr, name, qtype, lim)
	if err != nil || !r.Truncated {
		return r, rtt, err
	}
	if ev != nil {
		*ev = append(*ev, ";; Truncated, retrying in TCP mode.")
	}
	return c.send(l, "tcp", addr, name, qtype, lim)
}

func (c *Client) send(l lookup, network string, addr netip.AddrPort, name string, qtype uint16, lim *rate.Limiter) (*dns.Msg, time.Duration, error) {
	if lim != nil {
		if err := c.wait(l, lim); err != nil {
			return nil, 0, err
		}
	}
	if network == "udp" {
		return c.exchangeUDP(l, addr, name, qtype, lim == nil)
	}
	q := newQuery(name, qtype, lim == nil)
	q.CheckingDisabled = l.cd
	ctx, cancel := context.WithDeadline(l.ctx, earlier(l.deadline, time.Now().Add(c.timeout())))
	defer cancel()
	dc := &dns.Client{Net: network, Timeout: c.timeout()}
	r, rtt, err := dc.ExchangeContext(ctx, q, addr.String())
	if err != nil {
		return nil, 0, err
	}
	if err := validate(q, r); err != nil {
		return nil, 0, err
	}
	return r, rtt, nil
}

// exchangeUDP sends the query to addr over a pooled socket and reads the
// reply with its ID, until the attempt's timeout or the lookup's deadline.
// Replies with another ID are skipped: late answers to an earlier query on
// the socket, or guesses.
func (c *Client) exchangeUDP(l lookup, addr netip.AddrPort, name string, qtype uint16, recurse bool) (*dns.Msg, time.Duration, error) {
	if err := l.ctx.Err(); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	if !start.Before(l.deadline) {
		return nil, 0, context.DeadlineExceeded
	}
	deadline := earlier(l.deadline, start.Add(c.timeout()))
	conn, err := c.conns.get(addr)
	if err != nil {
		return nil, 0, err
	}
	r, err := conn.exchange(name, qtype, recurse, l.cd, deadline)
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	rtt := time.Since(start)
	err = validate(&conn.q, r) // before the socket, and its query, go back to the pool
	c.conns.put(addr, conn)
	if err != nil {
		return nil, 0, err
	}
	return r, rtt, nil
}

// exchange sends one query, built in the socket's own message (one query at
// a time goes through a socket, so it is reused rather than allocated), and
// returns the reply.
func (c *udpConn) exchange(name string, qtype uint16, recurse, cd bool, deadline time.Time) (*dns.Msg, error) {
	setQuery(&c.q, &c.opt, name, qtype, recurse)
	c.q.CheckingDisabled = cd
	wire, err := c.q.PackBuffer(c.buf)
	if err != nil {
		return nil, err
	}
	n, err := c.roundTrip(wire, c.buf, c.q.Id, deadline)
	if err != nil {
		return nil, err
	}
	r := new(dns.Msg)
	if err := r.Unpack(c.buf[:n]); err != nil {
		return nil, err
	}
	return r, nil
}

// newQuery builds a query with EDNS0 (RFC 6891) and a fresh ID drawn from
// crypto/rand, so that replies cannot be guessed (RFC 5452).
func newQuery(name string, qtype uint16, recurse bool) *dns.Msg {
	m := new(dns.Msg)
	setQuery(m, new(dns.OPT), name, qtype, recurse)
	return m
}

// setQuery makes m the query newQuery builds, with opt as its OPT record,
// reusing m's slices.
func setQuery(m *dns.Msg, opt *dns.OPT, name string, qtype uint16, recurse bool) {
	var id [2]byte
	rand.Read(id[:]) // never fails (crypto/rand)
	m.MsgHdr = dns.MsgHdr{Id: binary.BigEndian.Uint16(id[:]), Opcode: dns.OpcodeQuery, RecursionDesired: recurse}
	m.Compress = false
	m.Question = append(m.Question[:0], dns.Question{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET})
	m.Answer, m.Ns = m.Answer[:0], m.Ns[:0]
	*opt = dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(udpSize)
	m.Extra = append(m.Extra[:0], opt)
}

// validate checks that r answers q (RFC 5452 §3). Error replies may omit
// the question, as some servers do for FORMERR and REFUSED.
func validate(q, r *dns.Msg) error {
	switch {
	case !r.Response:
		return fmt.Errorf("%w: QR bit not set", ErrBadReply)
	case r.Id != q.Id:
		return fmt.Errorf("%w: ID %d, sent %d", ErrBadReply, r.Id, q.Id)
	case r.Opcode != q.Opcode:
		return fmt.Errorf("%w: opcode %s", ErrBadReply, dns.OpcodeToString[r.Opcode])
	case len(r.Question) == 0 && r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError:
		return nil
	case len(r.Question) != 1:
		return fmt.Errorf("%w: %d questions", ErrBadReply, len(r.Question))
	}
	a, b := q.Question[0], r.Question[0]
	if !strings.EqualFold(a.Name, b.Name) || a.Qtype != b.Qtype || a.Qclass != b.Qclass {
		return fmt.Errorf("%w: question %q, sent %q", ErrBadReply, b.String(), a.String())
	}
	return nil
}
