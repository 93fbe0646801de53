package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// readBody reads the body of a request whose signer's key is known (its
// signature, which covers the body's hash, is checked after). The first
// Limits.Body bytes are read; a longer body is read on, up to
// Limits.TemplateBody, only if large says so of those first bytes (v2
// knows the operation from its path, v1 finds the Action among them).
// Every byte read is first taken from the server's budget of body memory,
// one large body is read at a time for each access key (largeBodies), and
// the body must keep to a pace (see fill).
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
	br := &bodyReader{rc: deadlines(w), body: r.Body, start: time.Now(), l: l}
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
	if !c.take(a.budget, n, false) {
		return nil, errBusy
	}
	buf := make([]byte, n)
	got, err := br.fill(buf, 0)
	switch {
	case got < len(buf) && cl < 0 && err == io.EOF:
		c.bodyRead = true
		return buf[:got], nil
	case got < len(buf):
		return nil, bodyError(err, l)
	case cl >= 0 && cl <= l.Body:
		c.bodyRead = true
		return buf, nil
	}
	if !large(buf[:l.Body]) {
		return nil, a.tooLarge(l.Body)
	}
	if !c.takeLarge(&a.large, key) {
		return nil, errLargeBusy
	}

	// The rest, for an operation that takes large bodies.
	if cl >= 0 {
		if !c.take(a.budget, cl-n, true) {
			return nil, errBusy
		}
		full := make([]byte, cl)
		copy(full, buf)
		if got, err := br.fill(full, len(buf)); got < len(full) {
			return nil, bodyError(err, l)
		}
		c.bodyRead = true
		return full, nil
	}
	for {
		grow := min(int64(cap(buf)), l.TemplateBody+1-int64(cap(buf)))
		if grow <= 0 {
			return nil, a.tooLarge(l.TemplateBody)
		}
		if !c.take(a.budget, grow, true) {
			return nil, errBusy
		}
		next := make([]byte, int64(cap(buf))+grow)
		copy(next, buf)
		got, err := br.fill(next, len(buf))
		buf = next[:got]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err, l)
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

// fill reads into buf[off:] until it is full or the body ends (io.EOF)
// or fails, and returns how much of buf is filled.
func (b *bodyReader) fill(buf []byte, off int) (int, error) {
	const step = 64 << 10
	for off < len(buf) {
		end := min(len(buf), off+step)
		// Not every ResponseWriter supports deadlines (a test recorder);
		// the server's always does.
		b.rc.SetReadDeadline(b.start.Add(b.l.BodyTimeout + time.Duration(end)*time.Second/time.Duration(b.l.BodyRate)))
		m, err := b.body.Read(buf[off:end])
		off += m
		if err != nil {
			return off, err
		}
	}
	return off, nil
}

// errBusy is the answer when the server holds as many body bytes as
// Limits.BodyMemory allows.
var errBusy = Throttled("The server is receiving too many request bodies at once; retry with backoff.")

// errLargeBusy is the answer to a second large body from one access key
// while the first is being read.
var errLargeBusy = Throttled("Another request with a large body from this access key is being received; send one at a time.")

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
