package doctor

import (
	"context"
	"errors"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
)

// spfResolver answers the lookups of records.AnalyseSPF through the
// doctor's cache of authoritative answers, so that an include shared by
// several records (or runs of a batch) is asked once.
type spfResolver struct{ d *Doctor }

func (s *spfResolver) lookup(ctx context.Context, name string, qtype uint16) (*dnsclient.Response, error) {
	resp := s.d.cache.lookup(ctx, s.d.Client, key(name, qtype))
	if resp.Outcome.Temporary() || resp.Outcome == dnsclient.Loop {
		// The outcome, not the error text: that names local ports,
		// which change from run to run.
		return nil, errors.New(outcomeText[resp.Outcome] + " from " + serverID(resp.Server))
	}
	return resp, nil
}

var outcomeText = map[dnsclient.Outcome]string{
	dnsclient.ServFail: "server failure (SERVFAIL)",
	dnsclient.Refused:  "query refused",
	dnsclient.Timeout:  "timed out",
	dnsclient.NetError: "network error",
	dnsclient.Lame:     "answer without authority",
	dnsclient.Loop:     "CNAME loop",
}

func (s *spfResolver) SPFTXT(ctx context.Context, name string) ([]string, bool, error) {
	resp, err := s.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, false, err
	}
	vals := txtValues(resp)
	return vals, len(vals) > 0, nil
}

func (s *spfResolver) SPFHas(ctx context.Context, name, rrtype string) (bool, error) {
	resp, err := s.lookup(ctx, name, dns.StringToType[rrtype])
	return err == nil && len(resp.Answer) > 0, err
}
