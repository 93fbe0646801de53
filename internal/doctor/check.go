package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
)

// checkFunc checks one server's view and returns its findings, or false
// when the server said nothing usable about the names the check needs:
// serverChecks reports such failures.
type checkFunc func(v view) ([]*Finding, bool)

// check runs fn on each server of z and merges the findings: equal
// findings (same code, instance and summary) become one that lists the
// servers it was seen on. A finding seen on some answering servers but
// not all means the servers disagree about its records.
func (r *run) check(z *zoneData, fn checkFunc) {
	if z == nil {
		return
	}
	var merged []*Finding
	byKey := map[string]*Finding{}
	answering := 0
	for i, srv := range z.Servers {
		fs, ok := fn(view{r: r, z: z, i: i})
		if !ok {
			continue
		}
		answering++
		for _, f := range fs {
			k := string(f.Code) + "\x00" + f.Instance + "\x00" + f.Summary
			if m := byKey[k]; m != nil {
				m.Servers = append(m.Servers, serverID(srv))
				m.Evidence = append(m.Evidence, f.Evidence...)
				continue
			}
			f.Servers = []string{serverID(srv)}
			byKey[k] = f
			merged = append(merged, f)
		}
	}
	for _, f := range merged {
		if len(f.Servers) < answering {
			r.disagree(z, f.Records)
		}
		r.add(f)
	}
}

func (r *run) disagree(z *zoneData, recs []Record) {
	if r.disagreed == nil {
		r.disagreed = map[*zoneData][]Record{}
	}
	for _, rec := range recs {
		if !slices.ContainsFunc(r.disagreed[z], func(o Record) bool { return o.Name == rec.Name && o.Type == rec.Type }) {
			r.disagreed[z] = append(r.disagreed[z], Record{Name: rec.Name, Type: rec.Type})
		}
	}
}

// serverChecks reports the servers that failed, refused, answered without
// authority or timed out, with the questions concerned, and the names
// whose CNAME chain loops.
func (r *run) serverChecks() {
	// How each failure reads, for some questions and for all of them.
	type failure struct {
		code      Code
		some, all string
	}
	classes := map[dnsclient.Outcome]failure{
		dnsclient.Timeout:  {NameserverTimeout, "did not answer %d of %d questions", "did not answer any question"},
		dnsclient.NetError: {NameserverTimeout, "could not be reached for %d of %d questions", "could not be reached"},
		dnsclient.ServFail: {NameserverServFail, "answered SERVFAIL to %d of %d questions", "answered SERVFAIL to every question"},
		dnsclient.Refused:  {NameserverLame, "refused %d of %d questions", "refused every question"},
		dnsclient.Lame:     {NameserverLame, "answered %d of %d questions without authority", "answered every question without authority"},
	}
	for _, z := range r.zoneOrder {
		qs := r.questionsOf(z)
		for _, host := range z.NS {
			if !slices.ContainsFunc(z.Servers, func(s dnsclient.Server) bool { return s.Name == host }) {
				r.add(&Finding{Code: NameserverNoAddress, Summary: fmt.Sprintf("name server %s of %s has no address", host, bare(z.Apex)),
					Records: []Record{{Name: bare(host), Type: "A"}, {Name: bare(host), Type: "AAAA"}}, Evidence: z.Evidence})
			}
		}
		for i, srv := range z.Servers {
			byCode := map[Code]*Finding{}
			var order []Code
			for _, q := range qs {
				resp := r.get(q).resps[i]
				c, ok := classes[resp.Outcome]
				if !ok {
					continue
				}
				f := byCode[c.code]
				if f == nil {
					f = &Finding{Code: c.code, Servers: []string{serverID(srv)}}
					byCode[c.code] = f
					order = append(order, c.code)
				}
				f.Records = append(f.Records, Record{Name: bare(q.name), Type: typeName(q.qtype)})
				f.Evidence = append(f.Evidence, resp.Evidence...)
				f.Summary = fmt.Sprintf("%s "+c.some+" about %s", serverID(srv), len(f.Records), len(qs), bare(z.Apex))
				if len(f.Records) == len(qs) {
					// A server that fails everything: its SOA query
					// shows it, the other questions add nothing.
					f.Summary = fmt.Sprintf("%s %s about %s", serverID(srv), c.all, bare(z.Apex))
					f.Records = []Record{{Name: bare(z.Apex), Type: "SOA"}}
					f.Evidence = r.get(key(z.Apex, dns.TypeSOA)).resps[i].Evidence
				}
			}
			for _, c := range order {
				r.add(byCode[c])
			}
		}
		r.check(z, func(v view) ([]*Finding, bool) {
			var fs []*Finding
			for _, q := range qs {
				if resp := v.resp(q.name, q.qtype); resp.Outcome == dnsclient.Loop {
					fs = append(fs, &Finding{Code: CNAMELoop, Summary: fmt.Sprintf("%s: %v", bare(q.name), resp.Err),
						Records: []Record{{Name: bare(q.name), Type: "CNAME", Found: cnameTargets(resp)}}, Evidence: resp.Evidence})
				}
			}
			return fs, true
		})
	}
}

// questionsOf returns the questions asked of z's servers, sorted.
func (r *run) questionsOf(z *zoneData) []qkey {
	r.mu.Lock()
	defer r.mu.Unlock()
	var qs []qkey
	for q, a := range r.answers {
		if a.z == z {
			qs = append(qs, q)
		}
	}
	slices.SortFunc(qs, func(a, b qkey) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return int(a.qtype) - int(b.qtype)
	})
	return qs
}

// disagreeChecks reports, per zone, the records whose answers differ
// between servers, and SOA serials that differ, with each server's serial.
func (r *run) disagreeChecks() {
	for _, z := range r.zoneOrder {
		soa := r.get(key(z.Apex, dns.TypeSOA))
		if soa == nil {
			continue
		}
		var serials []string
		var evidence []string
		distinct := map[uint32]bool{}
		for i, srv := range z.Servers {
			s, ok := soa.resps[i].Serial()
			if !ok {
				serials = append(serials, serverID(srv)+" no SOA")
				continue
			}
			distinct[s] = true
			serials = append(serials, fmt.Sprintf("%s serial %d", serverID(srv), s))
			evidence = append(evidence, soa.resps[i].Evidence...)
		}
		recs := r.disagreed[z]
		if len(recs) == 0 && len(distinct) < 2 {
			continue
		}
		var what string
		switch {
		case len(recs) == 0:
			what = "have different SOA serials"
		case len(distinct) > 1:
			what = fmt.Sprintf("answer differently for %d record(s), with different SOA serials", len(recs))
		default:
			what = fmt.Sprintf("answer differently for %d record(s), with the same SOA serial", len(recs))
		}
		var all []string
		for _, srv := range z.Servers {
			all = append(all, serverID(srv))
		}
		recs = append(recs, Record{Name: bare(z.Apex), Type: "SOA", Found: serials})
		r.add(&Finding{Code: NameserversDisagree, Summary: fmt.Sprintf("the servers of %s %s", bare(z.Apex), what),
			Records: recs, Servers: all, Evidence: evidence})
	}
}

// serverID names a server in findings: host and address.
func serverID(s dnsclient.Server) string { return bare(s.Name) + " " + s.Addr.String() }

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

func cnameTargets(resp *dnsclient.Response) []string {
	var out []string
	for _, c := range resp.CNAMEs {
		out = append(out, bare(c.Target))
	}
	return out
}
