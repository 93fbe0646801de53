package records

import (
	"slices"
	"strings"
)

// MX is one MX record as served.
type MX struct {
	Pref uint16
	Host string // a null MX (RFC 7505) is "" or "."
}

// MatchMX judges the MX records served at e's MAIL FROM domain. SES's
// MAIL FROM MX "must be the only MX record; more than one makes setup
// fail" (SES's MAIL FROM guide): the MAIL FROM domain must not receive
// mail. That holds for another region's feedback host too: one MAIL FROM
// domain serves one region, and instances in two regions use two MAIL FROM
// domains, one MX each (multi-account guide: "two different records ...
// each pointing to endpoint for specific region", checked with one dig
// per name). SES gives preference 10; any preference works for a single
// MX, so it is not judged.
func (e Expect) MatchMX(mxs []MX) Verdict {
	if len(mxs) == 0 {
		return Verdict{Kind: Absent}
	}
	var ours, others []string
	for _, mx := range mxs {
		h := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if slices.Contains(ours, h) || slices.Contains(others, h) {
			continue // the same record twice is one record (RFC 2181 §5)
		}
		if h == e.MXHost {
			ours = append(ours, h)
		} else {
			others = append(others, h)
		}
	}
	switch {
	case len(ours) > 0 && len(others) == 0:
		return Verdict{Kind: Found, Value: ours[0]}
	case len(ours) > 0:
		v := wrong(FaultNotOnlyMX, ours[0])
		v.Others = others
		return v
	case len(others) > 1:
		v := wrong(FaultNotOnlyMX, others[0])
		v.Others = others[1:]
		return v
	}
	h := others[0]
	switch {
	case h == "":
		return wrong(FaultNullMX, ".")
	case h == e.MXHost+"."+e.Domain:
		return wrong(FaultHostAppended, h)
	}
	if reg := FeedbackRegion(e.mxTemplate, h); reg != "" {
		v := wrong(FaultRegion, h)
		v.Region = reg
		return v
	}
	return wrong(FaultHost, h)
}

// FeedbackRegion returns the region whose MAIL FROM MX host host is under
// the template (feedback-smtp.{region}.amazonses.com), or "".
func FeedbackRegion(template, host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	pre, post, ok := strings.Cut(strings.ToLower(template), "{region}")
	if !ok || !strings.HasPrefix(host, pre) || !strings.HasSuffix(host, post) || len(host) <= len(pre)+len(post) {
		return ""
	}
	reg := host[len(pre) : len(host)-len(post)]
	if strings.Contains(reg, ".") {
		return ""
	}
	return reg
}

// FeedbackRegion is FeedbackRegion under e's settings.
func (e Expect) FeedbackRegion(host string) string { return FeedbackRegion(e.mxTemplate, host) }
