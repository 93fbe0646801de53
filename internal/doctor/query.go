package doctor

import (
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
)

// qkey is one question: a canonical (lower-case, fully qualified) name and
// a type.
type qkey struct {
	name  string
	qtype uint16
}

func key(name string, qtype uint16) qkey { return qkey{dns.CanonicalName(name), qtype} }

// zoneData is a zone whose servers are asked.
type zoneData struct {
	*dnsclient.Zone
}

// answer is what each server of a zone said about one question, in the
// order of the zone's servers.
type answer struct {
	z     *zoneData
	resps []*dnsclient.Response
}

// consensus returns a response that says something about the name: the
// first one that is not temporary, else the first. It stands for a name
// outside the zone a check runs on.
func (a *answer) consensus() *dnsclient.Response {
	for _, r := range a.resps {
		if !r.Outcome.Temporary() {
			return r
		}
	}
	if len(a.resps) > 0 {
		return a.resps[0]
	}
	return nil
}

// known returns the responses that say something about the name.
func (a *answer) known() []*dnsclient.Response {
	var out []*dnsclient.Response
	if a == nil {
		return nil
	}
	for _, r := range a.resps {
		if !r.Outcome.Temporary() {
			out = append(out, r)
		}
	}
	return out
}

// zoneFor returns the zoneData of z's apex, adding it the first time.
func (r *run) zoneFor(z *dnsclient.Zone) *zoneData {
	r.mu.Lock()
	defer r.mu.Unlock()
	if zd := r.zones[z.Apex]; zd != nil {
		return zd
	}
	zd := &zoneData{Zone: z}
	r.zones[z.Apex] = zd
	r.zoneOrder = append(r.zoneOrder, zd)
	return zd
}

// get returns the answer to q, or nil if it was not asked.
func (r *run) get(q qkey) *answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answers[q]
}

// ask asks each question, concurrently, of every server of the zone that
// holds its name, and records the answers. Questions already asked are
// skipped.
//
// A name below the main zone is first asked of the main zone's servers:
// finding its zone costs resolver queries, and separately delegated
// subdomains are rare. When every server answers without authority, the
// name may be delegated: its own zone is found and asked instead.
func (r *run) ask(qs []qkey) {
	var wg sync.WaitGroup
	seen := map[qkey]bool{}
	for _, q := range qs {
		if seen[q] || r.get(q) != nil {
			continue
		}
		seen[q] = true
		wg.Go(func() {
			a := r.query(q)
			r.mu.Lock()
			r.answers[q] = a
			r.mu.Unlock()
		})
	}
	wg.Wait()
}

func (r *run) query(q qkey) *answer {
	var z *zoneData
	if dns.IsSubDomain(r.main.Apex, q.name) {
		z = r.main
	} else {
		found, err := r.d.cache.findZone(r.ctx, r.d.Client, q.name)
		if err != nil {
			return &answer{z: nil, resps: []*dnsclient.Response{failed(q, err)}}
		}
		z = r.zoneFor(found)
	}
	resps := r.d.Client.QueryAll(r.ctx, z.Zone, q.name, q.qtype)
	if allLame(resps) {
		if found, err := r.d.cache.findZone(r.ctx, r.d.Client, q.name); err == nil && found.Apex != z.Apex {
			z = r.zoneFor(found)
			resps = r.d.Client.QueryAll(r.ctx, z.Zone, q.name, q.qtype)
		}
	}
	return &answer{z: z, resps: resps}
}

func allLame(resps []*dnsclient.Response) bool {
	for _, r := range resps {
		if r.Outcome != dnsclient.Lame {
			return false
		}
	}
	return len(resps) > 0
}

// zoneQueries returns the SOA and DNSKEY questions of every zone found so
// far: the SOA gives each server's serial, the DNSKEY says whether the
// zone is signed.
func (r *run) zoneQueries() []qkey {
	r.mu.Lock()
	defer r.mu.Unlock()
	var qs []qkey
	for _, z := range r.zoneOrder {
		qs = append(qs, key(z.Apex, dns.TypeSOA), key(z.Apex, dns.TypeDNSKEY))
	}
	return qs
}

// view is one server's side of the answers: a check runs once per view,
// so that servers that disagree show up as different findings.
type view struct {
	r *run
	z *zoneData
	i int // index of the server in z.Servers
}

// resp returns what this view's server said to q; for a name in another
// zone, what that zone's servers agree on. It is nil if q was not asked.
func (v view) resp(name string, qtype uint16) *dnsclient.Response {
	a := v.r.get(key(name, qtype))
	switch {
	case a == nil:
		return nil
	case a.z == v.z && v.i < len(a.resps):
		return a.resps[v.i]
	}
	return a.consensus()
}

// zoneOf returns the zone whose servers answered q, or nil.
func (r *run) zoneOf(q qkey) *zoneData {
	if a := r.get(q); a != nil && a.z != nil {
		return a.z
	}
	return nil
}

// txtValues returns the value of each TXT record in resp: its strings
// joined without separator (RFC 7208 §3.3, RFC 7489 §6.6.3), unescaped.
func txtValues(resp *dnsclient.Response) []string {
	if resp == nil {
		return nil
	}
	return dnsclient.TXTValues(resp.Answer)
}

// bare returns name without its final dot, as records are shown.
func bare(name string) string { return strings.TrimSuffix(name, ".") }
