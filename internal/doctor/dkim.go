package doctor

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/records"
)

func (r *run) dkimRecord(token string) records.Record {
	return r.expectOf(Instance{}).DKIMRecord(token)
}

// dkimProbes returns the names with the domain appended for the tokens
// whose CNAME some server lacks.
func (r *run) dkimProbes() []qkey {
	var qs []qkey
	for _, in := range r.expect {
		for _, t := range in.DKIMTokens {
			name := r.dkimRecord(t).Name
			for _, resp := range r.get(key(name, dns.TypeCNAME)).known() {
				if resp.Outcome != dnsclient.Answer {
					qs = append(qs, key(r.appended(name), dns.TypeCNAME))
					break
				}
			}
		}
	}
	return qs
}

func (r *run) dkimChecks() {
	for _, in := range r.expect {
		if len(in.DKIMTokens) == 0 || in.Missing {
			continue
		}
		z := r.zoneOf(key(r.dkimRecord(in.DKIMTokens[0]).Name, dns.TypeCNAME))
		r.check(z, func(v view) ([]*Finding, bool) { return r.dkimCheck(v, in) })
	}
}

// dkimState is what one server says about one DKIM record.
type dkimState struct {
	rec    records.Record
	resp   *dnsclient.Response
	target string // the CNAME target found, bare and lower case
}

func (r *run) dkimStates(v view, in Instance) ([]dkimState, bool) {
	var out []dkimState
	for _, t := range in.DKIMTokens {
		rec := r.dkimRecord(t)
		resp := v.resp(rec.Name, dns.TypeCNAME)
		if resp == nil || resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
			return nil, false
		}
		st := dkimState{rec: rec, resp: resp}
		for _, rr := range resp.Answer {
			if c, ok := rr.(*dns.CNAME); ok {
				st.target = strings.ToLower(bare(c.Target))
			}
		}
		out = append(out, st)
	}
	return out, true
}

// dkimComplete reports whether all of an instance's DKIM CNAMEs are right
// on this view's server (or, in another zone, on the servers that agree).
func (r *run) dkimComplete(v view, in Instance) bool {
	if len(in.DKIMTokens) == 0 {
		return false
	}
	sts, ok := r.dkimStates(v, in)
	if !ok {
		return false
	}
	e := r.expectOf(in)
	for _, st := range sts {
		if e.MatchDKIM(st.rec.Token, cnameOf(st.resp)).Kind != records.Found {
			return false
		}
	}
	return true
}

func (r *run) dkimCheck(v view, in Instance) ([]*Finding, bool) {
	sts, ok := r.dkimStates(v, in)
	if !ok {
		return nil, false
	}
	var fs []*Finding
	var good, missing, twice []Record
	var evGood, evMissing, evTwice []string
	wrong := map[string]*Finding{} // by reason
	e := r.expectOf(in)
	for _, st := range sts {
		rec := Record{Name: st.rec.Name, Type: "CNAME", Expected: st.rec.Value}
		if st.target != "" {
			rec.Found = []string{st.target}
		}
		switch got := e.MatchDKIM(st.rec.Token, cnameOf(st.resp)); got.Kind {
		case records.Found:
			good = append(good, rec)
			evGood = append(evGood, st.resp.Evidence...)
		case records.Wrong:
			why := r.wrongTarget(got.Fault())
			f := wrong[why]
			if f == nil {
				f = &Finding{Code: DKIMWrongTarget, Instance: in.Label}
				wrong[why] = f
				fs = append(fs, f)
			}
			f.Records = append(f.Records, rec)
			f.Evidence = append(f.Evidence, st.resp.Evidence...)
			f.Summary = fmt.Sprintf("%d DKIM CNAME record(s) point to the wrong target: %s", len(f.Records), why)
		default:
			tw := v.resp(r.appended(rec.Name), dns.TypeCNAME)
			if tw != nil && tw.Outcome == dnsclient.Answer {
				twice = append(twice, rec, Record{Name: r.appended(rec.Name), Type: "CNAME", Found: cnameOf(tw)})
				evTwice = append(evTwice, tw.Evidence...)
				continue
			}
			missing = append(missing, rec)
			evMissing = append(evMissing, st.resp.Evidence...)
		}
	}
	if len(twice) > 0 {
		fs = append(fs, &Finding{Code: DKIMAppended, Instance: in.Label, Records: twice, Evidence: evTwice,
			Summary: fmt.Sprintf("%d DKIM record(s) are under %s twice", len(twice)/2, r.domain)})
	}
	if len(missing) > 0 {
		fs = append(fs, &Finding{Code: DKIMMissing, Instance: in.Label, Records: missing, Evidence: evMissing,
			Summary: fmt.Sprintf("%d of %d DKIM CNAME records are missing", len(missing), len(sts))})
	}
	if len(good) == len(sts) {
		fs = append(fs, &Finding{Code: DKIMOK, Instance: in.Label, Records: good, Evidence: evGood,
			Summary: fmt.Sprintf("the %d DKIM CNAME records point to %s", len(good), r.dns.DKIMDomain)})
	}
	return fs, true
}

// wrongTarget explains a wrong CNAME target: a known mistake, or simply
// not SES's.
func (r *run) wrongTarget(f records.Fault) string {
	switch f {
	case records.FaultTargetAppended:
		return "the provider appended " + r.domain + " to the targets"
	case records.FaultTargetSwapped:
		return "each points to another token's target; the records were swapped"
	}
	return "not under " + r.dns.DKIMDomain
}

func cnameOf(resp *dnsclient.Response) []string {
	var out []string
	for _, rr := range resp.Answer {
		if c, ok := rr.(*dns.CNAME); ok {
			out = append(out, strings.ToLower(bare(c.Target)))
		}
	}
	return out
}

// dkimKeyChecks follows each DKIM CNAME that is right to the key it leads
// to, as a receiver verifying a signature does: SES verifies the CNAMEs
// alone, so a target without a usable key shows only as mail failing DKIM.
// The key's zone is the signer's (dkim.amazonses.com, or a Sesame
// operator's DKIM domain): its servers are asked through the cache, as SPF
// includes are. Where the instance knows the key it publishes for a token
// (Instance.DKIMKeys), another key there is a mismatch; otherwise any
// usable key passes.
func (r *run) dkimKeyChecks() {
	for _, in := range r.expect {
		if len(in.DKIMTokens) == 0 || in.Missing {
			continue
		}
		e := r.expectOf(in)
		var missing, invalid, mismatch *Finding
		for _, t := range in.DKIMTokens {
			if !r.dkimFound(e, t) {
				continue
			}
			target := e.DKIMTarget(t)
			resp := r.d.cache.lookup(r.ctx, r.d.Client, key(target, dns.TypeTXT))
			if resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
				continue // no verdict; the key's servers are not the domain's
			}
			rec := Record{Name: target, Type: "TXT", Found: txtValues(resp)}
			var want *rsa.PublicKey
			if known := in.DKIMKeys[t]; known != "" {
				rec.Expected = known
				want, _ = dkim.PublicKey(known)
			}
			switch v := dkim.MatchRecord(txtValues(resp), want); {
			case v.Kind == records.Found:
			case v.Has(records.FaultKeyMismatch):
				if mismatch == nil {
					mismatch = &Finding{Code: DKIMKeyMismatch, Instance: in.Label}
				}
				mismatch.Records = append(mismatch.Records, rec)
				mismatch.Evidence = append(mismatch.Evidence, resp.Evidence...)
			case v.Kind == records.Absent:
				if missing == nil {
					missing = &Finding{Code: DKIMKeyMissing, Instance: in.Label}
				}
				missing.Records = append(missing.Records, rec)
				missing.Evidence = append(missing.Evidence, resp.Evidence...)
			default:
				if invalid == nil {
					invalid = &Finding{Code: DKIMKeyInvalid, Instance: in.Label}
				}
				invalid.Records = append(invalid.Records, rec)
				invalid.Evidence = append(invalid.Evidence, resp.Evidence...)
				invalid.Summary += fmt.Sprintf("; %s: %s", target, keyProblem(v))
			}
		}
		if missing != nil {
			missing.Summary = fmt.Sprintf("%d of %d DKIM CNAME targets publish no DKIM key", len(missing.Records), len(in.DKIMTokens))
			r.add(missing)
		}
		if mismatch != nil {
			mismatch.Summary = fmt.Sprintf("%d DKIM CNAME target(s) publish another key than the one this instance signs with", len(mismatch.Records))
			r.add(mismatch)
		}
		if invalid != nil {
			invalid.Summary = fmt.Sprintf("%d DKIM key(s) cannot be used", len(invalid.Records)) + invalid.Summary
			r.add(invalid)
		}
	}
}

// dkimFound reports whether some server of the domain serves the right
// CNAME for token: only then is the key where it leads worth asking for.
func (r *run) dkimFound(e records.Expect, token string) bool {
	for _, resp := range r.get(key(e.DKIMRecord(token).Name, dns.TypeCNAME)).known() {
		if e.MatchDKIM(token, cnameOf(resp)).Kind == records.Found {
			return true
		}
	}
	return false
}

func keyProblem(v records.Verdict) string {
	p := v.Problems[0]
	if p.Fault == records.FaultKeyRevoked {
		return "revoked (empty p=)"
	}
	return p.Detail
}
