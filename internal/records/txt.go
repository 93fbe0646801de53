package records

import "strings"

// MatchToken judges the TXT values served at a verification name against
// e's token. SES verifies "when it detects a verification record for which
// the attribute value exactly matches the value that Amazon SES provided"
// (troubleshooting guide), so the token must match exactly, case included:
// a lowercased token is Wrong with FaultCase. The value may start with the
// optional prefix "amazonses:" (multi-account guide: "you can optionally
// prefix the Value"); SES is silent on the prefix's case, and Sesame
// accepts it in any case, as it does the names of DNS and SPF ("v=spf1"):
// only the token is SES's secret. Several values may share the name: the
// best of them decides.
func (e Expect) MatchToken(vals []string) Verdict {
	best := Verdict{Kind: Absent}
	rank := func(v Verdict) int {
		switch {
		case v.Kind == Found:
			return 4
		case v.Has(FaultCase):
			return 3
		case v.Has(FaultMangled):
			return 2
		case v.Kind == Wrong:
			return 1
		}
		return 0
	}
	for _, v := range vals {
		if got := e.matchToken(v); rank(got) > rank(best) {
			best = got
		}
	}
	return best
}

func (e Expect) matchToken(v string) Verdict {
	t := e.StripPrefix(v)
	switch {
	case e.Token == "":
		return wrong(FaultNotToken, v)
	case t == e.Token:
		return Verdict{Kind: Found, Value: v}
	case strings.EqualFold(t, e.Token):
		return wrong(FaultCase, v)
	case strings.Contains(strings.ToLower(v), strings.ToLower(e.Token)):
		return wrong(FaultMangled, v)
	}
	return wrong(FaultNotToken, v)
}

// StripPrefix returns v without the optional value prefix, in any case.
func (e Expect) StripPrefix(v string) string {
	p := e.ValuePrefix
	if p != "" && len(v) >= len(p) && strings.EqualFold(v[:len(p)], p) {
		return v[len(p):]
	}
	return v
}

// IsOwnToken reports whether v is e's token, exactly or in another case:
// a value the identity owns, as opposed to another instance's.
func (e Expect) IsOwnToken(v string) bool {
	return e.Token != "" && strings.EqualFold(e.StripPrefix(v), e.Token)
}

// TokenLike reports whether v looks like an SES verification value: 32
// bytes of standard base64 (44 characters ending in "="), optionally
// after the value prefix.
func (e Expect) TokenLike(v string) bool {
	t := e.StripPrefix(v)
	if len(t) != 44 || t[43] != '=' {
		return false
	}
	for _, c := range []byte(t[:43]) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// Lowercased reports a token-like value without capitals: of 43 random
// base64 characters about 17 are capitals, so none at all means a
// provider lowercased it.
func (e Expect) Lowercased(v string) bool {
	t := e.StripPrefix(v)
	return e.TokenLike(v) && strings.ToLower(t) == t && strings.ContainsAny(t, "abcdefghijklmnopqrstuvwxyz")
}
