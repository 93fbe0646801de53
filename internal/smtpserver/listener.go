package smtpserver

import (
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/auth/throttle"
)

// listener bounds the connections of each client and of all, and times
// every read of the connections it accepts.
type listener struct {
	net.Listener
	s   *Server
	tls *tls.Config // implicit TLS, or nil
}

// tooMany is SES's reply to a client over its share.
const tooMany = "421 Too many concurrent SMTP connections\r\n"

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := throttle.Client(c.RemoteAddr().String())
		now := l.s.now()
		tc := &timedConn{Conn: c, idle: l.s.opts.IdleTimeout, end: now.Add(l.s.opts.Lifetime), now: l.s.now}
		var conn net.Conn = tc
		if l.tls != nil {
			conn = tls.Server(tc, l.tls)
		}
		if !l.s.conns.add(client, l.s.opts.ConnsPerClient, l.s.opts.Conns) {
			l.s.log.Info("smtp connection refused: too many", "remote", c.RemoteAddr().String())
			// Answered aside: the TLS handshake of an implicit-TLS
			// connection must not hold up Accept.
			go func() {
				c.SetDeadline(now.Add(10 * time.Second))
				conn.Write([]byte(tooMany))
				conn.Close()
			}()
			continue
		}
		tc.release = func() { l.s.conns.remove(client) }
		return conn, nil
	}
}

// timedConn gives every read a deadline: the idle timeout from now, never
// past the connection's end. go-smtp's own ReadTimeout would be set once
// per command, so a long DATA would time out however steadily it came.
type timedConn struct {
	net.Conn
	idle    time.Duration
	end     time.Time
	now     func() time.Time
	once    sync.Once
	release func()
}

func (c *timedConn) Read(p []byte) (int, error) {
	d := c.now().Add(c.idle)
	if d.After(c.end) {
		d = c.end
	}
	c.Conn.SetReadDeadline(d)
	return c.Conn.Read(p)
}

// SetReadDeadline is go-smtp's, and tls's during the handshake: the
// deadline of each read is ours.
func (c *timedConn) SetReadDeadline(time.Time) error { return nil }

func (c *timedConn) Close() error {
	c.once.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
	return c.Conn.Close()
}

// counter counts open connections per client.
type counter struct {
	mu    sync.Mutex
	n     map[string]int
	total int
}

func (c *counter) add(client string, perClient, all int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.total >= all || c.n[client] >= perClient {
		return false
	}
	c.n[client]++
	c.total++
	return true
}

func (c *counter) remove(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.n[client]--; c.n[client] <= 0 {
		delete(c.n, client)
	}
}
