package mail

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/smtptest"
)

// writeCounter is a TCP connection that records the size of each write
// made on it.
type writeCounter struct {
	net.Conn
	writes []int
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return c.Conn.Write(p)
}

// TestBatchConn: through a batchConn, go-smtp sends each command in one
// write and a message with its final dot in one more (a 10 KB message
// went in three before), a message larger than maxBatch in writes of at
// most maxBatch, and the server receives every message as it was
// (dot-stuffing included).
func TestBatchConn(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{Plain: true})
	tcp, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	wc := &writeCounter{Conn: tcp}
	c := smtp.NewClient(&batchConn{Conn: wc})
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	small := "Subject: s\r\n\r\n" + strings.Repeat(".a line that starts with a dot\r\n", 330) // 10 KB
	large := "Subject: l\r\n\r\n" + strings.Repeat(strings.Repeat("y", 998)+"\r\n", 200)      // 200 KB
	for _, msg := range []string{small, large} {
		if err := c.Mail("a@example.com", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("b@example.org", nil); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		before := len(wc.writes)
		if _, err := w.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		writes := wc.writes[before:]
		if msg == small && len(writes) != 1 {
			t.Errorf("a %d-byte message went in %d writes %v, want 1", len(msg), len(writes), writes)
		}
		for _, n := range writes {
			if n > maxBatch {
				t.Errorf("a write of %d bytes, more than maxBatch (%d)", n, maxBatch)
			}
		}
		if got := srv.Next(t); !bytes.Equal(got.Data, []byte(msg)) {
			t.Errorf("the server received %d bytes, want the %d sent (%.40q...)", len(got.Data), len(msg), got.Data)
		}
	}
	// MAIL, RCPT and DATA: one write each, and the greeting's EHLO one.
	if len(wc.writes) > 1+2*(3+1)+4 {
		t.Errorf("%d writes in all: %v", len(wc.writes), wc.writes)
	}
}
