// Package dnsclient asks a domain's own authoritative name servers for its
// records, as SES's troubleshooting guide tells a person to do with
// nslookup: find the servers of the domain's zone through a recursive
// resolver (FindZone), then query each of them directly without recursion
// (Query, QueryAll). Their answer is the zone's current data, not a copy
// cached before the customer published a record.
//
// Every outcome is classified (Outcome) so that callers can tell "the
// record is not there" (NXDomain, NoData) from "we could not find out"
// (Outcome.Temporary), and each Response carries dig commands a person can
// run to see the same thing.
package dnsclient

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// Defaults for the zero values of Client's fields.
const (
	DefaultTimeout   = 2 * time.Second
	DefaultBudget    = 10 * time.Second
	DefaultRetries   = 2
	DefaultRateLimit = 50
)

// MaxCNAMEs is the longest CNAME chain followed.
const MaxCNAMEs = 8

// udpSize is the EDNS0 payload size advertised (RFC 6891 §6.2.5), the one
// DNS Flag Day 2020 settled on to avoid IP fragmentation.
const udpSize = 1232

// resolvConf is where the default resolver is read from.
var resolvConf = "/etc/resolv.conf"

// A Client looks up zones and queries their servers. The zero value is
// ready to use; fields must not change once it is in use, and a Client must
// not be copied after first use. It is safe for concurrent use.
type Client struct {
	// Resolver is the ip:port of the recursive resolver used to find zones
	// and name server addresses. "" means the first nameserver of
	// /etc/resolv.conf.
	Resolver string
	// AuthPort is the port of the authoritative servers; "" means 53.
	AuthPort string
	// Timeout bounds one query attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Budget bounds one lookup: FindZone, or Query with its retries, TCP
	// fallback and CNAME following; 0 means DefaultBudget.
	Budget time.Duration
	// Retries is how many more times a server is asked after a timeout, a
	// network error or a reply that does not match the query; 0 means
	// DefaultRetries, a negative value none.
	Retries int
	// RateLimit is the most queries per second sent to one authoritative
	// server address, shared by all lookups of the Client, so that we never
	// flood anyone's DNS; 0 means DefaultRateLimit. The recursive resolver
	// is not limited.
	RateLimit float64
	// Sharers, if set, says how many processes (replicas) send queries
	// under the same RateLimit, so that together they keep to it: each
	// keeps to RateLimit / Sharers(). nil is this process alone.
	Sharers func() int

	mu       sync.Mutex
	limiters map[netip.AddrPort]*rate.Limiter
	conns    connPool

	// now and sleep, if set, replace the rate limiter's clock (tests).
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

func (c *Client) timeout() time.Duration { return cmp.Or(c.Timeout, DefaultTimeout) }
func (c *Client) budget() time.Duration  { return cmp.Or(c.Budget, DefaultBudget) }

// A lookup is one Query or FindZone: the caller's context and the end of
// the lookup's budget. The budget is a deadline, not a context of its own,
// which would cost a timer per query.
type lookup struct {
	ctx      context.Context
	deadline time.Time // the end of the budget, or ctx's deadline if sooner
	cd       bool      // set the CD (checking disabled) bit of queries
	quiet    bool      // keep no Response.Evidence
}

func (c *Client) newLookup(ctx context.Context) lookup {
	l := lookup{ctx: ctx, deadline: time.Now().Add(c.budget())}
	if d, ok := ctx.Deadline(); ok && d.Before(l.deadline) {
		l.deadline = d
	}
	return l
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// err is ctx's error, or DeadlineExceeded once the budget is spent.
func (l lookup) err() error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	if !time.Now().Before(l.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *Client) retries() int {
	if c.Retries == 0 {
		return DefaultRetries
	}
	return max(c.Retries, 0)
}

// resolver returns the recursive resolver's address.
func (c *Client) resolver() (netip.AddrPort, error) {
	addr := c.Resolver
	if addr == "" {
		conf, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("no resolver set and %s unreadable: %w", resolvConf, err)
		}
		if len(conf.Servers) == 0 {
			return netip.AddrPort{}, fmt.Errorf("no resolver set and no nameserver in %s", resolvConf)
		}
		addr = net.JoinHostPort(conf.Servers[0], conf.Port)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		if ip, err2 := netip.ParseAddr(addr); err2 == nil {
			return netip.AddrPortFrom(ip, 53), nil
		}
		return netip.AddrPort{}, fmt.Errorf("resolver %q: want ip:port: %w", addr, err)
	}
	return ap, nil
}

// authAddr returns where to send queries for srv.
func (c *Client) authAddr(srv Server) (netip.AddrPort, error) {
	port, err := strconv.ParseUint(cmp.Or(c.AuthPort, "53"), 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("auth port %q: %w", c.AuthPort, err)
	}
	return netip.AddrPortFrom(srv.Addr.Unmap(), uint16(port)), nil
}
