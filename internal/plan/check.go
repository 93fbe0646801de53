package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

// Problem is what a check of the plan found. A plan with a problem of
// SeverityError is not applied.
type Problem struct {
	Severity records.Severity `json:"severity"`
	Code     Code             `json:"code"`
	Name     string           `json:"name,omitempty"` // the record's name, with the final dot
	Message  string           `json:"message"`
}

// Code names a kind of problem; codes are stable, as the doctor's are.
type Code string

const (
	CodeServersDisagree    Code = "servers-disagree"
	CodeCNAME              Code = "cname-conflict"
	CodeNotInZone          Code = "not-in-zone"
	CodeSingleValue        Code = "single-value-txt"
	CodeDMARCInherited     Code = "dmarc-inherited"
	CodeDMARCOnce          Code = "dmarc-once"
	CodeDMARCMultiple      Code = "dmarc-multiple-records"
	CodeDMARCInvalid       Code = "dmarc-invalid"             // as the doctor's
	CodeMailFromConflict   Code = "mail-from-region-conflict" // as the doctor's
	CodeMailFromNotSub     Code = "mail-from-not-subdomain"   // as the doctor's
	CodeMailFromForeignMX  Code = "mail-from-mx-foreign"
	CodeMailFromMX         Code = "mail-from-mx-region"
	CodeSPFMultiple        Code = "spf-multiple-records"
	CodeSPFLookups         Code = "spf-lookups"
	CodeSPFTooManyLookups  Code = "spf-too-many-lookups"
	CodeSPFInvalid         Code = "spf-invalid"
	CodeSPFPassAll         Code = "spf-pass-all"
	CodeSPFLookupFailed    Code = "spf-lookup-failed"
	CodeTXTStrings         Code = "txt-strings"
	CodeVerificationAtApex Code = "verification-record-at-apex" // as the doctor's
	CodePrune              Code = "prune"
	CodePruneNeedsAXFR     Code = "prune-needs-axfr"
)

func (b *builder) problem(sev records.Severity, code Code, name, format string, args ...any) {
	if name != "" {
		name = dns.CanonicalName(name)
	}
	b.problems = append(b.problems, Problem{Severity: sev, Code: code, Name: name, Message: fmt.Sprintf(format, args...)})
}

// check runs the checks that the merged record set must pass before it is
// published, then sorts the problems, most severe first.
func (b *builder) check(ctx context.Context) {
	b.checkSPF(ctx)
	b.checkTXT()
	b.checkMX()
	b.checkDMARC()
	b.checkSingleValue()
	slices.SortStableFunc(b.problems, func(x, y Problem) int { return int(y.Severity) - int(x.Severity) })
}

// checkSPF judges each merged MAIL FROM SPF record as the verifier and
// the doctor do (records.AnalyseSPF): includes added to a record that was
// there can take it past the 10 DNS lookups receivers allow (RFC 7208
// §4.6.4). Every fault is reported.
func (b *builder) checkSPF(ctx context.Context) {
	for _, s := range b.sets {
		if s.Purpose != records.MailFromSPF {
			continue
		}
		recs := records.SPFRecords(s.Final())
		if len(recs) != 1 {
			continue
		}
		name := bare(s.Name)
		rep := records.AnalyseSPF(ctx, name, recs[0], b.d.SPFInclude, dnsclient.Lookup{Client: b.dns})
		for _, p := range rep.Problems {
			switch p.Fault {
			case records.FaultTooManyLookups:
				b.problem(records.SeverityError, CodeSPFTooManyLookups, s.Name, "the SPF record of %s needs %d DNS lookups once merged, more than the 10 receivers allow (RFC 7208 §4.6.4): remove includes it does not need, or give the MAIL FROM domain a record of its own", name, rep.Lookups)
			case records.FaultTooManyVoid:
				b.problem(records.SeverityError, CodeSPFTooManyLookups, s.Name, "the SPF record of %s makes %d lookups that find nothing, more than 2 (RFC 7208 §4.6.4)", name, rep.Void)
			case records.FaultSyntax, records.FaultBrokenInclude:
				b.problem(records.SeverityError, CodeSPFInvalid, s.Name, "the SPF record of %s is a permanent error: %s", name, p.Detail)
			case records.FaultPassAll:
				b.problem(records.SeverityWarning, CodeSPFPassAll, s.Name, "the SPF record of %s authorises any host (%s): narrow it", name, p.Detail)
			case records.FaultLookupFailed:
				b.problem(records.SeverityWarning, CodeSPFLookupFailed, s.Name, "the SPF record of %s could not be judged fully: %s", name, p.Detail)
			}
		}
		if len(rep.Problems) == 0 {
			b.problem(records.SeverityOK, CodeSPFLookups, s.Name, "the SPF record of %s needs %d of the 10 DNS lookups allowed", name, rep.Lookups)
		}
	}
}

// checkTXT checks that every TXT value the plan writes survives being
// split into strings of at most 255 bytes (RFC 1035 §3.3.14) and joined
// back by readers (RFC 7208 §3.3): packing refuses longer strings, and
// the value must come back from the wire format unchanged.
func (b *builder) checkTXT() {
	long := 0
	for _, s := range b.sets {
		if s.Type != "TXT" {
			continue
		}
		for _, v := range s.Values {
			if v.Change != Add {
				continue
			}
			if len(v.Data) > 255 {
				long++
			}
			if err := roundTrip(s.newRR(v.Data), v.Data); err != nil {
				b.problem(records.SeverityError, CodeTXTStrings, s.Name, "the TXT value %q of %s cannot be published: %v", v.Data, bare(s.Name), err)
			}
		}
	}
	if long > 0 {
		b.problem(records.SeverityOK, CodeTXTStrings, "", "%d TXT value(s) longer than 255 bytes are split into strings of at most 255, which readers join", long)
	}
}

func roundTrip(rr dns.RR, want string) error {
	m := new(dns.Msg)
	m.Answer = []dns.RR{rr}
	buf, err := m.Pack()
	if err != nil {
		return err
	}
	back := new(dns.Msg)
	if err := back.Unpack(buf); err != nil {
		return err
	}
	t, ok := back.Answer[0].(*dns.TXT)
	if !ok {
		return fmt.Errorf("came back as %s", back.Answer[0])
	}
	if got := dnsclient.TXTText(t); got != want {
		return fmt.Errorf("reads back as %q", got)
	}
	return nil
}

// checkMX checks that each MAIL FROM domain ends with one MX, to its
// region's feedback endpoint.
func (b *builder) checkMX() {
	for _, s := range b.sets {
		mf, ok := b.mailFrom[s.Name]
		foreign := slices.ContainsFunc(b.problems, func(p Problem) bool { return p.Code == CodeMailFromForeignMX && p.Name == s.Name })
		if s.Purpose != records.MailFromMX || !ok || foreign {
			continue
		}
		e := b.expect(records.Instance{Region: mf.region, MailFrom: s.Name})
		want := records.MXValue(dns.CanonicalName(e.MXHost))
		fin := s.Final()
		var mxs []records.MX
		for _, v := range fin {
			mxs = append(mxs, mxOf(v))
		}
		if e.MatchMX(mxs).Kind == records.Found {
			b.problem(records.SeverityOK, CodeMailFromMX, s.Name, "%s MX points at %s, the feedback endpoint of %s, for %s", bare(s.Name), bare(b.d.MX(mf.region)), mf.region, mf.owner)
		} else {
			b.problem(records.SeverityError, CodeMailFromMX, s.Name, "%s would have the MX records %s; SES wants only %q", bare(s.Name), quoteAll(fin), want)
		}
	}
}

// checkDMARC checks that the domain ends with one DMARC record.
func (b *builder) checkDMARC() {
	name := dns.CanonicalName(dmarcName(b.o.Domain))
	if slices.ContainsFunc(b.problems, func(p Problem) bool { return p.Code == CodeDMARCInherited }) {
		return
	}
	for _, s := range b.sets {
		if s.Name != name || s.Type != "TXT" {
			continue
		}
		switch recs := records.DMARCRecords(s.Final()); len(recs) {
		case 1:
			b.problem(records.SeverityOK, CodeDMARCOnce, name, "%s has one DMARC record: %q", bare(name), recs[0])
			if _, err := dmarc.Parse(strings.TrimSpace(recs[0])); err != nil {
				// Not the plan's to replace, and SES verifies without it.
				b.problem(records.SeverityWarning, CodeDMARCInvalid, name, "%s holds a DMARC record that does not parse (%v), so receivers ignore it (RFC 7489 §6.6.3): correct it by hand; the plan keeps it", bare(name), err)
			}
		case 0:
			b.problem(records.SeverityError, CodeDMARCOnce, name, "%s would have no DMARC record", bare(name))
		default:
			b.problem(records.SeverityError, CodeDMARCMultiple, name, "%s has %d DMARC records, so receivers apply none (RFC 7489 §6.6.3): keep one, by hand", bare(name), len(recs))
		}
	}
}

// checkSingleValue checks, for providers with one value per TXT name,
// that no TXT record set the plan writes has more.
func (b *builder) checkSingleValue() {
	if !b.o.SingleValueTXT {
		return
	}
	for _, s := range b.sets {
		s.settle()
		if fin := s.Final(); s.Type == "TXT" && s.Action != Keep && len(fin) > 1 {
			b.problem(records.SeverityError, CodeSingleValue, s.Name, "%s would hold %d TXT values (%s), but the DNS provider holds one per name", bare(s.Name), len(fin), quoteAll(fin))
		}
	}
}
