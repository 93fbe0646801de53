package netlimit

import (
	"net"
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Default bounds of a Listener, those of `sesame serve`.
const (
	DefaultMaxConns          = 1024
	DefaultMaxConnsPerClient = 256
)

var (
	refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sesame", Name: "connections_refused_total",
		Help: "Connections closed as soon as accepted, by the limit they met: server (--max-connections) or client (--max-connections-per-ip).",
	}, []string{"limit"})
	open = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "sesame", Name: "connections_open",
		Help: "Connections accepted and not yet closed.",
	})
)

// Collectors are the metrics of this package, for a prometheus.Registry.
func Collectors() []prometheus.Collector { return []prometheus.Collector{refused, open} }

// Listener accepts at most Max connections at once, and at most PerClient
// from one client (see Client). A connection past either is closed as
// soon as it is accepted, and Accept goes on to the next: a flood of
// connections costs the server a file descriptor for a moment each,
// never a goroutine and buffers, and does not wait in a queue that
// clients within their share would wait in too (as x/net/netutil's
// LimitListener, which stops accepting, would make them).
type Listener struct {
	net.Listener
	Max, PerClient int

	mu      sync.Mutex
	n       int
	clients map[netip.Prefix]int
}

// Limit wraps ln; zero bounds take the defaults.
func Limit(ln net.Listener, max, perClient int) *Listener {
	if max <= 0 {
		max = DefaultMaxConns
	}
	if perClient <= 0 {
		perClient = DefaultMaxConnsPerClient
	}
	return &Listener{Listener: ln, Max: max, PerClient: perClient, clients: make(map[netip.Prefix]int)}
}

// Accept returns the next connection within the bounds.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := Client(c.RemoteAddr().String())
		if limit := l.admit(client); limit != "" {
			refused.WithLabelValues(limit).Inc()
			c.Close()
			continue
		}
		open.Inc()
		return &conn{Conn: c, l: l, client: client}, nil
	}
}

// Open is the number of connections accepted and not yet closed.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *Listener) admit(client netip.Prefix) (limit string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.n >= l.Max:
		return "server"
	case l.clients[client] >= l.PerClient:
		return "client"
	}
	l.n++
	l.clients[client]++
	return ""
}

func (l *Listener) release(client netip.Prefix) {
	open.Dec()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
}

// conn gives its place back when closed (once, however often Close is
// called).
type conn struct {
	net.Conn
	l      *Listener
	client netip.Prefix
	once   sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.client) })
	return err
}

// CloseWrite lets net/http half-close a TCP connection, as it does
// before closing one whose request it refused, so that the client reads
// the reply rather than a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
