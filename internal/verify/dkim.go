package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	dkimkey "github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/records"
)

// dkim checks the Easy DKIM CNAMEs. SES sets the DKIM status to Success
// only once all three <token>._domainkey.<domain> CNAMEs point to
// <token>.dkim.amazonses.com; each is asked for concurrently.
func (r *run) dkim(ctx context.Context, recs []records.Record) identity.Result {
	if len(recs) == 1 && recs[0].Type == "TXT" { // BYODKIM: the customer's key record
		return r.examine(ctx, r.keyProbe(recs[0])).res
	}
	got := make([]examined, len(recs))
	var wg sync.WaitGroup
	last := len(recs) - 1
	for i, rec := range recs[:last] {
		r.v.workers.Go(&wg, func() { got[i] = r.examine(ctx, r.cnameProbe(rec)) })
	}
	got[last] = r.examine(ctx, r.cnameProbe(recs[last])) // in this goroutine
	wg.Wait()
	return allOf(got)
}

// allOf combines the DKIM records: all found is found; one known to be
// missing is enough to be absent; otherwise nothing is known.
func allOf(got []examined) identity.Result {
	var found int
	var absent, failed *identity.Result
	for i := range got {
		switch res := &got[i].res; res.Outcome {
		case identity.Found:
			found++
		case identity.Absent:
			if absent == nil {
				absent = res
			}
		default:
			if failed == nil {
				failed = res
			}
		}
	}
	res := got[0].res
	switch {
	case found == len(got):
		res.Detail = fmt.Sprintf("All %d DKIM CNAME records found.", len(got))
		var stale []string
		for _, g := range got {
			if g.stale() {
				stale = append(stale, g.res.Detail)
			}
		}
		if len(stale) > 0 {
			res.Detail += " " + strings.Join(stale, " ")
		}
		return res
	case absent != nil:
		res = *absent
	default:
		res = *failed
	}
	res.Detail = fmt.Sprintf("%d of %d DKIM CNAME records found; all are needed. %s", found, len(got), res.Detail)
	return res
}

// cnameProbe looks for one DKIM CNAME. It asks for the CNAME itself, not
// its target's records: the target is SES's, and the question is what the
// customer published.
func (r *run) cnameProbe(rec records.Record) probe {
	name := dns.CanonicalName(rec.Name)
	target := dns.CanonicalName(rec.Value)
	return probe{
		check: "dkim", name: name, qtype: dns.TypeCNAME,
		want:     target,
		expected: name + " CNAME " + target,
		judge: func(_ context.Context, rrs []dns.RR) judgement {
			got := dnsclient.CNAMETargets(rrs)
			return judgement{got: got, match: r.e.MatchDKIM(rec.Token, got).Kind == records.Found}
		},
	}
}

// keyProbe looks for a BYODKIM key record: a TXT at
// <selector>._domainkey.<domain> whose public key is the half of the
// private key the identity signs with, as dkim.MatchSelector judges it.
// Another key there (or one that does not parse) is INVALID_VALUE: the
// check stays Pending and fails when its window runs out, as an absent
// record does.
func (r *run) keyProbe(rec records.Record) probe {
	name := dns.CanonicalName(rec.Name)
	return probe{
		check: "dkim", name: name, qtype: dns.TypeTXT,
		want:     strconv.Quote(rec.Value),
		expected: name + " TXT " + strconv.Quote(rec.Value),
		judge: func(_ context.Context, rrs []dns.RR) judgement {
			vals := dnsclient.TXTValues(rrs)
			v := dkimkey.MatchSelector(vals, rec.Value)
			j := judgement{got: quoteAll(vals), match: v.Kind == records.Found}
			if v.Kind == records.Wrong {
				j.note = keyNote(v)
			}
			return j
		},
	}
}

// keyNote says why a key record at a selector does not do.
func keyNote(v records.Verdict) string {
	switch v.Fault() {
	case records.FaultKeyMismatch:
		return "the key published there is not the public half of the private key given (DomainSigningPrivateKey)"
	case records.FaultKeyRevoked:
		return "the key published there is revoked (empty p=)"
	}
	detail := ""
	if len(v.Problems) > 0 && v.Problems[0].Detail != "" {
		detail = ": " + v.Problems[0].Detail
	}
	return "the DKIM record there holds no usable key" + detail
}
