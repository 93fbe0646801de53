package doctor

import (
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/names"
)

// firstQueries are the questions every diagnosis asks: the zone's SOA and
// DNSKEY, the domain's TXT (its SPF, and a token published without
// _amazonses), the verification record, the DKIM CNAMEs, the MAIL FROM MX
// and SPF, DMARC, and an address's MX.
func (r *run) firstQueries() []qkey {
	qs := []qkey{
		key(r.main.Apex, dns.TypeSOA),
		key(r.main.Apex, dns.TypeDNSKEY),
		key(r.domain, dns.TypeTXT),
		key(dmarcName(r.domain), dns.TypeTXT),
	}
	if r.checksTXT() {
		qs = append(qs, key(r.verName(), dns.TypeTXT))
	}
	for _, in := range r.expect {
		if in.Missing {
			continue
		}
		for _, t := range in.DKIMTokens {
			qs = append(qs, key(r.dkimRecord(t).Name, dns.TypeCNAME))
		}
		if in.MailFrom != "" {
			qs = append(qs, key(in.MailFrom, dns.TypeMX), key(in.MailFrom, dns.TypeTXT))
		}
	}
	if r.kind == names.KindEmail {
		qs = append(qs, key(r.domain, dns.TypeMX))
	}
	return append(qs, r.selectorQueries()...)
}

// secondQueries follow up on the first answers, and only where they show
// a problem: the names where providers misplace records, the
// organisational domain's DMARC, and the address records behind a
// missing MX. A correct zone costs no second round.
func (r *run) secondQueries() []qkey {
	var qs []qkey
	qs = append(qs, r.verificationProbes()...)
	qs = append(qs, r.dkimProbes()...)
	qs = append(qs, r.mailFromProbes()...)
	qs = append(qs, r.dmarcProbes()...)
	qs = append(qs, r.mxProbes()...)
	return qs
}
