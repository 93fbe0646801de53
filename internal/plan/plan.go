// Package plan computes the one DNS record set that a domain shared by
// several SES instances (accounts and regions) needs, merged with what its
// zone already holds, following SES's "How to use domain with Amazon SES
// in multiple accounts or regions": one _amazonses TXT record with a value
// per instance, three DKIM CNAMEs per instance, one DMARC record, and per
// MAIL FROM domain one MX and one SPF record, the SPF merged into the one
// that is there.
//
// A Plan says, for each record set, what to add, change and keep. It owns
// only the values its instances need; every other value at the same names
// is kept, and removed only by Prune when it looks like a leftover of an
// instance that is gone. Formats write a plan for people and for other
// tools (BIND, Route 53, Terraform, JSON); Update and Apply publish it with
// one RFC 2136 dynamic update.
package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// Schema identifies the JSON form of a Plan (docs/plan.md).
const Schema = "sesame-plan/1"

// Defaults for the zero values of Options.
const (
	DefaultTTL   = 3600
	DefaultDMARC = "v=DMARC1; p=none"
)

var (
	// ErrOptions: the options cannot make a plan.
	ErrOptions = errors.New("invalid plan options")
	// ErrRead: the zone's current records could not be read.
	ErrRead = errors.New("cannot read the zone")
)

// Options say what to plan.
type Options struct {
	// Domain is the domain identity, in canonical form (names.Domain).
	Domain string
	// Instances are the SES instances that share the domain, each with a
	// unique Label. Missing instances are an error.
	Instances []records.Instance
	// Records say what SES's records look like; zero means config.SES().
	Records config.DNS
	// TTL is the TTL of record sets the plan creates; 0 means DefaultTTL.
	// Record sets that exist keep theirs.
	TTL uint32
	// DMARC is the record published when the domain has none; "" means
	// DefaultDMARC.
	DMARC string
	// SingleValueTXT is for DNS providers that hold one value per TXT
	// name: the second token goes on the domain itself, which SES also
	// reads, and a third is an error.
	SingleValueTXT bool
	// Prune removes the values that belong to no instance (Planner.List
	// finds those outside the names the plan reads).
	Prune bool
}

// Prune is the purpose of a record set found only by listing the zone;
// the others are records.Purpose values (records.DMARC among them).
const Prune records.Purpose = "prune"

// Action is what happens to a record set.
type Action string

const (
	Add    Action = "add"    // it does not exist
	Change Action = "change" // values are added or removed
	Keep   Action = "keep"   // it is as planned
	Remove Action = "remove" // every value goes (Prune)
)

// Value is one record of a record set.
type Value struct {
	// Data is the record data: a TXT record's text, unquoted and joined;
	// a CNAME's target and an MX's "preference host", fully qualified.
	Data   string `json:"value"`
	Change Action `json:"change"` // Add, Keep or Remove
	// Owner is what the plan keeps the value for: instance labels, or
	// "all instances" for the DMARC record it adds; "" for a value the
	// plan does not own, which it keeps.
	Owner string `json:"owner,omitempty"`
	Note  string `json:"note,omitempty"`
	// Stale marks a value that belongs to no current instance: a prune
	// candidate, removed with Options.Prune.
	Stale bool `json:"stale,omitempty"`

	rr dns.RR // as read, for values that exist
}

// RRset is one record set: a name and a type.
type RRset struct {
	Name    string          `json:"name"` // fully qualified, lower case, with the final dot
	Type    string          `json:"type"`
	TTL     uint32          `json:"ttl"`
	Purpose records.Purpose `json:"purpose"`
	Action  Action          `json:"action"`
	Values  []Value         `json:"values"`
}

// Final returns the data of the values the record set has once the plan
// is applied.
func (s *RRset) Final() []string {
	var out []string
	for _, v := range s.Values {
		if v.Change != Remove {
			out = append(out, v.Data)
		}
	}
	return out
}

// exists says whether the record set is in the zone now.
func (s *RRset) exists() bool {
	return slices.ContainsFunc(s.Values, func(v Value) bool { return v.rr != nil })
}

// settle sets Action from the values' changes.
func (s *RRset) settle() {
	added := slices.ContainsFunc(s.Values, func(v Value) bool { return v.Change == Add })
	removed := slices.ContainsFunc(s.Values, func(v Value) bool { return v.Change == Remove })
	switch {
	case !s.exists():
		s.Action = Add
	case len(s.Final()) == 0:
		s.Action = Remove
	case added || removed:
		s.Action = Change
	default:
		s.Action = Keep
	}
}

// Plan is the record set of a domain and how to get there.
type Plan struct {
	Schema string `json:"schema"`
	Domain string `json:"domain"`
	Zone   string `json:"zone"` // the apex, with the final dot
	// Source is the server whose records the plan was built on.
	Source    string             `json:"source"`
	Instances []records.Instance `json:"instances"`
	RRsets    []*RRset           `json:"rrsets"`
	Problems  []Problem          `json:"problems"`
}

// Counts returns how many record sets each action has.
func (p *Plan) Counts() map[Action]int {
	n := map[Action]int{}
	for _, s := range p.RRsets {
		n[s.Action]++
	}
	return n
}

// Changed returns the record sets that an update must change.
func (p *Plan) Changed() []*RRset {
	var out []*RRset
	for _, s := range p.RRsets {
		if s.Action != Keep {
			out = append(out, s)
		}
	}
	return out
}

// Errors returns the problems of SeverityError: a plan with any must not
// be applied.
func (p *Plan) Errors() []Problem {
	var out []Problem
	for _, pr := range p.Problems {
		if pr.Severity == records.SeverityError {
			out = append(out, pr)
		}
	}
	return out
}

func (o *Options) records() config.DNS {
	if o.Records == (config.DNS{}) {
		return config.SES()
	}
	return o.Records
}

// validate checks what can be checked without DNS.
func (o *Options) validate() error {
	if _, err := names.Domain(o.Domain); err != nil || o.Domain != strings.ToLower(o.Domain) {
		return fmt.Errorf("%w: domain %q is not in canonical form", ErrOptions, o.Domain)
	}
	if len(o.Instances) == 0 {
		return fmt.Errorf("%w: no instances", ErrOptions)
	}
	seen := map[string]bool{}
	for _, in := range o.Instances {
		switch {
		case in.Label == "":
			return fmt.Errorf("%w: an instance has no label", ErrOptions)
		case seen[in.Label]:
			return fmt.Errorf("%w: two instances are labelled %q", ErrOptions, in.Label)
		case in.Missing:
			return fmt.Errorf("%w: %s has no identity %s: create it (VerifyDomainIdentity or CreateEmailIdentity) before planning its records", ErrOptions, in.Label, o.Domain)
		case in.MailFrom != "" && in.Region == "":
			return fmt.Errorf("%w: %s has a MAIL FROM domain but no region: its MX points at the region's endpoint", ErrOptions, in.Label)
		case len(in.DKIMTokens) != 0 && len(in.DKIMTokens) != 3:
			return fmt.Errorf("%w: %s has %d DKIM tokens: Easy DKIM has three", ErrOptions, in.Label, len(in.DKIMTokens))
		}
		seen[in.Label] = true
	}
	if err := o.records().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrOptions, err)
	}
	if o.DMARC != "" {
		if _, err := dmarc.Parse(o.DMARC); err != nil {
			return fmt.Errorf("%w: DMARC record %q: %v", ErrOptions, o.DMARC, err)
		}
	}
	return nil
}

// A Planner reads a zone and plans its records. It is safe for
// concurrent use.
type Planner struct {
	// Client finds the zone through its Resolver and asks the zone's
	// servers (at its AuthPort); SPF includes are looked up through it.
	Client *dnsclient.Client
	// Primary, if set, is the server the plan reads the zone from instead
	// of the zone's name servers: the one Apply updates, which may be a
	// hidden primary that secondaries copy.
	Primary *Target
	// List, if set, returns every record of the zone, for Options.Prune:
	// old DKIM CNAMEs and MAIL FROM records are found only that way.
	// ListAXFR makes one that asks for a zone transfer.
	List func(ctx context.Context, zone string) ([]dns.RR, error)
}

// Plan reads the zone of o.Domain and returns its plan. The error is for
// plans that cannot be made at all (ErrOptions); everything about the
// records is a Problem, a zone that cannot be read included (Unread).
func (pl *Planner) Plan(ctx context.Context, o Options) (*Plan, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	o.TTL = cmp.Or(o.TTL, DefaultTTL)
	o.DMARC = cmp.Or(o.DMARC, DefaultDMARC)
	b := &builder{o: o, d: o.records(), dns: pl.Client}
	if err := pl.read(ctx, b); errors.Is(err, ErrRead) {
		b.unread(err) // every record an addition (read.go)
	} else if err != nil {
		return nil, err
	}
	b.build(ctx)
	if o.Prune {
		b.prune(ctx, pl.List)
	}
	b.check(ctx)
	p := &Plan{Schema: Schema, Domain: o.Domain, Zone: b.zone, Source: b.r.source(), Instances: o.Instances, Problems: b.problems}
	for _, s := range b.sets {
		if len(s.Values) > 0 {
			s.settle()
			p.RRsets = append(p.RRsets, s)
		}
	}
	if p.Problems == nil {
		p.Problems = []Problem{}
	}
	return p, nil
}

// zone returns the zone that holds domain: the primary's, when it names
// one (a zone not delegated yet can be prepared there), else the one the
// resolver finds.
func (pl *Planner) zone(ctx context.Context, domain string) (*dnsclient.Zone, error) {
	if pl.Primary != nil && pl.Primary.Zone != "" && dns.IsSubDomain(pl.Primary.Zone, dns.Fqdn(domain)) {
		return &dnsclient.Zone{Apex: pl.Primary.Zone}, nil
	}
	z, err := pl.Client.FindZone(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("%w: finding the zone of %s: %v", ErrRead, domain, err)
	}
	return z, notDelegated(domain, z)
}
