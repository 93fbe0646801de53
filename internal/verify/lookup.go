package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
	"github.com/sesame/sesame/internal/store"
)

// probe is one record looked for: a name, a type, and how to judge the
// records a server returns for them.
type probe struct {
	check    string // "verification", "dkim", "mail-from" or "spf"
	name     string // fully qualified
	qtype    uint16
	want     string // the value looked for, as a person writes it
	expected string // the record, in zone-file form
	judge    func(ctx context.Context, rrs []dns.RR) judgement
}

// judgement is what one server's records hold against the expectation.
type judgement struct {
	match bool
	got   []string // the values served, as text
	near  string   // a value equal to the expected one but for case
	note  string   // why records that hold the value still do not do
	temp  bool     // the judgement needed lookups that failed for now
}

// observation is what one server said about one probe.
type observation struct {
	resp *dnsclient.Response
	judgement
	stale string // set by decide: the server lags behind another one
}

// outcome is the store.CheckRecord Outcome.
func (o *observation) outcome() string {
	switch {
	case o.resp.Outcome != dnsclient.Answer:
		return o.resp.Outcome.String()
	case o.match:
		return "match"
	}
	return "mismatch"
}

// finding is what the servers of one zone said about one probe.
type finding struct {
	probe
	zone *zoneInfo
	obs  []*observation
}

// zoneInfo is the zone that holds a name, found once per check of an
// identity, and its SOA.
type zoneInfo struct {
	asked string // the name FindZone was given
	zone  *dnsclient.Zone
	err   error
	done  chan struct{} // closed once zone or err is set

	soaOnce sync.Once
	soa     *dns.SOA                    // the newest among the servers
	serials map[dnsclient.Server]uint32 // each server's serial
}

// run is one check of one identity: the zones it found and the evidence
// it gathered. Its lookups may run concurrently.
type run struct {
	v  *Verifier
	at time.Time
	e  records.Expect // what the identity expects

	mu      sync.Mutex
	zones   []*zoneInfo
	records []store.CheckRecord
}

// zoneFor returns the zone of name. A zone found for an ancestor of name
// (the identity's domain) is used as is: it holds name unless name is
// delegated, which lookup learns from a referral. A failure for an
// ancestor holds for name too.
func (r *run) zoneFor(ctx context.Context, name string) *zoneInfo {
	r.mu.Lock()
	var best *zoneInfo
	for _, z := range r.zones {
		if within(name, z.asked) && (best == nil || len(z.asked) > len(best.asked)) {
			best = z
		}
	}
	r.mu.Unlock()
	if best == nil {
		return r.find(ctx, name)
	}
	<-best.done
	return best
}

// within reports whether name is zone or below it, as dns.IsSubDomain does
// for the canonical names here without splitting both into labels per call.
// A backslash (an escaped dot may not end a label) takes the long way.
func within(name, zone string) bool {
	if strings.IndexByte(name, '\\') >= 0 || strings.IndexByte(zone, '\\') >= 0 {
		return dns.IsSubDomain(zone, name)
	}
	return equalFoldASCII(name, zone) || zone == "." ||
		len(name) > len(zone) && name[len(name)-len(zone)-1] == '.' && equalFoldASCII(name[len(name)-len(zone):], zone)
}

// equalFoldASCII compares names as DNS does: ASCII letters without regard
// to case, every other byte as is (RFC 4343).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// find asks the resolver for the zone of name, once per run.
func (r *run) find(ctx context.Context, name string) *zoneInfo {
	name = dns.CanonicalName(name)
	r.mu.Lock()
	i := slices.IndexFunc(r.zones, func(z *zoneInfo) bool { return z.asked == name })
	if i >= 0 {
		z := r.zones[i]
		r.mu.Unlock()
		<-z.done
		return z
	}
	z := &zoneInfo{asked: name, done: make(chan struct{})}
	r.zones = append(r.zones, z)
	r.mu.Unlock()
	z.zone, z.err = r.v.DNS.FindZoneNoEvidence(ctx, name) // record() keeps the error, not the resolver's answers
	zoneLookups.WithLabelValues(zoneLabel(z.err)).Inc()
	close(z.done)
	return z
}

func zoneLabel(err error) string {
	switch {
	case err == nil:
		return "found"
	case errors.Is(err, dnsclient.ErrNoZone):
		return "no_zone"
	case errors.Is(err, dnsclient.ErrNoServers):
		return "no_servers"
	}
	return "error"
}

// lookup asks every server of the zone of p.name about it.
func (r *run) lookup(ctx context.Context, p probe) *finding {
	z := r.zoneFor(ctx, p.name)
	f := &finding{probe: p, zone: z}
	if z.err != nil {
		return f
	}
	resps := r.query(ctx, z, p.name, p.qtype)
	if !strings.EqualFold(z.zone.Apex, dns.Fqdn(p.name)) && slices.ContainsFunc(resps, func(r *dnsclient.Response) bool { return r.Outcome == dnsclient.Lame }) {
		// A referral: p.name is in a zone delegated from z.
		if z2 := r.find(ctx, p.name); z2.err == nil && z2.zone.Apex != z.zone.Apex {
			z, f.zone = z2, z2
			resps = r.query(ctx, z, p.name, p.qtype)
		}
	}
	r.fetchSOA(ctx, z)
	for _, resp := range resps {
		o := &observation{resp: resp}
		if resp.Outcome == dnsclient.Answer {
			o.judgement = p.judge(ctx, resp.Answer)
		}
		f.obs = append(f.obs, o)
	}
	return f
}

func (r *run) query(ctx context.Context, z *zoneInfo, name string, qtype uint16) []*dnsclient.Response {
	return countQueries(qtype, r.v.DNS.QueryAll(ctx, z.zone, name, qtype))
}

// countQueries counts resps in sesame_verify_dns_queries_total.
func countQueries(qtype uint16, resps []*dnsclient.Response) []*dnsclient.Response {
	for _, resp := range resps {
		queryCounter(qtype, resp.Outcome).Inc()
	}
	return resps
}

// fetchSOA asks every server of z for its SOA, once per run: the newest is
// the zone's (v2 VerificationInfo.SOARecord), and a server with an older
// serial is stale.
func (r *run) fetchSOA(ctx context.Context, z *zoneInfo) {
	z.soaOnce.Do(func() {
		z.serials = make(map[dnsclient.Server]uint32)
		// Not evidence: record() keeps what the record queries found.
		for _, resp := range countQueries(dns.TypeSOA, r.v.DNS.QueryAllNoEvidence(ctx, z.zone, z.zone.Apex, dns.TypeSOA)) {
			for _, rr := range resp.Answer {
				if soa, ok := rr.(*dns.SOA); ok {
					z.serials[resp.Server] = soa.Serial
					if z.soa == nil || newer(soa.Serial, z.soa.Serial) {
						z.soa = soa
					}
				}
			}
		}
	})
}

// newer compares serials in sequence space arithmetic (RFC 1982 §3.2).
func newer(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// record keeps the evidence of f: one record per server asked, or one for
// the zone lookup that failed.
func (r *run) record(f *finding) {
	recs := make([]store.CheckRecord, 0, len(f.obs)+1)
	if f.zone.err != nil {
		recs = append(recs, store.CheckRecord{
			At: r.at, Check: f.check, Server: "resolver",
			Query:    fmt.Sprintf("dig +trace %s %s", f.name, dns.TypeToString[f.qtype]),
			Expected: f.expected, Outcome: zoneOutcome(f.zone.err), Detail: f.zone.err.Error(),
		})
	}
	for _, o := range f.obs {
		c := store.CheckRecord{
			At: r.at, Check: f.check, Server: o.resp.Server.String(),
			Expected: f.expected, Outcome: o.outcome(), TTL: cacheTTL(o.resp),
			Detail: strings.TrimSpace(o.stale + " " + o.detail()),
		}
		if ev := o.resp.Evidence; len(ev) > 0 {
			c.Query, c.Answer = ev[0], ev[1:]
		}
		recs = append(recs, c)
	}
	r.mu.Lock()
	if r.records == nil {
		// Room for the six records of a domain with DKIM and MAIL FROM,
		// on each server that answered this one.
		r.records = make([]store.CheckRecord, 0, 6*max(len(f.obs), 1))
	}
	r.records = append(r.records, recs...)
	r.mu.Unlock()
}

// detail says what a server's answer means, when the outcome alone does
// not.
func (o *observation) detail() string {
	switch {
	case o.near != "":
		return fmt.Sprintf("%s differs from the expected value only in case: lowercased by the DNS provider?", o.near)
	case o.note != "":
		return o.note
	case o.resp.Outcome.Temporary() && o.resp.Err != nil:
		return o.resp.Err.Error()
	}
	return ""
}

func zoneOutcome(err error) string {
	switch {
	case errors.Is(err, dnsclient.ErrNoZone):
		return "NoZone"
	case errors.Is(err, dnsclient.ErrNoServers):
		return "NoServers"
	}
	return "ResolverError"
}

// cacheTTL is how long a resolver may keep resp: the smallest TTL of the
// records and CNAMEs of an answer, or for a negative answer the SOA's,
// min(SOA TTL, MINIMUM) (RFC 2308 §5).
func cacheTTL(resp *dnsclient.Response) time.Duration {
	var ttl uint32
	var set bool
	low := func(t uint32) {
		if !set || t < ttl {
			ttl, set = t, true
		}
	}
	switch resp.Outcome {
	case dnsclient.Answer:
		for _, rr := range resp.Answer {
			low(rr.Header().Ttl)
		}
		for _, cn := range resp.CNAMEs {
			low(cn.Hdr.Ttl)
		}
	case dnsclient.NoData, dnsclient.NXDomain:
		if resp.SOA != nil {
			low(min(resp.SOA.Hdr.Ttl, resp.SOA.Minttl))
		}
	}
	return time.Duration(ttl) * time.Second
}
