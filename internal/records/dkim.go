package records

import "strings"

// MatchDKIM judges the CNAME targets served at one Easy DKIM name against
// <token>.<DKIM domain>. SES marks DKIM verified once all three
// <token>._domainkey.<domain> CNAMEs point there (Easy DKIM guide); a
// target is a DNS name, so case does not matter (RFC 4343).
func (e Expect) MatchDKIM(token string, targets []string) Verdict {
	if len(targets) == 0 {
		return Verdict{Kind: Absent}
	}
	want := e.DKIMTarget(token)
	var v Verdict
	for _, t := range targets {
		t = strings.ToLower(strings.TrimSuffix(t, "."))
		if t == want {
			return Verdict{Kind: Found, Value: t}
		}
		v = wrong(e.wrongTarget(t), t)
	}
	return v
}

// wrongTarget says which known mistake a wrong target is.
func (e Expect) wrongTarget(target string) Fault {
	for _, t := range e.DKIMTokens {
		switch target {
		case e.DKIMTarget(t) + "." + e.Domain:
			return FaultTargetAppended
		case e.DKIMTarget(t):
			return FaultTargetSwapped
		}
	}
	return FaultTarget
}
