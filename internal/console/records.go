package console

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/verify"
)

// identityData is everything the identity page shows.
type identityData struct {
	CSRF               string
	ID                 *identity.Identity
	Type               string
	Verification       badge
	DKIM               badge
	MailFrom           badge
	VerifiedForSending bool
	Records            []recordRow
	Checks             []checkRow
	Estimate           []verify.Visibility
	Evidence           []evidenceGroup
	CanCheck           bool
	Doctor             bool
	Outbox             bool // the address's mail is in the local outbox
	Messages           []*store.Message
	LinkValidity       string // how long a verification link works: "24 hours"
	FormError          string
	// SESDKIMZone: the DKIM CNAMEs point into SES's own zone, which this
	// server cannot serve, so it has no keys behind them and signs nothing.
	SESDKIMZone bool
}

// recordRow is one record to publish.
type recordRow struct {
	Purpose string
	Name    string
	Type    string
	Value   string
	Status  badge
	// Others are the values the name holds already, for other accounts
	// or regions: the record takes one value more, not a replacement.
	Others []string
	// Regions are the account's other regions with this domain: their
	// values belong in the same record.
	Regions []string
	Shared  bool // the TXT record that several instances share
}

// checkRow is the state of one check.
type checkRow struct {
	Name        string
	Status      badge
	Started     time.Time
	LastChecked time.Time
	Deadline    time.Time
	ErrorType   string
	Detail      string
	SOA         *identity.SOA
}

// evidenceGroup is what each name server said at the last check of one
// kind of record.
type evidenceGroup struct {
	Check   string
	At      time.Time
	Records []store.CheckRecord
}

// checkNames are the checks in the order the page shows them, with their
// labels.
var checkNames = []struct{ key, label string }{
	{"verification", "Domain verification"},
	{"dkim", "DKIM"},
	{"mail-from", "MAIL FROM"},
	{"spf", "MAIL FROM SPF"},
}

func checkLabel(key string) string {
	for _, c := range checkNames {
		if c.key == key {
			return c.label
		}
	}
	return key
}

// evidenceLimit is how many check records are read: enough for the last
// check of every record on several servers.
const evidenceLimit = 200

func (c *Console) identityData(r *request, id *identity.Identity) (*identityData, error) {
	ctx := r.Context()
	dk, err := c.Registry.DKIMOf(ctx, r.scope, id)
	if err != nil {
		return nil, err
	}
	d := &identityData{
		CSRF: r.s.CSRF, ID: id, Type: typeName(id), Verification: badgeOf(id.Status()), DKIM: badgeOf(dk.Status),
		MailFrom: mailFromBadge(id), VerifiedForSending: id.VerifiedForSending(), Doctor: c.DNS != nil,
		// An address has nothing in DNS to check but its MAIL FROM domain.
		CanCheck: c.Verifier != nil && (id.IsDomain() || id.MailFrom.Domain != ""),
	}
	var timeline []store.CheckRecord
	if c.Checks != nil {
		rep, err := verify.BuildReport(ctx, c.Checks, id, c.Registry.Policies, c.now().UTC(), evidenceLimit)
		if err != nil {
			return nil, err
		}
		timeline = rep.Timeline
		d.Estimate = rep.Estimate
		for _, cn := range checkNames {
			st, ok := rep.Checks[cn.key]
			if !ok {
				continue
			}
			label := cn.label
			if cn.key == "verification" && !id.IsDomain() {
				label = "Email address verification"
			}
			d.Checks = append(d.Checks, checkRow{Name: label, Status: badgeOf(identity.Status(st.Status)), Started: deref(st.Started),
				LastChecked: deref(st.LastChecked), Deadline: deref(st.Deadline), ErrorType: st.ErrorType, Detail: st.Detail, SOA: st.SOA})
		}
		d.Evidence = lastEvidence(timeline)
	}
	d.Records = c.recordRows(id, dk.Status, timeline)
	if len(d.Records) > 0 && d.Records[0].Shared {
		if d.Records[0].Regions, err = c.otherRegions(r, id); err != nil {
			return nil, err
		}
	}
	d.SESDKIMZone = id.IsDomain() && len(id.DKIM.EasyTokens()) > 0 && c.Registry.DNS.SESDKIMZone()
	d.LinkValidity = "24 hours"
	if c.Mail != nil && c.Mail.Validity > 0 {
		d.LinkValidity = duration(c.Mail.Validity)
	}
	if !id.IsDomain() && c.Mail != nil && c.Mail.Local() {
		d.Outbox = true
		ms, err := c.messages(r, id.Name, 5)
		if err != nil {
			return nil, err
		}
		d.Messages = ms
	}
	return d, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// recordRows are records.For with what the page adds: each record's
// status, and the values its name holds for other instances.
func (c *Console) recordRows(id *identity.Identity, dkim identity.Status, timeline []store.CheckRecord) []recordRow {
	var rows []recordRow
	n := 0
	for _, rec := range records.For(id, c.Registry.DNS) {
		rr := recordRow{Name: rec.Name, Type: rec.Type, Value: rec.Value}
		switch rec.Purpose {
		case records.Verification:
			rr.Purpose, rr.Status, rr.Shared = "Domain verification", badgeOf(id.Verification.Status), true
			rr.Others = otherValues(timeline, rec, records.ExpectFor(id, c.Registry.DNS))
		case records.DKIM:
			n++
			rr.Purpose, rr.Status = fmt.Sprintf("DKIM %d of %d", n, len(id.DKIM.Tokens)), badgeOf(dkim)
		case records.MailFromMX:
			rr.Purpose, rr.Status = "MAIL FROM (bounces)", mailFromBadge(id)
		case records.MailFromSPF:
			rr.Purpose, rr.Status = "MAIL FROM (SPF)", spfBadge(id, timeline)
		}
		rows = append(rows, rr)
	}
	return rows
}

// spfBadge is the SPF record's own verdict, which the verifier reports
// beside the MX's (records.MatchSPF): SES's status does not depend on it,
// but mail fails SPF without it, so the badge says so rather than repeat
// the MX's.
func spfBadge(id *identity.Identity, timeline []store.CheckRecord) badge {
	last := lastOf(timeline, "spf")
	if len(last) == 0 {
		return mailFromBadge(id)
	}
	for _, cr := range last {
		if cr.Outcome == "match" {
			return badgeOf(identity.Success)
		}
	}
	return badge{"failed", "✖", "not valid: see the evidence"}
}

// otherRegions returns the regions besides id's where the account has the
// same domain. Other accounts' identities are not looked at: whether
// another tenant uses a domain is theirs to tell.
func (c *Console) otherRegions(r *request, id *identity.Identity) ([]string, error) {
	var out []string
	for _, reg := range c.regions() {
		if reg == id.Region {
			continue
		}
		_, err := c.Registry.Get(r.Context(), registry.Scope{Account: id.Account, Region: reg}, id.Name)
		switch {
		case err == nil:
			out = append(out, reg)
		case !registry.IsKind(err, registry.NotFound):
			return nil, err
		}
	}
	return out, nil
}

// otherValues returns the TXT values the last check found at the
// verification record's name that are not this identity's token (nor its
// "amazonses:" form): other accounts' or regions' tokens, which must stay
// (SES's multi-account guide: "edit current _amazonses TXT record and add
// the Value").
func otherValues(timeline []store.CheckRecord, rec records.Record, e records.Expect) []string {
	last := lastOf(timeline, "verification")
	var out []string
	for _, cr := range last {
		for _, line := range cr.Answer {
			if strings.HasPrefix(line, ";") {
				continue
			}
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				continue
			}
			txt, ok := rr.(*dns.TXT)
			if !ok || !strings.EqualFold(dns.Fqdn(txt.Hdr.Name), dns.Fqdn(rec.Name)) {
				continue
			}
			v := dnsclient.TXTText(txt)
			// A lowercased token is this identity's, mangled: the check's
			// detail says so, and it is not another instance's.
			if !e.IsOwnToken(v) && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// lastOf returns the records of the newest check of one kind; the
// timeline is newest first.
func lastOf(timeline []store.CheckRecord, check string) []store.CheckRecord {
	var at time.Time
	var out []store.CheckRecord
	for _, cr := range timeline {
		if cr.Check != check {
			continue
		}
		if at.IsZero() {
			at = cr.At
		}
		if !cr.At.Equal(at) {
			break
		}
		out = append(out, cr)
	}
	return out
}

// lastEvidence groups the newest check of each kind, in page order.
func lastEvidence(timeline []store.CheckRecord) []evidenceGroup {
	var out []evidenceGroup
	for _, cn := range checkNames {
		if recs := lastOf(timeline, cn.key); len(recs) > 0 {
			slices.SortStableFunc(recs, func(a, b store.CheckRecord) int { return cmp.Compare(a.Server, b.Server) })
			out = append(out, evidenceGroup{Check: cn.label, At: recs[0].At, Records: recs})
		}
	}
	return out
}
