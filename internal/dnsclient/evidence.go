package dnsclient

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/miekg/dns"
)

// Evidence is written the way dig prints it, so a person can run the
// command and compare. It leaves out what changes from run to run (query
// IDs, round-trip times, local ports) so it can be stored and diffed.

// digCommand returns the dig command that repeats one query.
func digCommand(addr netip.AddrPort, recurse bool, name string, qtype uint16) string {
	var buf [128]byte
	b := append(buf[:0], "dig @"...)
	b = addr.Addr().AppendTo(b)
	b = append(b, " -p "...)
	b = strconv.AppendUint(b, uint64(addr.Port()), 10)
	if !recurse {
		b = append(b, " +norecurse"...)
	}
	b = append(b, ' ')
	b = append(b, name...)
	if !dns.IsFqdn(name) {
		b = append(b, '.')
	}
	b = append(b, ' ')
	b = append(b, typeString(qtype)...)
	return string(b)
}

// digAddr formats addr as dig does in its messages.
func digAddr(addr netip.AddrPort) string {
	return fmt.Sprintf("%s#%d", addr.Addr(), addr.Port())
}

// replyLines returns the header status and the answer and authority
// sections of r.
func replyLines(r *dns.Msg) []string { return appendReply(nil, r) }

// appendReply appends replyLines(r) to lines.
func appendReply(lines []string, r *dns.Msg) []string {
	var buf [64]byte
	b := append(buf[:0], ";; status: "...)
	if status := dns.RcodeToString[r.Rcode]; status != "" {
		b = append(b, status...)
	} else {
		b = append(b, "RCODE"...)
		b = strconv.AppendInt(b, int64(r.Rcode), 10)
	}
	b = append(b, ", flags:"...)
	for _, f := range [...]struct {
		set  bool
		name string
	}{{r.Response, " qr"}, {r.Authoritative, " aa"}, {r.Truncated, " tc"}, {r.RecursionDesired, " rd"}, {r.RecursionAvailable, " ra"}} {
		if f.set {
			b = append(b, f.name...)
		}
	}
	lines = append(lines, string(b))
	for _, sec := range [...]struct {
		header string
		rrs    []dns.RR
	}{{";; ANSWER SECTION:", r.Answer}, {";; AUTHORITY SECTION:", r.Ns}} {
		if len(sec.rrs) == 0 {
			continue
		}
		lines = append(lines, sec.header)
		for _, rr := range sec.rrs {
			if rr != nil {
				lines = append(lines, rr.String())
			}
		}
	}
	return lines
}

// errText describes a failed exchange without the local port numbers that
// net.OpError adds.
func errText(err error) string {
	if errOutcome(err) == Timeout && !errors.Is(err, errBudget) {
		return "timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t) // RFC 3597 §5
}
