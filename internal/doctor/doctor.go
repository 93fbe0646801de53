// Package doctor is SES's verification troubleshooting guide as code: given
// a domain or an email address, and optionally the values one or more SES
// instances (account and region) expect, it finds the domain's
// authoritative name servers, asks each of them directly, and reports
// findings, each with a stable code, a severity, the records involved, an
// explanation, a fix and dig commands that repeat the queries.
//
// Diagnose does no I/O except through its dnsclient.Client, so tests run it
// against dnstest servers. The expected values come from Expectations,
// built from flags or read from SES endpoints (Fetch).
//
// The JSON form of a Report is documented in docs/doctor.md; its field
// names and the codes are stable.
package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// ErrName reports a name that is neither a domain nor an email address.
var ErrName = errors.New("not a domain or an email address")

// Instance is what one SES instance, an account in a region, expects to
// find in DNS for an identity: records.Instance, which plan reads too.
type Instance = records.Instance

// Status is an identity's state at one SES instance.
type Status = records.Status

// Expectations are the instances an identity is checked against; none
// means generic checks only.
type Expectations []Instance

// Input is one identity to diagnose.
type Input struct {
	Name   string // a domain or an email address, in any case
	Expect Expectations
}

// A Doctor diagnoses identities. It caches the zones and the answers its
// SPF judgements look up (an include shared by many domains, say) for its lifetime,
// so make one per run. It is safe for concurrent use.
type Doctor struct {
	// Client asks the DNS: its Resolver finds zones, its AuthPort and
	// RateLimit apply to the authoritative servers.
	Client *dnsclient.Client
	// Records say what SES's records look like; the zero value means
	// config.SES().
	Records config.DNS

	cache cache
}

func (d *Doctor) records() config.DNS {
	if d.Records == (config.DNS{}) {
		return config.SES()
	}
	return d.Records
}

// Diagnose checks one identity. The error is for names that cannot be
// diagnosed at all: a malformed name (ErrName) or a resolver that could
// not be reached. Everything about the domain, including servers that fail
// or a domain that does not exist, is a finding.
func (d *Doctor) Diagnose(ctx context.Context, in Input) (*Report, error) {
	kind, name, err := names.Identity(strings.TrimSpace(in.Name))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrName, err)
	}
	r := &run{
		d:       d,
		ctx:     ctx,
		dns:     d.records(),
		kind:    kind,
		name:    name,
		domain:  name,
		expect:  in.Expect,
		zones:   map[string]*zoneData{},
		answers: map[qkey]*answer{},
	}
	if kind == names.KindEmail {
		r.domain = names.DomainOf(name)
	}
	if err := r.diagnose(); err != nil {
		return nil, err
	}
	return r.report(), nil
}

// run is the state of one diagnosis.
type run struct {
	d      *Doctor
	ctx    context.Context
	dns    config.DNS
	kind   names.Kind
	name   string // canonical identity
	domain string // the domain checked: the identity, or the address's domain
	expect Expectations

	mu        sync.Mutex
	main      *zoneData
	zones     map[string]*zoneData // by apex
	zoneOrder []*zoneData
	answers   map[qkey]*answer
	spf       map[spfKey]records.SPFReport

	findings  []*Finding
	disagreed map[*zoneData][]Record
}

// diagnose runs the checks in the order of the troubleshooting guide:
// the domain, its servers, then each record.
func (r *run) diagnose() error {
	r.staticChecks()
	z, err := r.d.Client.FindZone(r.ctx, r.domain)
	if err != nil {
		return r.zoneNotFound(err)
	}
	if r.notOwnable(z) {
		r.main = &zoneData{Zone: z}
		return nil
	}
	r.main = r.zoneFor(z)

	r.ask(r.firstQueries())
	r.ask(r.secondQueries())
	r.ask(r.zoneQueries()) // of zones found while following delegations
	r.sortZones()
	r.evalSPF()

	r.domainChecks()
	r.verificationChecks()
	r.dkimChecks()
	r.dkimKeyChecks()
	r.selectorChecks()
	r.mailFromChecks()
	r.spfChecks()
	r.dmarcChecks()
	r.emailChecks()
	r.serverChecks()
	r.disagreeChecks()
	return nil
}

// sortZones puts the main zone first and the others by name: they were
// found concurrently, in any order, and reports must not change between
// runs.
func (r *run) sortZones() {
	slices.SortStableFunc(r.zoneOrder, func(a, b *zoneData) int {
		switch {
		case a == r.main:
			return -1
		case b == r.main:
			return 1
		}
		return strings.Compare(a.Apex, b.Apex)
	})
}

// add records a finding that is not about particular servers.
func (r *run) add(f *Finding) { r.findings = append(r.findings, f) }

// instanceRegion returns the region of the instance labelled l.
func (r *run) instanceRegion(l string) string {
	for _, in := range r.expect {
		if in.Label == l {
			return in.Region
		}
	}
	return ""
}

// report assembles the findings, fills their texts, and sorts them by
// severity, keeping the order of the checks within one severity.
func (r *run) report() *Report {
	rep := &Report{
		Schema:    Schema,
		Name:      r.name,
		Kind:      kindName(r.kind),
		Domain:    r.domain,
		Instances: slices.Clone(r.expect),
		Findings:  []Finding{},
	}
	if rep.Instances == nil {
		rep.Instances = []Instance{}
	}
	for _, z := range r.zoneOrder {
		rep.Zones = append(rep.Zones, r.zoneReport(z))
	}
	if len(rep.Zones) == 0 && r.main != nil {
		rep.Zones = append(rep.Zones, r.zoneReport(r.main))
	}
	if rep.Zones == nil {
		rep.Zones = []ZoneReport{}
	}
	for _, f := range r.findings {
		f.fill(r.domain, r.instanceRegion(f.Instance))
		rep.Findings = append(rep.Findings, *f)
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	for _, f := range rep.Findings {
		rep.Counts.add(f.Severity)
		rep.Status = max(rep.Status, f.Severity)
	}
	return rep
}

func kindName(k names.Kind) string {
	if k == names.KindEmail {
		return "email"
	}
	return "domain"
}

// expectOf is what in expects of the domain being diagnosed.
func (r *run) expectOf(in Instance) records.Expect { return records.ExpectOf(r.domain, in, r.dns) }

// appended is name under the domain twice, where providers that append
// the zone put a name entered fully qualified (records.Expect.Appended).
func (r *run) appended(name string) string { return r.expectOf(Instance{}).Appended(name) }
