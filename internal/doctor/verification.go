package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// The names SES's guide and the quirks of DNS providers put the token at.
func (r *run) verName() string  { return r.expectOf(Instance{}).VerificationName() }
func (r *run) verTwice() string { return r.appended(r.verName()) }

// verNoUnderscore is the name without the underscore, accepted by SES
// only for domains verified that way long ago; "" if the prefix has none.
func (r *run) verNoUnderscore() string {
	p := strings.TrimPrefix(r.dns.VerificationPrefix, "_")
	if p == r.dns.VerificationPrefix {
		return ""
	}
	return p + "." + r.domain
}

// checksTXT says whether the verification TXT record is looked at: for a
// domain, when some instance has a token, or when there are no
// expectations and provider quirks can still show.
func (r *run) checksTXT() bool {
	if r.kind != names.KindDomain {
		return false
	}
	return len(r.expect) == 0 || r.tokens() > 0
}

func (r *run) tokens() int {
	n := 0
	for _, in := range r.expect {
		if in.Token != "" && !in.Missing {
			n++
		}
	}
	return n
}

// verificationProbes returns the misplaced names to ask about when some
// server lacks a token at the right names.
func (r *run) verificationProbes() []qkey {
	if !r.checksTXT() {
		return nil
	}
	at := r.get(key(r.verName(), dns.TypeTXT))
	apex := r.get(key(r.domain, dns.TypeTXT))
	need := false
	for i, resp := range at.resps {
		vals := txtValues(resp)
		if len(r.expect) == 0 && len(vals) == 0 && !resp.Outcome.Temporary() {
			need = true
		}
		for _, in := range r.expect {
			if in.Token == "" || in.Missing {
				continue
			}
			var apexVals []string
			if apex != nil && apex.z == at.z {
				apexVals = txtValues(apex.resps[i])
			}
			if r.match(vals, in.Token) != exact && r.match(apexVals, in.Token) != exact {
				need = true
			}
		}
	}
	if !need {
		return nil
	}
	qs := []qkey{key(r.verTwice(), dns.TypeTXT)}
	if n := r.verNoUnderscore(); n != "" {
		qs = append(qs, key(n, dns.TypeTXT))
	}
	return qs
}

// match says how well the best of vals matches a token.
type match int

const (
	noMatch     match = iota
	mangled           // the token with other characters around it
	caseChanged       // the token in another case
	exact             // the token, or the value prefix and the token
)

func (r *run) match(vals []string, token string) match {
	best := noMatch
	for _, v := range vals {
		best = max(best, r.matchOne(v, token))
	}
	return best
}

// matchOne ranks one value as records.MatchToken judges it.
func (r *run) matchOne(v, token string) match {
	e := r.expectOf(Instance{Token: token})
	switch got := e.MatchToken([]string{v}); {
	case got.Kind == records.Found:
		return exact
	case got.Has(records.FaultCase):
		return caseChanged
	case got.Has(records.FaultMangled):
		return mangled
	}
	return noMatch
}

// tokenLike reports whether v looks like an SES verification value.
func (r *run) tokenLike(v string) bool { return r.expectOf(Instance{}).TokenLike(v) }

// lowercased reports a token-like value that a provider lowercased.
func (r *run) lowercased(v string) bool { return r.expectOf(Instance{}).Lowercased(v) }

func (r *run) verificationChecks() {
	if !r.checksTXT() {
		return
	}
	z := r.zoneOf(key(r.verName(), dns.TypeTXT))
	r.check(z, r.verificationRecord)
	for _, in := range r.expect {
		if in.Token == "" || in.Missing {
			continue
		}
		r.check(z, func(v view) ([]*Finding, bool) { return r.verificationToken(v, in) })
	}
}

// verificationRecord reports what shows in the record whatever the
// tokens: several values, a CNAME, and, without expectations, the quirks
// a token needs no comparison to reveal.
func (r *run) verificationRecord(v view) ([]*Finding, bool) {
	name := r.verName()
	resp := v.resp(name, dns.TypeTXT)
	if resp == nil || resp.Outcome.Temporary() {
		return nil, false
	}
	vals := txtValues(resp)
	rec := Record{Name: name, Type: "TXT", Found: vals}
	f := func(c Code, recs []Record, ev []string, format string, args ...any) *Finding {
		return &Finding{Code: c, Summary: fmt.Sprintf(format, args...), Records: recs, Evidence: ev}
	}
	var fs []*Finding
	if len(resp.CNAMEs) > 0 {
		fs = append(fs, f(VerificationCNAME, []Record{{Name: name, Type: "CNAME", Found: cnameTargets(resp)}}, resp.Evidence,
			"%s is a CNAME to %s", name, bare(resp.CNAMEs[0].Target)))
	}
	if len(vals) > 1 {
		fs = append(fs, f(VerificationMultiple, []Record{rec}, resp.Evidence, "%s has %d values", name, len(vals)))
	}
	if len(r.expect) > 0 {
		return fs, true
	}
	for _, val := range vals {
		switch {
		case r.lowercased(val):
			fs = append(fs, f(VerificationCase, []Record{rec}, resp.Evidence, "%s holds a token that looks lowercased: %q", name, val))
		case !r.tokenLike(val) && r.tokenLike(strings.Trim(val, "\"' \t")):
			fs = append(fs, f(VerificationMangled, []Record{rec}, resp.Evidence, "%s holds a token with extra characters: %q", name, val))
		}
	}
	if len(vals) == 0 {
		for _, other := range []struct {
			code Code
			name string
		}{{VerificationAppended, r.verTwice()}, {VerificationNoUnder, r.verNoUnderscore()}} {
			o := v.resp(other.name, dns.TypeTXT)
			if ov := txtValues(o); len(ov) > 0 {
				fs = append(fs, f(other.code, []Record{rec, {Name: other.name, Type: "TXT", Found: ov}}, append(resp.Evidence, o.Evidence...),
					"the verification record is at %s instead of %s", other.name, name))
			}
		}
	}
	return fs, true
}

// verificationToken looks for one instance's token where SES looks, then
// where providers misplace it, and says what it found.
func (r *run) verificationToken(v view, in Instance) ([]*Finding, bool) {
	name := r.verName()
	resp := v.resp(name, dns.TypeTXT)
	if resp == nil || resp.Outcome.Temporary() {
		return nil, false
	}
	vals := txtValues(resp)
	rec := Record{Name: name, Type: "TXT", Expected: in.Token, Found: vals}
	one := func(c Code, others []Record, ev []string, format string, args ...any) ([]*Finding, bool) {
		return []*Finding{{Code: c, Instance: in.Label, Summary: fmt.Sprintf(format, args...),
			Records: append([]Record{rec}, others...), Evidence: append(resp.Evidence, ev...)}}, true
	}
	at := r.match(vals, in.Token)
	if at == exact {
		return one(VerificationOK, nil, nil, "%s holds the token", name)
	}
	apex := v.resp(r.domain, dns.TypeTXT)
	apexVals, apexRec, apexEv := r.near(apex, r.domain, in.Token)
	inApex := r.match(apexVals, in.Token)
	if inApex == exact {
		return one(VerificationAtApex, []Record{apexRec}, apexEv, "the token is on %s itself, without %s", r.domain, r.dns.VerificationPrefix)
	}
	switch at {
	case caseChanged:
		return one(VerificationCase, nil, nil, "%s holds the token with its case changed: %q", name, r.closest(vals, in.Token))
	case mangled:
		return one(VerificationMangled, nil, nil, "%s holds the token with extra characters: %q", name, r.closest(vals, in.Token))
	}
	twiceVals, twiceRec, twiceEv := r.near(v.resp(r.verTwice(), dns.TypeTXT), r.verTwice(), in.Token)
	if r.match(twiceVals, in.Token) != noMatch {
		return one(VerificationAppended, []Record{twiceRec}, twiceEv, "the token is at %s instead of %s", r.verTwice(), name)
	}
	if n := r.verNoUnderscore(); n != "" {
		nuVals, nuRec, nuEv := r.near(v.resp(n, dns.TypeTXT), n, in.Token)
		if r.match(nuVals, in.Token) == exact {
			return one(VerificationNoUnder, []Record{nuRec}, nuEv, "the token is at %s, without the underscore", n)
		}
	}
	switch inApex {
	case caseChanged:
		return one(VerificationCase, []Record{apexRec}, apexEv, "%s holds the token with its case changed: %q", r.domain, r.closest(apexVals, in.Token))
	case mangled:
		return one(VerificationMangled, []Record{apexRec}, apexEv, "%s holds the token with extra characters: %q", r.domain, r.closest(apexVals, in.Token))
	}
	var others []string
	for _, val := range vals {
		if o := r.owner(val); r.tokenLike(val) && !slices.Contains(others, o) {
			others = append(others, o)
		}
	}
	if len(others) > 0 {
		return one(VerificationOther, nil, nil, "%s holds the token(s) of %s, but not this instance's", name, strings.Join(others, " and "))
	}
	if r.dkimComplete(v, in) {
		return one(VerificationNotNeeded, nil, nil, "%s is not published; the three DKIM records verify the domain", name)
	}
	switch {
	case resp.Outcome == dnsclient.NXDomain:
		return one(VerificationMissing, nil, nil, "%s does not exist", name)
	case len(vals) == 0:
		return one(VerificationMissing, nil, nil, "%s has no TXT record", name)
	}
	return one(VerificationMissing, nil, nil, "%s has %d value(s), none of them an SES token", name, len(vals))
}

// near returns the values of a misplaced name, and the record and
// evidence to show when the token is there.
func (r *run) near(resp *dnsclient.Response, name, token string) ([]string, Record, []string) {
	if resp == nil || resp.Outcome.Temporary() {
		return nil, Record{}, nil
	}
	vals := txtValues(resp)
	var shown []string
	for _, v := range vals {
		if r.matchOne(v, token) != noMatch {
			shown = append(shown, v)
		}
	}
	return vals, Record{Name: name, Type: "TXT", Found: shown}, resp.Evidence
}

// closest returns the value that matches token best.
func (r *run) closest(vals []string, token string) string {
	best, at := noMatch, ""
	for _, v := range vals {
		if m := r.matchOne(v, token); m > best {
			best, at = m, v
		}
	}
	return at
}

// owner names the instance a token belongs to, if it is one of ours.
func (r *run) owner(val string) string {
	for _, in := range r.expect {
		if in.Token != "" && r.matchOne(val, in.Token) == exact {
			return in.Label
		}
	}
	return "another account or region"
}
