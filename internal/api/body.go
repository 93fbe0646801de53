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
// and the whole body must arrive before a deadline set from its length.
func (a *Authenticator) readBody(w http.ResponseWriter, r *http.Request, c *Call, large BodyRule) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		c.bodyRead = true
		return nil, nil
	}
	l := &a.limits
	cl := r.ContentLength // -1 when unknown (chunked)
	if cl > l.TemplateBody {
		return nil, a.tooLarge(l.TemplateBody)
	}
	rc := http.NewResponseController(w)
	start := time.Now()
	deadline := func(n int64) {
		// Not every ResponseWriter supports deadlines (a test recorder);
		// the server's always does.
		rc.SetReadDeadline(start.Add(l.BodyTimeout + time.Duration(n)*time.Second/time.Duration(l.BodyRate)))
	}
	// Once the body is read, no deadline: net/http reads on in the
	// background to notice a closed connection, and a deadline passing
	// then would cancel the request's context while it is served.
	defer rc.SetReadDeadline(time.Time{})

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
	if !c.take(a.budget, n) {
		return nil, errBusy
	}
	deadline(max(n, cl))
	buf := make([]byte, n)
	got, err := io.ReadFull(r.Body, buf)
	switch {
	case cl < 0 && (err == io.ErrUnexpectedEOF || err == io.EOF):
		c.bodyRead = true
		return buf[:got], nil
	case err != nil:
		return nil, bodyError(err, l)
	case cl >= 0 && cl <= l.Body:
		c.bodyRead = true
		return buf, nil
	}
	if !large(buf[:l.Body]) {
		return nil, a.tooLarge(l.Body)
	}

	// The rest, for an operation that takes large bodies.
	if cl >= 0 {
		if !c.take(a.budget, cl-n) {
			return nil, errBusy
		}
		full := make([]byte, cl)
		copy(full, buf)
		if _, err := io.ReadFull(r.Body, full[n:]); err != nil {
			return nil, bodyError(err, l)
		}
		c.bodyRead = true
		return full, nil
	}
	deadline(l.TemplateBody)
	for {
		if len(buf) == cap(buf) {
			grow := min(int64(cap(buf)), l.TemplateBody+1-int64(cap(buf)))
			if grow <= 0 {
				return nil, a.tooLarge(l.TemplateBody)
			}
			if !c.take(a.budget, grow) {
				return nil, errBusy
			}
			next := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(next, buf)
			buf = next
		}
		m, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
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

// errBusy is the answer when the server holds as many body bytes as
// Limits.BodyMemory allows.
var errBusy = Throttled("The server is receiving too many request bodies at once; retry with backoff.")

func (a *Authenticator) tooLarge(max int64) error {
	if max == a.limits.Body {
		return Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"The request body is larger than %d bytes, the most this operation takes (only the custom verification email template operations take up to %d bytes; in the Query protocol their Action parameter must come first).",
			max, a.limits.TemplateBody)
	}
	return Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", max)
}

func bodyError(err error, l *Limits) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return Errorf(http.StatusRequestTimeout, "RequestTimeout", "The request body did not arrive in time: a body must arrive within %s plus 1 s for every %d KiB.", l.BodyTimeout, l.BodyRate>>10)
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
