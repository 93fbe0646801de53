package mail

import "net"

// batchConn holds what is written to a relay until the client reads its
// answer, and sends it then in one write: go-smtp writes a message through
// a 4 KB buffer, so a 10 KB message went out in three writes (each a system
// call, a segment and a wake-up of the server), and now in one with its
// final dot. SMTP without PIPELINING always reads after what it wrote, so
// nothing waits longer than the client's next read; maxBatch bounds the
// memory held for a large message. Unlike a net.Conn, not for a Read
// and a Write at once (the relay never does both). Close, which may come
// from another goroutine (a delivery's context ending), closes without
// sending what is held: at most TLS's close_notify, written as a
// tls.Conn closes, which SMTP does not need once QUIT is answered.
type batchConn struct {
	net.Conn
	buf []byte
}

// maxBatch is the most a batchConn holds; more is written at once.
const maxBatch = 64 << 10

func (c *batchConn) Write(p []byte) (int, error) {
	if len(c.buf)+len(p) > maxBatch {
		if err := c.flush(); err != nil {
			return 0, err
		}
		if len(p) > maxBatch {
			return c.Conn.Write(p)
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *batchConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *batchConn) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
