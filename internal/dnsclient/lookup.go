package dnsclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// Lookup answers the lookups that judging an SPF record needs
// (records.SPFLookup) from each name's own authoritative servers, as the
// verifier and plan ask: the first server with an answer that says
// something decides. It keeps no evidence.
type Lookup struct{ Client *Client }

// SPFTXT returns the TXT values at name; exists is false when the name
// does not exist or has no TXT record.
func (l Lookup) SPFTXT(ctx context.Context, name string) ([]string, bool, error) {
	resp, err := l.first(ctx, name, dns.TypeTXT)
	if err != nil || resp == nil {
		return nil, false, err
	}
	vals := TXTValues(resp.Answer)
	return vals, len(vals) > 0, nil
}

// SPFHas reports whether name has records of type rrtype.
func (l Lookup) SPFHas(ctx context.Context, name, rrtype string) (bool, error) {
	resp, err := l.first(ctx, name, dns.StringToType[rrtype])
	return resp != nil && len(resp.Answer) > 0, err
}

// first returns the first answer that says something about name and
// qtype: records, NODATA or NXDOMAIN; nil, nil when no zone holds name.
func (l Lookup) first(ctx context.Context, name string, qtype uint16) (*Response, error) {
	z, err := l.Client.FindZoneNoEvidence(ctx, name)
	switch {
	case errors.Is(err, ErrNoZone):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var last *Response
	for _, resp := range l.Client.QueryAllNoEvidence(ctx, z, name, qtype) {
		if !resp.Outcome.Temporary() && resp.Outcome != Loop {
			return resp, nil
		}
		last = resp
	}
	if last == nil {
		return nil, fmt.Errorf("no name server of %s answered", z.Apex)
	}
	if last.Err != nil {
		return nil, fmt.Errorf("%s: %w", last.Outcome, last.Err)
	}
	return nil, errors.New(last.Outcome.String())
}
