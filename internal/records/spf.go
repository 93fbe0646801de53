package records

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// SPFLookup is what judging an SPF record needs from the DNS: the TXT
// values of an include's or a redirect's target, and whether the names
// that a, mx and exists mechanisms ask about exist, to count the lookups
// that find nothing (RFC 7208 §4.6.4). Callers ask authoritative servers
// (the verifier, plan) or their cache of them (the doctor); records does
// no I/O itself.
type SPFLookup interface {
	// SPFTXT returns the TXT values at name; exists is false for
	// NXDOMAIN or NODATA. An error is a temporary failure.
	SPFTXT(ctx context.Context, name string) (vals []string, exists bool, err error)
	// SPFHas reports whether name has records of type rrtype ("A",
	// "AAAA" or "MX"). An error is a temporary failure.
	SPFHas(ctx context.Context, name, rrtype string) (bool, error)
}

// The limits of RFC 7208 §4.6.4.
const (
	MaxSPFLookups     = 10
	MaxSPFVoidLookups = 2
)

// SPFReport is the judgement of one SPF record over the whole record:
// every include and redirect followed, as a receiver of mail from any
// host, SES's or not, would need them. The count does not depend on the
// address evaluated, and every fault is reported, not only the first.
type SPFReport struct {
	// Authorises says a passing include (or the redirect) of SES's SPF
	// domain is reached, directly or through nested includes, before any
	// all mechanism.
	Authorises bool
	Lookups    int // DNS lookups: include, a, mx, ptr, exists, redirect
	Void       int // lookups among them that found nothing
	Problems   []Problem
}

// spfProbes are the addresses "pass-all" is judged for: TEST-NET-1 and
// the IPv6 documentation prefix (RFC 5737, RFC 3849), from which nobody
// sends. A record whose ip4 or ip6 ranges take one in authorises (nearly)
// anyone.
var spfProbes = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}

// maxSPFFetches bounds the records fetched for one judgement, loops
// included: past the lookup limit, the count is already an error.
const maxSPFFetches = 2 * MaxSPFLookups

// AnalyseSPF judges record, the SPF record of domain. include is SES's SPF
// domain (amazonses.com): its own record is SES's to keep within the
// limits, so it counts as one lookup and is not fetched (it holds ip4
// ranges only). l may be nil: includes and redirects are then counted but
// not followed, and no lookup is judged void.
func AnalyseSPF(ctx context.Context, domain, record, include string, l SPFLookup) SPFReport {
	w := &spfWalk{ctx: ctx, include: bareLower(include), l: l}
	var rep SPFReport
	w.top = bareLower(domain)
	rep.Authorises = w.walk(w.top, record, 0, true)
	rep.Lookups, rep.Void, rep.Problems = w.lookups, w.void, w.problems
	if w.lookups > MaxSPFLookups {
		rep.Problems = append(rep.Problems, Problem{FaultTooManyLookups, fmt.Sprintf("%d lookups", w.lookups)})
	}
	if w.void > MaxSPFVoidLookups {
		rep.Problems = append(rep.Problems, Problem{FaultTooManyVoid, fmt.Sprintf("%d lookups find nothing", w.void)})
	}
	return rep
}

type spfFetched struct {
	vals   []string
	exists bool
	err    error
}

type spfWalk struct {
	ctx      context.Context
	include  string
	l        SPFLookup
	top      string                // the domain judged
	path     map[string]bool       // the includes being followed below it, against loops
	cache    map[string]spfFetched // each name is asked once
	fetches  int
	lookups  int
	void     int
	problems []Problem
}

func (w *spfWalk) problem(f Fault, format string, args ...any) {
	p := Problem{Fault: f, Detail: fmt.Sprintf(format, args...)}
	if !slices.Contains(w.problems, p) {
		w.problems = append(w.problems, p)
	}
}

// walk judges the record of domain and reports whether it authorises
// SES. top says it is the record under judgement, whose own all decides
// pass-all.
func (w *spfWalk) walk(domain, record string, depth int, top bool) bool {
	terms := strings.Fields(record)
	if len(terms) == 0 || !strings.EqualFold(terms[0], "v=spf1") {
		w.problem(FaultBrokenInclude, "%s has no SPF record", domain)
		return false
	}
	authorises := false
	redirect := ""
	seenMod := map[string]bool{}
	for _, term := range terms[1:] {
		if !spfTerm.MatchString(term) {
			w.problem(FaultSyntax, "%q in the record of %s is not an SPF term", term, domain)
			continue
		}
		lt := strings.ToLower(term)
		if name, value, ok := strings.Cut(lt, "="); ok && !strings.ContainsAny(name, ":/") {
			switch {
			case (name == "redirect" || name == "exp") && seenMod[name]:
				// RFC 7208 §6: each may appear once; twice is a
				// permanent error.
				w.problem(FaultSyntax, "%s= appears twice in the record of %s", name, domain)
			case name == "redirect":
				redirect = value
			}
			seenMod[name] = true
			continue // exp= and unknown modifiers cost no lookup (§6)
		}
		qual := byte('+')
		if strings.ContainsRune("+-~?", rune(lt[0])) {
			qual, lt = lt[0], lt[1:]
		}
		mech, arg, _ := strings.Cut(lt, ":")
		if i := strings.IndexByte(mech, '/'); i >= 0 {
			mech = mech[:i]
		}
		if i := strings.IndexByte(arg, '/'); i >= 0 && mech != "ip4" && mech != "ip6" {
			arg = arg[:i]
		}
		switch mech {
		case "all":
			if top && qual == '+' {
				w.problem(FaultPassAll, "%q", term)
			}
			// Terms after all are never evaluated, and redirect is
			// ignored when there is an all (RFC 7208 §5.1, §6.1).
			return authorises
		case "ip4", "ip6":
			p, err := netip.ParsePrefix(withBits(arg))
			if err != nil || p.Addr().Is4() != (mech == "ip4") {
				w.problem(FaultSyntax, "%q in the record of %s is not an %s network", term, domain, mech)
				continue
			}
			for _, probe := range spfProbes {
				if qual == '+' && top && p.Contains(probe) {
					w.problem(FaultPassAll, "%q takes in %s, from which nobody sends", term, probe)
				}
			}
		case "include":
			w.lookups++
			if w.follow(arg, depth, "include") && qual == '+' {
				authorises = true
			}
		case "a", "mx", "exists":
			w.lookups++
			target := cmpOr(arg, domain)
			if w.l != nil && !strings.Contains(target, "%") && w.lookups <= MaxSPFLookups {
				void, err := w.voidLookup(target, mech)
				switch {
				case err != nil:
					w.problem(FaultLookupFailed, "%s of %s: %v", mech, target, err)
				case void:
					w.void++
				}
			}
		case "ptr":
			w.lookups++
		}
	}
	if redirect != "" {
		w.lookups++
		if w.follow(redirect, depth, "redirect") {
			authorises = true
		}
	}
	return authorises
}

// voidLookup reports whether the lookup mechanism makes at name finds
// nothing: a asks for A and AAAA (RFC 7208 §5.3), mx for MX (§5.4),
// exists for A (§5.7).
func (w *spfWalk) voidLookup(name, mechanism string) (bool, error) {
	types := []string{"A"}
	switch mechanism {
	case "a":
		types = []string{"A", "AAAA"}
	case "mx":
		types = []string{"MX"}
	}
	for _, t := range types {
		has, err := w.l.SPFHas(w.ctx, name, t)
		if err != nil || has {
			return false, err
		}
	}
	return true, nil
}

// follow judges the record an include or a redirect names, and reports
// whether it authorises SES.
func (w *spfWalk) follow(target string, depth int, how string) bool {
	target = bareLower(target)
	if target == w.include {
		return true
	}
	if target == w.top || w.path[target] {
		// A receiver follows the loop until the lookup limit stops it:
		// a permanent error (RFC 7208 §4.6.4), whatever the count so far.
		w.problem(FaultTooManyLookups, "%s:%s loops back to a record that includes it", how, target)
		return false
	}
	if w.l == nil || strings.Contains(target, "%") || w.fetches >= maxSPFFetches || depth >= MaxSPFLookups {
		return false
	}
	// A receiver evaluates an include each time it is reached, so one
	// included twice counts twice; only a loop is cut.
	if w.cache == nil {
		w.path, w.cache = map[string]bool{}, map[string]spfFetched{}
	}
	w.path[target] = true
	defer delete(w.path, target)
	w.fetches++
	got, ok := w.cache[target]
	if !ok {
		got.vals, got.exists, got.err = w.l.SPFTXT(w.ctx, target)
		w.cache[target] = got
	}
	vals, exists, err := got.vals, got.exists, got.err
	if err != nil {
		w.problem(FaultLookupFailed, "%s:%s: %v", how, target, err)
		return false
	}
	if !exists {
		w.void++
	}
	switch recs := SPFRecords(vals); len(recs) {
	case 0:
		// A permanent error: include needs a record to evaluate (§5.2),
		// and so does redirect (§6.1).
		w.problem(FaultBrokenInclude, "%s:%s has no SPF record", how, target)
	case 1:
		return w.walk(target, recs[0], depth+1, false)
	default:
		w.problem(FaultBrokenInclude, "%s:%s has %d SPF records", how, target, len(recs))
	}
	return false
}

// withBits gives an ip4 or ip6 argument without a prefix length its
// full length.
func withBits(arg string) string {
	if strings.Contains(arg, "/") {
		return arg
	}
	if strings.Contains(arg, ":") {
		return arg + "/128"
	}
	return arg + "/32"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func bareLower(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// SPFRecords returns the values that are SPF records (RFC 7208 §4.5): the
// version, in any case, alone or followed by a space.
func SPFRecords(vals []string) []string {
	var out []string
	for _, v := range vals {
		l := strings.ToLower(v)
		if l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ") {
			out = append(out, v)
		}
	}
	return out
}

// SPFWithInclude returns rec with include:<include> added before its final
// all, where it takes effect.
func SPFWithInclude(rec, include string) string {
	terms := strings.Fields(rec)
	at := len(terms)
	for i, t := range terms {
		if strings.TrimLeft(strings.ToLower(t), "+-~?") == "all" {
			at = i
			break
		}
	}
	return strings.Join(slices.Insert(terms, at, "include:"+include), " ")
}

// SPFTerm reports whether t is one well-formed SPF term.
func SPFTerm(t string) bool { return spfTerm.MatchString(t) }

// spfTerm matches one well-formed SPF term (RFC 7208 §12): a mechanism
// with an optional qualifier, or a modifier. Domains must end in a label
// of letters, digits and hyphens, or in a macro.
var spfTerm = regexp.MustCompile(`(?i)^(v=spf1|[+?~-]?(all|ip4:[0-9./]+|ip6:[0-9a-f:./]+|(a|mx)(:` + spfDomain + `)?(/\d+)?(//\d+)?|ptr(:` + spfDomain + `)?|(include|exists):` + spfDomain + `)|[a-z][a-z0-9._-]*=\S*)$`)

const spfDomain = `[^\s/]*(\.[a-z0-9-]*[a-z][a-z0-9-]*\.?|%\{[^}]*\}|%[%_-])`

// MatchSPF judges the TXT values of e's MAIL FROM domain: one SPF record
// that authorises SES and that receivers can evaluate. SES does not make
// the MAIL FROM status depend on it, but without it mail fails SPF, and so
// DMARC alignment through SPF. Found carries the problems that do not stop
// SES's mail from passing (pass-all); a lookup that failed for now makes
// the verdict TempFail.
func (e Expect) MatchSPF(ctx context.Context, vals []string, l SPFLookup) (Verdict, SPFReport) {
	recs := SPFRecords(vals)
	switch len(recs) {
	case 0:
		return Verdict{Kind: Absent, Problems: []Problem{{Fault: FaultNoSPF}}}, SPFReport{}
	case 1:
	default:
		v := wrong(FaultMultipleSPF, recs[0])
		v.Others = recs[1:]
		return v, SPFReport{}
	}
	rep := AnalyseSPF(ctx, e.MailFrom, recs[0], e.SPFInclude, l)
	v := Verdict{Kind: Found, Value: recs[0], Problems: rep.Problems, Lookups: rep.Lookups}
	if !rep.Authorises {
		v.Problems = append([]Problem{{Fault: FaultNoInclude, Detail: "include:" + e.SPFInclude}}, v.Problems...)
	}
	for _, p := range v.Problems {
		switch p.Fault {
		case FaultPassAll:
		case FaultLookupFailed:
			if v.Kind == Found {
				v.Kind = TempFail
			}
		default:
			v.Kind = Wrong
		}
	}
	return v, rep
}
