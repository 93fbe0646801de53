package doctor

import (
	"context"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dnsclient"
)

// The record parsing the checks use, exported for `sesame plan`, which
// must read records exactly as the doctor judges them.

// TXTValues returns the value of each TXT record of resp: its strings
// joined without separator (RFC 7208 §3.3), unescaped.
func TXTValues(resp *dnsclient.Response) []string { return txtValues(resp) }

// TXTText returns the value of one TXT record, as TXTValues does.
func TXTText(t *dns.TXT) string {
	return strings.Join(txtStrings(t), "")
}

// SPFRecords returns the values that are SPF records (RFC 7208 §4.5).
func SPFRecords(vals []string) []string { return spfRecords(vals) }

// SPFIncludes reports whether the SPF record rec authorises include's
// hosts, by an include or a redirect.
func SPFIncludes(rec, include string) bool { return includes(rec, include) }

// SPFWithInclude returns rec with include:<include> added before its
// final all, where it takes effect.
func SPFWithInclude(rec, include string) string { return withInclude(rec, include) }

// DMARCRecords returns the values that are DMARC records (RFC 7489
// §6.6.3).
func DMARCRecords(vals []string) []string { return dmarcRecords(vals) }

// FeedbackRegion returns the region of host when it is the MAIL FROM MX
// host of some region under d's template, else "".
func FeedbackRegion(d config.DNS, host string) string {
	return (&run{dns: d}).mxRegion(strings.ToLower(bare(host)))
}

// EvalSPF evaluates record as the SPF record of domain, as a receiver
// would for a sender that it does not list, so that every mechanism is
// looked up: errors.Is(err, spf.ErrLookupLimitReached) then means the
// record needs more than 10 DNS lookups (RFC 7208 §4.6.4). Other names
// are read from their authoritative servers through d.Client; opts
// come after those settings.
func (d *Doctor) EvalSPF(ctx context.Context, domain, record string, opts ...spf.Option) (spf.Result, error) {
	res := &spfResolver{d: d, domain: dns.CanonicalName(domain), record: record}
	opts = append([]spf.Option{spf.WithResolver(res), spf.WithContext(ctx)}, opts...)
	return spf.CheckHostWithSender(probeIP, domain, "postmaster@"+domain, opts...)
}
