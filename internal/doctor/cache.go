package doctor

import (
	"context"
	"errors"
	"sync"

	"github.com/sesame/sesame/internal/dnsclient"
)

// cache keeps what is shared between diagnoses: the zones of names outside
// the domain checked, and the answers SPF evaluation looks up. In a batch
// of domains that all include amazonses.com, that record is asked once.
// Temporary failures are not kept.
type cache struct {
	mu      sync.Mutex
	zones   map[string]*dnsclient.Zone
	answers map[qkey]*dnsclient.Response
}

func (c *cache) findZone(ctx context.Context, cl *dnsclient.Client, name string) (*dnsclient.Zone, error) {
	name = key(name, 0).name
	c.mu.Lock()
	z := c.zones[name]
	c.mu.Unlock()
	if z != nil {
		return z, nil
	}
	z, err := cl.FindZone(ctx, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.zones == nil {
		c.zones = map[string]*dnsclient.Zone{}
	}
	c.zones[name] = z
	c.mu.Unlock()
	return z, nil
}

// lookup asks the servers of name's zone in turn until one says something
// about q: the authoritative answer, as the rest of the doctor uses, rather
// than a resolver's cached copy.
func (c *cache) lookup(ctx context.Context, cl *dnsclient.Client, q qkey) *dnsclient.Response {
	c.mu.Lock()
	resp := c.answers[q]
	c.mu.Unlock()
	if resp != nil {
		return resp
	}
	z, err := c.findZone(ctx, cl, q.name)
	if err != nil {
		return failed(q, err)
	}
	for _, srv := range z.Servers {
		resp = cl.Query(ctx, srv, q.name, q.qtype)
		if !resp.Outcome.Temporary() {
			break
		}
	}
	if resp.Outcome.Temporary() {
		return resp
	}
	c.mu.Lock()
	if c.answers == nil {
		c.answers = map[qkey]*dnsclient.Response{}
	}
	c.answers[q] = resp
	c.mu.Unlock()
	return resp
}

// failed turns a FindZone error into a response: no zone means the name
// does not exist; anything else is temporary.
func failed(q qkey, err error) *dnsclient.Response {
	resp := &dnsclient.Response{Name: q.name, Qtype: q.qtype, Err: err, Outcome: dnsclient.ServFail}
	switch {
	case errors.Is(err, dnsclient.ErrNoZone):
		resp.Outcome = dnsclient.NXDomain
	case errors.Is(err, dnsclient.ErrNoServers):
		resp.Outcome = dnsclient.Lame
	}
	return resp
}
