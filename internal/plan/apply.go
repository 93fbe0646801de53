package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

var (
	// ErrApply: the server did not take the update.
	ErrApply = errors.New("update failed")
	// ErrChanged: the zone changed between reading it and updating it,
	// so the update's prerequisites failed and nothing was changed.
	ErrChanged = errors.New("the zone changed since it was read")
)

// Timeout bounds one exchange with the update server: an update, or a
// whole zone transfer.
const Timeout = 30 * time.Second

// Update returns the dynamic update (RFC 2136) that turns the zone the
// plan was read from into the plan, or nil when there is nothing to
// change. It touches only the values the plan adds or removes, never a
// whole record set, so values it does not own stay whatever happens.
//
// Each record set changed is a prerequisite (§2.4): it must still hold
// exactly what the plan read, or be absent if the plan found none. A zone
// changed in between makes the server refuse the whole update, rather
// than the update undo the other change.
func (p *Plan) Update(zone string) *dns.Msg {
	changed := p.Changed()
	if len(changed) == 0 {
		return nil
	}
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(zone))
	for _, s := range changed {
		var read, del, add []dns.RR
		for _, v := range s.Values {
			if v.rr != nil {
				read = append(read, dns.Copy(v.rr))
			}
			switch v.Change {
			case Remove:
				del = append(del, dns.Copy(v.rr))
			case Add:
				add = append(add, s.newRR(v.Data))
			}
		}
		if len(read) > 0 {
			m.Used(read)
		} else {
			m.RRsetNotUsed([]dns.RR{s.newRR(s.Values[0].Data)})
		}
		m.Remove(del)
		m.Insert(add)
	}
	return m
}

// UpdateText writes an update in the syntax of nsupdate (and knsupdate),
// for --dry-run: it can be read, or fed to those tools.
func UpdateText(m *dns.Msg, t *Target, key *TSIG) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server %s %s\nzone %s\n", t.Host, t.Port, m.Question[0].Name)
	if key != nil {
		fmt.Fprintf(&b, "; signed with TSIG key %s (%s)\n", key.Name, strings.TrimSuffix(key.Algorithm, "."))
	}
	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Class == dns.ClassNONE {
			fmt.Fprintf(&b, "prereq nxrrset %s %s\n", h.Name, dns.TypeToString[h.Rrtype])
		} else {
			fmt.Fprintf(&b, "prereq yxrrset %s %s %s\n", h.Name, dns.TypeToString[h.Rrtype], rdata(rr))
		}
	}
	for _, rr := range m.Ns {
		h := rr.Header()
		switch h.Class {
		case dns.ClassNONE:
			fmt.Fprintf(&b, "update delete %s %s %s\n", h.Name, dns.TypeToString[h.Rrtype], rdata(rr))
		case dns.ClassANY:
			fmt.Fprintf(&b, "update delete %s %s\n", h.Name, dns.TypeToString[h.Rrtype])
		default:
			fmt.Fprintf(&b, "update add %s %d %s %s\n", h.Name, h.Ttl, dns.TypeToString[h.Rrtype], rdata(rr))
		}
	}
	b.WriteString("send\n")
	return b.String()
}

// rdata is the data of rr in zone-file form.
func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// Apply sends the update m to t over TCP, signed with key if not nil, and
// checks the reply (and its signature).
func Apply(ctx context.Context, t *Target, key *TSIG, m *dns.Msg) error {
	m = m.Copy()
	c := &dns.Client{Net: "tcp", Timeout: Timeout, TsigSecret: key.sign(m)}
	r, _, err := c.ExchangeContext(ctx, m, t.Addr())
	if errors.Is(err, dns.ErrAuth) || errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) {
		return fmt.Errorf("%w: %s: %v: the server does not know the --tsig key, or its secret differs", ErrApply, t.Addr(), err)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrApply, t.Addr(), err)
	}
	switch r.Rcode {
	case dns.RcodeSuccess:
		return nil
	case dns.RcodeNXRrset, dns.RcodeYXRrset:
		return fmt.Errorf("%w (%s): nothing was changed; run sesame plan again", ErrChanged, dns.RcodeToString[r.Rcode])
	case dns.RcodeNotAuth:
		return fmt.Errorf("%w: %s answered NOTAUTH: it is not authoritative for the zone, or refused the TSIG key; check --tsig and the server's update ACL", ErrApply, t.Addr())
	case dns.RcodeRefused:
		return fmt.Errorf("%w: %s refused the update: it takes none for this zone from this client or key", ErrApply, t.Addr())
	case dns.RcodeNotZone:
		return fmt.Errorf("%w: %s answered NOTZONE: a record is outside zone %s; check ?zone=", ErrApply, t.Addr(), m.Question[0].Name)
	}
	return fmt.Errorf("%w: %s answered %s", ErrApply, t.Addr(), dns.RcodeToString[r.Rcode])
}

// ListAXFR returns a Planner.List that asks t for a zone transfer
// (RFC 5936), signed with key if not nil.
func ListAXFR(t *Target, key *TSIG) func(context.Context, string) ([]dns.RR, error) {
	return func(ctx context.Context, zone string) ([]dns.RR, error) {
		m := new(dns.Msg).SetAxfr(dns.Fqdn(zone))
		tr := &dns.Transfer{DialTimeout: Timeout, ReadTimeout: Timeout, TsigSecret: key.sign(m)}
		ch, err := tr.In(m, t.Addr())
		if err != nil {
			return nil, err
		}
		var rrs []dns.RR
		for env := range ch {
			if env.Error != nil {
				return nil, fmt.Errorf("AXFR of %s from %s: %v (the server must allow transfers to the --tsig key)", bare(zone), t.Addr(), env.Error)
			}
			rrs = append(rrs, env.RR...)
		}
		return rrs, ctx.Err()
	}
}
