package doctor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// staticChecks reports what the expectations alone show, before any query.
func (r *run) staticChecks() {
	if r.kind == names.KindEmail {
		r.add(&Finding{Code: EmailChecklist, Summary: "if the verification message to " + r.name + " did not arrive"})
	}
	if len(r.expect) == 0 {
		r.add(&Finding{Code: ExpectationsNone, Summary: "no expected values: generic checks only"})
	}
	regions := map[string][]string{} // MAIL FROM domain → regions using it
	var mailFroms []string
	for _, in := range r.expect {
		if in.Missing {
			r.add(&Finding{Code: IdentityNotFound, Instance: in.Label, Summary: fmt.Sprintf("%s has no identity %s", in.Label, r.name)})
			continue
		}
		r.statusChecks(in)
		if in.MailFrom == "" {
			continue
		}
		if !names.IsSubdomain(in.MailFrom, r.domain) {
			r.add(&Finding{Code: MailFromNotSub, Instance: in.Label, Summary: fmt.Sprintf("MAIL FROM domain %s is not a subdomain of %s", in.MailFrom, r.domain),
				Records: []Record{{Name: in.MailFrom, Type: "MX"}}})
		}
		if _, ok := regions[in.MailFrom]; !ok {
			mailFroms = append(mailFroms, in.MailFrom)
		}
		if !slices.Contains(regions[in.MailFrom], in.Region) {
			regions[in.MailFrom] = append(regions[in.MailFrom], in.Region)
		}
	}
	for _, mf := range mailFroms {
		if rs := regions[mf]; len(rs) > 1 {
			var want []string
			for _, reg := range rs {
				want = append(want, records.MXValue(r.dns.MX(reg)))
			}
			r.add(&Finding{Code: MailFromConflict, Summary: fmt.Sprintf("%s is the MAIL FROM domain of instances in %s", mf, strings.Join(rs, " and ")),
				Records: []Record{{Name: mf, Type: "MX", Found: want}}})
		}
	}
}

// statusChecks reports what an endpoint says about the identity.
func (r *run) statusChecks(in Instance) {
	st := in.Status
	if st == nil {
		return
	}
	parts := []struct{ what, status string }{
		{"verification", st.Verification}, {"DKIM", st.DKIM}, {"MAIL FROM", st.MailFrom},
	}
	var all, failed, temp []string
	for _, p := range parts {
		if p.status == "" {
			continue
		}
		all = append(all, p.what+" "+p.status)
		switch p.status {
		case "Failed":
			failed = append(failed, p.what)
		case "TemporaryFailure":
			temp = append(temp, p.what)
		}
	}
	if len(all) > 0 {
		r.add(&Finding{Code: SESStatus, Instance: in.Label, Summary: strings.Join(all, ", ")})
	}
	if len(failed) > 0 {
		r.add(&Finding{Code: SESStatusFailed, Instance: in.Label, Summary: strings.Join(failed, " and ") + " Failed: SES stopped checking"})
	}
	if len(temp) > 0 {
		r.add(&Finding{Code: SESStatusTempFailure, Instance: in.Label, Summary: strings.Join(temp, " and ") + " TemporaryFailure"})
	}
}

// notFound reports a domain that does not exist. For an address, that
// means it cannot receive the verification message.
func (r *run) notFound(summary string, ev []string) {
	code, rtype := DomainNotFound, "NS"
	if r.kind == names.KindEmail {
		code, rtype, summary = MXMissing, "MX", summary+": the address cannot receive mail"
	}
	r.add(&Finding{Code: code, Summary: summary, Records: []Record{{Name: r.domain, Type: rtype}}, Evidence: ev})
}

// zoneNotFound turns a FindZone failure into a finding. Only a resolver
// that cannot be asked at all is an error of the run.
func (r *run) zoneNotFound(err error) error {
	switch {
	case errors.Is(err, dnsclient.ErrNoZone):
		r.notFound(fmt.Sprintf("%s is not in DNS: no zone holds it", r.domain), []string{";; " + err.Error()})
	case errors.Is(err, dnsclient.ErrNoServers):
		r.notFound(fmt.Sprintf("the name servers of %s have no address", r.domain), []string{";; " + err.Error()})
	case errors.Is(err, dnsclient.ErrDNSSEC):
		r.add(&Finding{Code: DNSSECBogus, Summary: fmt.Sprintf("DNSSEC validation fails for %s: validating resolvers cannot look it up", r.domain),
			Records: []Record{{Name: r.domain, Type: "DS"}, {Name: r.domain, Type: "DNSKEY"}}, Evidence: []string{";; " + err.Error()}})
	case errors.Is(err, dnsclient.ErrTemporary) && strings.Contains(err.Error(), "SERVFAIL"):
		// The resolver answered, so it works: it failed for this
		// domain, as it does when the domain's servers are all down
		// or its DNSSEC is broken.
		r.add(&Finding{Code: DomainLookupFailed, Summary: fmt.Sprintf("the resolver failed to find the name servers of %s", r.domain),
			Records: []Record{{Name: r.domain, Type: "NS"}}, Evidence: []string{";; " + err.Error()}})
	default:
		return err
	}
	return nil
}

// notOwnable reports a domain that nobody can verify: a public suffix, or
// a name with no zone of its own below one. The rest of the checks would
// only repeat it.
func (r *run) notOwnable(z *dnsclient.Zone) bool {
	ev := z.Evidence
	if ps, _ := publicsuffix.PublicSuffix(r.domain); ps == r.domain {
		r.add(&Finding{Code: DomainPublicSuffix, Summary: r.domain + " is a public suffix",
			Records: []Record{{Name: r.domain, Type: "NS", Found: bareAll(z.NS)}}, Evidence: ev})
		return true
	}
	if dnsclient.PublicZone(r.domain, z.Apex) {
		r.notFound(fmt.Sprintf("%s is not registered: the nearest zone is %s, a public suffix", r.domain, z.Apex), ev)
		return true
	}
	return false
}

// domainChecks reports a domain that does not exist in its zone (for an
// address, the MX check says so) and the zones that are signed.
func (r *run) domainChecks() {
	if r.main.Apex != dns.Fqdn(r.domain) && r.kind == names.KindDomain {
		r.check(r.main, func(v view) ([]*Finding, bool) {
			resp := v.resp(r.domain, dns.TypeTXT)
			if resp == nil || resp.Outcome.Temporary() {
				return nil, false
			}
			if resp.Outcome == dnsclient.NXDomain && len(resp.CNAMEs) == 0 {
				return []*Finding{{Code: DomainNotFound, Summary: fmt.Sprintf("%s has no records at or below %s", bare(r.main.Apex), r.domain),
					Records: []Record{{Name: r.domain, Type: "TXT"}}, Evidence: resp.Evidence}}, true
			}
			return nil, true
		})
	}
	for _, z := range r.zoneOrder {
		r.check(z, func(v view) ([]*Finding, bool) {
			resp := v.resp(z.Apex, dns.TypeDNSKEY)
			if resp == nil || resp.Outcome.Temporary() {
				return nil, false
			}
			if resp.Outcome != dnsclient.Answer {
				return nil, true
			}
			return []*Finding{{Code: DNSSECNotChecked, Summary: fmt.Sprintf("zone %s is signed (%d DNSKEY records)", bare(z.Apex), len(resp.Answer)),
				Records: []Record{{Name: bare(z.Apex), Type: "DNSKEY"}}, Evidence: resp.Evidence}}, true
		})
	}
}

func (r *run) zoneReport(z *zoneData) ZoneReport {
	zr := ZoneReport{Apex: bare(z.Apex), NS: bareAll(z.NS), Servers: []ServerReport{}, Evidence: z.Evidence}
	soa := r.get(key(z.Apex, dns.TypeSOA))
	for i, srv := range z.Servers {
		sr := ServerReport{Name: bare(srv.Name), Address: srv.Addr.String()}
		if soa != nil {
			resp := soa.resps[i]
			sr.Outcome = resp.Outcome.String()
			if s, ok := resp.Serial(); ok {
				sr.Serial = &s
			}
		}
		zr.Servers = append(zr.Servers, sr)
	}
	return zr
}

func bareAll(ns []string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = bare(n)
	}
	return out
}
