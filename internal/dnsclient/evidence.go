package dnsclient

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Evidence is written the way dig prints it, so a person can run the
// command and compare. It leaves out what changes from run to run (query
// IDs, round-trip times, local ports) so it can be stored and diffed.

// digCommand returns the dig command that repeats one query.
func digCommand(addr netip.AddrPort, recurse bool, name string, qtype uint16) string {
	norec := " +norecurse"
	if recurse {
		norec = ""
	}
	return fmt.Sprintf("dig @%s -p %d%s %s %s", addr.Addr(), addr.Port(), norec, dns.Fqdn(name), typeString(qtype))
}

// digAddr formats addr as dig does in its messages.
func digAddr(addr netip.AddrPort) string {
	return fmt.Sprintf("%s#%d", addr.Addr(), addr.Port())
}

// replyLines returns the header status and the answer and authority
// sections of r.
func replyLines(r *dns.Msg) []string {
	status := dns.RcodeToString[r.Rcode]
	if status == "" {
		status = fmt.Sprintf("RCODE%d", r.Rcode)
	}
	lines := []string{fmt.Sprintf(";; status: %s, flags:%s", status, flags(r))}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"ANSWER", r.Answer}, {"AUTHORITY", r.Ns}} {
		if len(sec.rrs) == 0 {
			continue
		}
		lines = append(lines, ";; "+sec.name+" SECTION:")
		for _, rr := range sec.rrs {
			if rr != nil {
				lines = append(lines, rr.String())
			}
		}
	}
	return lines
}

func flags(r *dns.Msg) string {
	var b strings.Builder
	for _, f := range []struct {
		set  bool
		name string
	}{{r.Response, "qr"}, {r.Authoritative, "aa"}, {r.Truncated, "tc"}, {r.RecursionDesired, "rd"}, {r.RecursionAvailable, "ra"}} {
		if f.set {
			b.WriteString(" " + f.name)
		}
	}
	return b.String()
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
