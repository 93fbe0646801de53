package doctor

import (
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

// selectorQueries ask for each BYODKIM selector's key record.
func (r *run) selectorQueries() []qkey {
	var qs []qkey
	for _, in := range r.expect {
		if in.DKIMSelector != "" && !in.Missing {
			qs = append(qs, key(r.expectOf(in).SelectorRecord().Name, dns.TypeTXT))
		}
	}
	return qs
}

// selectorChecks judge each BYODKIM selector's TXT on the domain's servers
// as the verifier does (dkim.MatchSelector): it must publish the public
// half of the key the identity signs with.
func (r *run) selectorChecks() {
	for _, in := range r.expect {
		if in.DKIMSelector == "" || in.Missing {
			continue
		}
		rec := r.expectOf(in).SelectorRecord()
		r.check(r.zoneOf(key(rec.Name, dns.TypeTXT)), func(v view) ([]*Finding, bool) {
			resp := v.resp(rec.Name, dns.TypeTXT)
			if resp == nil || resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
				return nil, false
			}
			got := txtValues(resp)
			f := &Finding{Instance: in.Label, Evidence: resp.Evidence,
				Records: []Record{{Name: rec.Name, Type: "TXT", Expected: rec.Value, Found: got}}}
			switch verdict := dkim.MatchSelector(got, in.DKIMKey); {
			case verdict.Kind == records.Found:
				f.Code, f.Summary = DKIMSelectorOK, "the BYODKIM selector "+in.DKIMSelector+" publishes the identity's key"
			case verdict.Kind == records.Absent:
				f.Code, f.Summary = DKIMSelectorMissing, "no DKIM key is published at "+rec.Name
			case verdict.Fault() == records.FaultKeyMismatch:
				f.Code, f.Summary = DKIMSelectorMismatch, "the key at "+rec.Name+" is not the public half of the identity's private key"
			default:
				f.Code, f.Summary = DKIMKeyInvalid, "1 DKIM key(s) cannot be used; "+rec.Name+": "+keyProblem(verdict)
			}
			return []*Finding{f}, true
		})
	}
}
