package records

import "regexp"

// DMARC is the purpose of a domain's DMARC record, which SES's DMARC
// guide asks for beside its own records.
const DMARC Purpose = "dmarc"

// DMARCName is where a domain's DMARC record lives (RFC 7489 §6.1).
func DMARCName(domain string) string { return "_dmarc." + domain }

// dmarcVersion selects DMARC records: those that start with the version
// tag (RFC 7489 §6.6.3); the rest of a TXT record set is ignored.
var dmarcVersion = regexp.MustCompile(`(?i)^\s*v\s*=\s*DMARC1\s*(;|$)`)

// DMARCRecords returns the values that are DMARC records (RFC 7489
// §6.6.3).
func DMARCRecords(vals []string) []string {
	var out []string
	for _, v := range vals {
		if dmarcVersion.MatchString(v) {
			out = append(out, v)
		}
	}
	return out
}
