package plan

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
)

// ServerState is what one server serves of a plan.
type ServerState struct {
	Server    string       `json:"server"`
	Serial    uint32       `json:"serial"`
	AsPlanned int          `json:"as_planned"` // record sets served as planned
	Total     int          `json:"total"`
	Differ    []Difference `json:"differ,omitempty"`
}

// Difference is a record set a server serves otherwise than planned.
type Difference struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Planned []string `json:"planned"`
	Served  []string `json:"served"` // or the failure
}

// ReadBack asks every name server of the plan's zone, and the primary if
// there is one, for every record set of the plan, until all serve it as
// planned or wait has passed: secondaries serve an update only once they
// have transferred it. The states are in server order. A zone the
// resolver cannot find yet (not delegated) is read from the primary
// alone.
func (pl *Planner) ReadBack(ctx context.Context, p *Plan, wait time.Duration) ([]ServerState, error) {
	type server struct {
		cl   *dnsclient.Client
		srv  dnsclient.Server
		desc string
	}
	var servers []server
	z, err := pl.Client.FindZone(ctx, p.Domain)
	switch {
	case err != nil && pl.Primary == nil:
		return nil, fmt.Errorf("%w: %v", ErrRead, err)
	case err != nil || z.Apex != p.Zone:
		z = &dnsclient.Zone{}
	}
	for _, s := range z.Servers {
		servers = append(servers, server{pl.Client, s, serverName(s)})
	}
	if pl.Primary != nil {
		srv, cl, err := pl.Primary.server(ctx, pl.Client)
		if err != nil {
			return nil, err
		}
		dup := cmp.Or(pl.Client.AuthPort, "53") == pl.Primary.Port && slices.ContainsFunc(z.Servers, func(s dnsclient.Server) bool { return s.Addr == srv.Addr })
		if !dup {
			servers = append(servers, server{cl, srv, "primary " + pl.Primary.Addr()})
		}
	}
	deadline := time.Now().Add(wait)
	for {
		states := make([]ServerState, len(servers))
		var wg sync.WaitGroup
		for i, s := range servers {
			wg.Go(func() { states[i] = readServer(ctx, s.cl, s.srv, s.desc, p) })
		}
		wg.Wait()
		done := !slices.ContainsFunc(states, func(s ServerState) bool { return len(s.Differ) > 0 })
		if done || time.Now().After(deadline) || ctx.Err() != nil {
			return states, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func readServer(ctx context.Context, cl *dnsclient.Client, srv dnsclient.Server, desc string, p *Plan) ServerState {
	st := ServerState{Server: desc, Total: len(p.RRsets)}
	if soa := cl.Query(ctx, srv, p.Zone, dns.TypeSOA); soa != nil {
		st.Serial, _ = soa.Serial()
	}
	for _, s := range p.RRsets {
		resp := cl.Query(ctx, srv, s.Name, dns.StringToType[s.Type])
		planned := s.Final()
		slices.Sort(planned)
		var served []string
		if resp.Outcome.Temporary() {
			served = []string{outcome(resp)}
		} else {
			served = answerData(resp)
		}
		if slices.Equal(planned, served) {
			st.AsPlanned++
		} else {
			st.Differ = append(st.Differ, Difference{Name: s.Name, Type: s.Type, Planned: planned, Served: served})
		}
	}
	return st
}

// WriteReadBack writes states for people.
func WriteReadBack(w io.Writer, states []ServerState, o WriteOptions) error {
	ew := &errWriter{w: w}
	ew.printf("read back from every server:\n")
	for _, st := range states {
		ew.printf("  %s (serial %d): %d of %d record sets as planned\n", st.Server, st.Serial, st.AsPlanned, st.Total)
		for _, d := range st.Differ {
			ew.printf("    %s %s: serves %s, planned %s\n", o.name(d.Name), d.Type, quoteAll(d.Served), quoteAll(d.Planned))
		}
	}
	return ew.err
}
