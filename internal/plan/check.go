package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/doctor"
)

// Problem is what a check of the plan found. A plan with a problem of
// SeverityError is not applied.
type Problem struct {
	Severity doctor.Severity `json:"severity"`
	Code     Code            `json:"code"`
	Name     string          `json:"name,omitempty"` // the record's name, with the final dot
	Message  string          `json:"message"`
}

// Code names a kind of problem; codes are stable, as the doctor's are.
type Code string

const (
	CodeServersDisagree   Code = "servers-disagree"
	CodeCNAME             Code = "cname-conflict"
	CodeNotInZone         Code = "not-in-zone"
	CodeSingleValue       Code = "single-value-txt"
	CodeDMARCInherited    Code = "dmarc-inherited"
	CodeDMARCOnce         Code = "dmarc-once"
	CodeDMARCMultiple     Code = "dmarc-multiple-records"
	CodeDMARCInvalid      Code = "dmarc-invalid"             // as the doctor's
	CodeMailFromConflict  Code = "mail-from-region-conflict" // as the doctor's
	CodeMailFromNotSub    Code = "mail-from-not-subdomain"   // as the doctor's
	CodeMailFromForeignMX Code = "mail-from-mx-foreign"
	CodeMailFromMX        Code = "mail-from-mx-region"
	CodeSPFMultiple       Code = "spf-multiple-records"
	CodeSPFLookups        Code = "spf-lookups"
	CodeSPFTooManyLookups Code = "spf-too-many-lookups"
	CodeSPFInvalid        Code = "spf-invalid"
	CodeSPFPassAll        Code = "spf-pass-all"
	CodeSPFLookupFailed   Code = "spf-lookup-failed"
	CodeTXTStrings        Code = "txt-strings"
	CodePrune             Code = "prune"
	CodePruneNeedsAXFR    Code = "prune-needs-axfr"
)

func (b *builder) problem(sev doctor.Severity, code Code, name, format string, args ...any) {
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

// checkSPF evaluates each merged MAIL FROM SPF record as receivers will:
// includes added to a record that was there can take it past the 10 DNS
// lookups receivers allow (RFC 7208 §4.6.4).
func (b *builder) checkSPF(ctx context.Context) {
	for _, s := range b.sets {
		if s.Purpose != MailFromSPF {
			continue
		}
		recs := doctor.SPFRecords(s.Final())
		if len(recs) != 1 {
			continue
		}
		res, err := b.doc.EvalSPF(ctx, bare(s.Name), recs[0])
		switch {
		case errors.Is(err, spf.ErrLookupLimitReached):
			b.problem(doctor.SeverityError, CodeSPFTooManyLookups, s.Name, "the SPF record of %s needs more than 10 DNS lookups once merged, so receivers fail it (RFC 7208 §4.6.4): remove includes it does not need, or give the MAIL FROM domain a record of its own", bare(s.Name))
		case errors.Is(err, spf.ErrVoidLookupLimitReached):
			b.problem(doctor.SeverityError, CodeSPFTooManyLookups, s.Name, "the SPF record of %s makes more than 2 lookups that find nothing (RFC 7208 §4.6.4)", bare(s.Name))
		case res == spf.PermError:
			b.problem(doctor.SeverityError, CodeSPFInvalid, s.Name, "the SPF record of %s is a permanent error: %v", bare(s.Name), err)
		case res == spf.Pass:
			b.problem(doctor.SeverityWarning, CodeSPFPassAll, s.Name, "the SPF record of %s passes a documentation address nobody sends from, so it authorises any host: narrow it", bare(s.Name))
		case res == spf.TempError:
			b.problem(doctor.SeverityWarning, CodeSPFLookupFailed, s.Name, "the SPF record of %s could not be evaluated: %v", bare(s.Name), err)
		default:
			b.problem(doctor.SeverityOK, CodeSPFLookups, s.Name, "the SPF record of %s needs %d of the 10 DNS lookups allowed", bare(s.Name), b.lookups(ctx, s.Name, recs[0]))
		}
	}
}

// lookups counts the DNS lookups rec needs: the lowest limit it passes.
// The doctor caches the answers, so each evaluation after the first asks
// nothing.
func (b *builder) lookups(ctx context.Context, name, rec string) int {
	for n := range 10 {
		if _, err := b.doc.EvalSPF(ctx, bare(name), rec, spf.OverrideLookupLimit(uint(n))); !errors.Is(err, spf.ErrLookupLimitReached) {
			return n
		}
	}
	return 10
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
				b.problem(doctor.SeverityError, CodeTXTStrings, s.Name, "the TXT value %q of %s cannot be published: %v", v.Data, bare(s.Name), err)
			}
		}
	}
	if long > 0 {
		b.problem(doctor.SeverityOK, CodeTXTStrings, "", "%d TXT value(s) longer than 255 bytes are split into strings of at most 255, which readers join", long)
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
	if got := doctor.TXTText(t); got != want {
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
		if s.Purpose != MailFromMX || !ok || foreign {
			continue
		}
		want := "10 " + dns.CanonicalName(b.d.MX(mf.region))
		if fin := s.Final(); len(fin) == 1 && fin[0] == want {
			b.problem(doctor.SeverityOK, CodeMailFromMX, s.Name, "%s MX points at %s, the feedback endpoint of %s, for %s", bare(s.Name), bare(b.d.MX(mf.region)), mf.region, mf.owner)
		} else {
			b.problem(doctor.SeverityError, CodeMailFromMX, s.Name, "%s would have the MX records %s; SES wants only %q", bare(s.Name), quoteAll(fin), want)
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
		switch recs := doctor.DMARCRecords(s.Final()); len(recs) {
		case 1:
			b.problem(doctor.SeverityOK, CodeDMARCOnce, name, "%s has one DMARC record: %q", bare(name), recs[0])
			if _, err := dmarc.Parse(strings.TrimSpace(recs[0])); err != nil {
				// Not the plan's to replace, and SES verifies without it.
				b.problem(doctor.SeverityWarning, CodeDMARCInvalid, name, "%s holds a DMARC record that does not parse (%v), so receivers ignore it (RFC 7489 §6.6.3): correct it by hand; the plan keeps it", bare(name), err)
			}
		case 0:
			b.problem(doctor.SeverityError, CodeDMARCOnce, name, "%s would have no DMARC record", bare(name))
		default:
			b.problem(doctor.SeverityError, CodeDMARCMultiple, name, "%s has %d DMARC records, so receivers apply none (RFC 7489 §6.6.3): keep one, by hand", bare(name), len(recs))
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
			b.problem(doctor.SeverityError, CodeSingleValue, s.Name, "%s would hold %d TXT values (%s), but the DNS provider holds one per name", bare(s.Name), len(fin), quoteAll(fin))
		}
	}
}
