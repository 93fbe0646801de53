package verify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
)

// decide maps what each authoritative server said about one record to the
// result of a check, in one place:
//
//   - Found if at least one server that answered serves the expected
//     record. The servers of a zone disagree for a while after a change,
//     until every secondary has it; the others are noted as stale. So one
//     stale server never demotes a verified identity.
//   - TempFail (DNS_SERVER_ERROR) if no server gave an answer that says
//     anything about the record: SERVFAIL, REFUSED, timeouts, lame
//     servers, or a resolver that failed to find the zone. SES keeps such
//     a check in TemporaryFailure; it never demotes.
//   - Absent otherwise, when the servers that answered agree the record is
//     not there: INVALID_VALUE if records of the type are there with other
//     values (a lowercased token is said so), TYPE_NOT_FOUND for NODATA,
//     HOST_NOT_FOUND for NXDOMAIN or a domain with no zone.
//
// The SOA of the zone is recorded with the result. decide notes stale
// servers in f's observations, for the evidence.
func decide(f *finding, at time.Time) identity.Result {
	res := identity.Result{At: at, SOA: f.soaRecord()}
	if err := f.zone.err; err != nil {
		switch {
		case errors.Is(err, dnsclient.ErrNoZone):
			res.Outcome, res.ErrorType = identity.Absent, identity.HostNotFound
			res.Detail = fmt.Sprintf("%s does not exist: no DNS zone holds it.", trim(f.name))
		case errors.Is(err, dnsclient.ErrNoServers):
			res.Outcome, res.ErrorType = identity.Absent, identity.HostNotFound
			res.Detail = fmt.Sprintf("%s cannot be reached: %v.", trim(f.name), err)
		default:
			res.Outcome, res.ErrorType = identity.TempFail, identity.DNSServerError
			res.Detail = fmt.Sprintf("The name servers of %s could not be found (%v); Sesame will ask again.", trim(f.name), err)
		}
		return res
	}

	var found, absent, failed []*observation
	for _, o := range f.obs {
		switch {
		case o.match:
			found = append(found, o)
		case o.resp.Outcome.Temporary() || o.temp:
			failed = append(failed, o)
		default:
			absent = append(absent, o)
		}
	}
	switch {
	case len(found) > 0:
		res.Outcome = identity.Found
		res.Detail = f.expected + " found on " + servers(found) + "."
		for _, o := range absent {
			o.stale = "stale: " + f.serialNote(o) + "another server serves the expected record."
		}
		if len(absent) > 0 {
			res.Detail += fmt.Sprintf(" %s %s not serve it yet (stale%s); resolvers that ask there will not see it until the zone is transferred.",
				servers(absent), plural(len(absent), "does", "do"), f.serials(absent))
		}
		if len(failed) > 0 {
			res.Detail += fmt.Sprintf(" %s did not answer (%s).", servers(failed), failures(failed))
		}
	case len(absent) == 0:
		res.Outcome, res.ErrorType = identity.TempFail, identity.DNSServerError
		res.Detail = fmt.Sprintf("No name server of %s answered about %s %s (%s); Sesame will ask again.",
			trim(f.zone.zone.Apex), trim(f.name), dns.TypeToString[f.qtype], failures(failed))
	default:
		res.Outcome = identity.Absent
		res.ErrorType, res.Detail = absence(f, absent)
		if len(failed) > 0 {
			res.Detail += fmt.Sprintf(" %s did not answer (%s).", servers(failed), failures(failed))
		}
	}
	return res
}

// absence explains why the servers that answered do not serve the record:
// records of the type with other values first, then NODATA, then NXDOMAIN.
func absence(f *finding, absent []*observation) (identity.ErrorType, string) {
	typ := dns.TypeToString[f.qtype]
	for _, o := range absent {
		if o.near != "" {
			return identity.InvalidValue, fmt.Sprintf("%s %s has %s, which differs from %s only in case: the DNS provider lowercased it. SES accepts only an exact match; ask the provider to keep the value as given.",
				trim(f.name), typ, o.near, f.want)
		}
	}
	for _, o := range absent {
		if o.resp.Outcome == dnsclient.Answer {
			d := fmt.Sprintf("%s %s has %s, not %s.", trim(f.name), typ, strings.Join(o.got, ", "), f.want)
			if o.note != "" {
				d = fmt.Sprintf("%s %s: %s", trim(f.name), typ, o.note)
			}
			return identity.InvalidValue, d
		}
	}
	for _, o := range absent {
		if o.resp.Outcome == dnsclient.NoData {
			return identity.TypeNotFound, fmt.Sprintf("%s has no %s record (NODATA on %s); publish %s", trim(f.name), typ, servers(absent), stop(f.expected))
		}
	}
	return identity.HostNotFound, fmt.Sprintf("%s does not exist (%s on %s); publish %s", trim(f.name), absent[0].resp.Outcome, servers(absent), stop(f.expected))
}

// soaRecord is the SOA of f's zone: the newest served, or else the one in
// a negative answer.
func (f *finding) soaRecord() *identity.SOA {
	soa := f.zone.soa
	for _, o := range f.obs {
		if soa == nil && o.resp.SOA != nil {
			soa = o.resp.SOA
		}
	}
	if soa == nil {
		return nil
	}
	return &identity.SOA{PrimaryNameServer: trim(soa.Ns), AdminEmail: mailbox(soa.Mbox), SerialNumber: int64(soa.Serial)}
}

// serialNote tells how far behind o's server is, if its SOA said.
func (f *finding) serialNote(o *observation) string {
	s, ok := f.zone.serials[o.resp.Server]
	if !ok || f.zone.soa == nil || !newer(f.zone.soa.Serial, s) {
		return ""
	}
	return fmt.Sprintf("SOA serial %d, behind %d; ", s, f.zone.soa.Serial)
}

func (f *finding) serials(obs []*observation) string {
	var s []string
	for _, o := range obs {
		if n := f.serialNote(o); n != "" {
			s = append(s, strings.TrimSuffix(n, "; "))
		}
	}
	if len(s) == 0 {
		return ""
	}
	return ": " + strings.Join(s, ", ")
}

// mailbox turns an SOA RNAME into an address: the first label is the
// local part (RFC 1035 §8), where "\." is a dot.
func mailbox(rname string) string {
	rname = trim(rname)
	for i := 0; i < len(rname); i++ {
		switch rname[i] {
		case '\\':
			i++
		case '.':
			return strings.ReplaceAll(rname[:i], `\.`, ".") + "@" + rname[i+1:]
		}
	}
	return rname
}

// servers lists the servers of obs as "name (address), ...".
func servers(obs []*observation) string {
	b := make([]byte, 0, 48*len(obs))
	for i, o := range obs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, trim(o.resp.Server.Name)...)
		b = append(b, " ("...)
		if a := o.resp.Server.Addr; a.IsValid() {
			b = a.AppendTo(b)
		} else {
			b = append(b, a.String()...) // "invalid IP", which AppendTo leaves out
		}
		b = append(b, ')')
	}
	return string(b)
}

func failures(obs []*observation) string {
	var s []string
	for _, o := range obs {
		what := o.resp.Outcome.String()
		if o.temp {
			what = o.note
		}
		switch o.resp.Outcome {
		case dnsclient.ServFail:
			what = "SERVFAIL"
		case dnsclient.Refused:
			what = "REFUSED"
		case dnsclient.Timeout:
			what = "timed out"
		case dnsclient.Lame:
			what = "not authoritative"
		}
		s = append(s, trim(o.resp.Server.Name)+" "+what)
	}
	return strings.Join(s, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func trim(name string) string { return strings.TrimSuffix(name, ".") }

// stop ends a sentence that may end with a fully qualified name.
func stop(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
