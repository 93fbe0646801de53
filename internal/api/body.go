package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/sesame/sesame/internal/netlimit"
)

// readBody reads the body of a request whose signer's key is known (its
// signature, which covers the body's hash, is checked after). The first
// Limits.Body bytes are read; a longer body is read on, up to
// Limits.TemplateBody, only if large says so of those first bytes (v2
// knows the operation from its path, v1 finds the Action among them).
// The body's buffer grows with the bytes that arrive, each growth first
// charged to the server's budget of body memory (see budget: per key and
// per client for small bodies), never up front from Content-Length; one
// large body is read at a time for each access key (largeBodies), and the
// body must keep to a pace (see readUpTo).
func (a *Authenticator) readBody(w http.ResponseWriter, r *http.Request, c *Call, key string, large BodyRule) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		c.bodyRead = true
		return nil, nil
	}
	l := &a.limits
	cl := r.ContentLength // -1 when unknown (chunked)
	if cl > l.TemplateBody {
		return nil, a.tooLarge(l.TemplateBody)
	}
	c.budget, c.key, c.client = a.budget, key, netlimit.Client(r.RemoteAddr)
	if cl > l.Body {
		// Large, or refused once its head is read: while the key has a
		// large body being read, refused before any byte is read (a
		// client that knows the key ID would otherwise make the server
		// read a head at each try).
		if err := c.takeLarge(&a.large, key); err != nil {
			return nil, err
		}
	}
	br := &bodyReader{rc: deadlines(w), body: r.Body, start: time.Now(), l: l, c: c}
	// Once the body is read, no deadline: net/http reads on in the
	// background to notice a closed connection, and a deadline passing
	// then would cancel the request's context while it is served.
	defer br.rc.SetReadDeadline(time.Time{})

	// The first part: all of a small body, or the head of a larger one
	// (one byte more than Limits.Body when the length is unknown, to
	// tell whether there is more).
	n := l.Body
	switch {
	case cl >= 0 && cl <= l.Body:
		n = cl
	case cl < 0:
		n = l.Body + 1
	}
	buf, ended, err := br.readUpTo(nil, n, false)
	switch {
	case err != nil:
		return nil, err
	case ended && cl >= 0:
		return nil, bodyError(io.ErrUnexpectedEOF, l)
	case cl >= 0 && cl <= l.Body, ended && int64(len(buf)) <= l.Body: // all of it
		c.bodyRead = true
		return buf, nil
	}
	if !large(buf[:l.Body]) {
		return nil, a.tooLarge(l.Body)
	}
	if err := c.takeLarge(&a.large, key); err != nil {
		return nil, err
	}
	if err := c.headIsLarge(); err != nil {
		return nil, err
	}

	// The rest, for an operation that takes large bodies.
	if !ended {
		n = cl
		if cl < 0 {
			n = l.TemplateBody + 1
		}
		buf, ended, err = br.readUpTo(buf, n, true)
		switch {
		case err != nil:
			return nil, err
		case ended && cl >= 0:
			return nil, bodyError(io.ErrUnexpectedEOF, l)
		}
	}
	if int64(len(buf)) > l.TemplateBody {
		return nil, a.tooLarge(l.TemplateBody)
	}
	c.bodyRead = true
	return buf, nil
}

// bodyReader reads a body at a pace: byte k must have arrived by
// start + BodyTimeout + k/BodyRate. A body that trickles a byte every few
// seconds, or that sends a large one slowly to hold its memory, is cut off
// as soon as it falls behind, not at the deadline of its whole length.
type bodyReader struct {
	rc    readDeadliner
	body  io.Reader
	start time.Time
	l     *Limits
	c     *Call // charged for the buffer
}

// readDeadliner is the part of http.ResponseController that bodyReader
// uses. net/http's own ResponseWriter has the method: asking it directly
// saves allocating a ResponseController for every request.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

func deadlines(w http.ResponseWriter) readDeadliner {
	if d, ok := w.(readDeadliner); ok {
		return d
	}
	return http.NewResponseController(w) // it unwraps middleware
}

// minGrowth is the least a body's buffer grows by: most bodies (an
// SDK's are well under 16 KiB) are read into one buffer of their exact
// length.
const minGrowth = 16 << 10

// readUpTo reads on into buf until it holds limit bytes or the body ends
// (ended), and returns buf. The buffer grows only when full, doubling (by
// at least minGrowth), never past limit; each growth is charged to the
// call first (large: as the part of a large body beyond Limits.Body), so
// that what a request holds while it waits for bytes is at most twice
// what it received. Doubling leaves the collector as much garbage as the
// body's size (growing by a quarter would leave four times as much); the
// old buffer is live only for the copy, not while waiting for bytes. An
// error is the reply.
func (b *bodyReader) readUpTo(buf []byte, limit int64, large bool) (_ []byte, ended bool, err error) {
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			size := min(limit, int64(cap(buf))+max(int64(cap(buf)), minGrowth))
			if err := b.c.take(size-int64(cap(buf)), large); err != nil {
				return nil, false, err
			}
			next := make([]byte, len(buf), size)
			copy(next, buf)
			buf = next
		}
		// Each read is of at most 64 KiB, with the deadline of its last
		// byte. Not every ResponseWriter supports deadlines (a test
		// recorder); the server's always does.
		end := min(cap(buf), len(buf)+64<<10)
		b.rc.SetReadDeadline(b.start.Add(b.l.BodyTimeout + time.Duration(end)*time.Second/time.Duration(b.l.BodyRate)))
		m, err := b.body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err == io.EOF { // ended, or just full (the last read of a known length)
			return buf, int64(len(buf)) < limit, nil
		}
		if err != nil {
			return nil, false, bodyError(err, b.l)
		}
	}
	return buf, false, nil
}

// errBusy is the answer when the server holds as many body bytes as
// Limits.BodyMemory allows.
var errBusy = Throttled("The server is receiving too many request bodies at once; retry with backoff.")

// errLargeBusy is the answer to a second large body from one access key
// while the first is being read.
var errLargeBusy = Throttled("Another request with a large body from this access key is being received; send one at a time.")

// errKeyBusy and errClientBusy are the answers when one access key, or
// one client address, holds its share of the budget (Limits.BodyPerKey,
// Limits.BodyPerClient).
var (
	errKeyBusy    = Throttled("Too many request bodies from this access key are being received at once; retry with backoff.")
	errClientBusy = Throttled("Too many request bodies from your address are being received at once; retry with backoff.")
)

func (a *Authenticator) tooLarge(max int64) error {
	if max == a.limits.Body {
		return Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"The request body is larger than %d bytes, the most this operation takes (only the custom verification email template operations take up to %d bytes; in the Query protocol their Action parameter must come first).",
			max, a.limits.TemplateBody)
	}
	return Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", max)
}

func bodyError(err error, l *Limits) error {
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return Errorf(http.StatusRequestTimeout, "RequestTimeout", "The request body did not arrive in time: a body must arrive at %d KiB/s or faster, after %s.", l.BodyRate>>10, l.BodyTimeout)
	}
	return Errorf(http.StatusBadRequest, "IncompleteBody", "The request body could not be read: %v.", err)
}

// BodyRule says, from the first Limits.Body bytes of a longer body,
// whether the operation takes a body of up to Limits.TemplateBody.
type BodyRule = func(head []byte) bool

// SmallBody and LargeBody are the rules of operations known before the
// body is read (v2's, from the method and path).
var (
	SmallBody BodyRule = func([]byte) bool { return false }
	LargeBody BodyRule = func([]byte) bool { return true }
)
