package api

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"
)

// Protocol is what one SES protocol gives the handler shape both share:
// its name, how it names its errors and how it writes them.
type Protocol struct {
	// Name is the protocol label of the metrics and logs: "v1" or "v2".
	Name string
	// OpKey is the log key of the operation: "action" (v1) or "operation" (v2).
	OpKey string
	Log   *slog.Logger
	// MapError gives the protocol's error for one that is not an *Error
	// (the registry's); nil when there is none, and the error is then
	// logged and answered InternalFailure.
	MapError func(error) *Error
	// WriteError writes an error reply.
	WriteError func(w http.ResponseWriter, requestID string, e *Error)
	// Throttling is the protocol's error for a request refused for its
	// account's rate or the server's load; its Message is replaced.
	Throttling Error
}

// Call is one request being served.
type Call struct {
	// ID is the request ID (x-amzn-RequestId).
	ID string
	// Op is the SES action or operation, for metrics and logs; "unknown"
	// until known.
	Op string
	// Principal and Body are set by Authenticate.
	Principal *Principal
	Body      []byte

	bodyRead bool // the body was read to its end
	budget   *budget
	key      string       // the access key the body is read for
	client   netip.Prefix // and the client it comes from
	small    int64        // bytes taken from budget for small bodies
	largeN   int64        // and for the part of a large body beyond Limits.Body
	large    *largeBodies
	largeKey string // the access key of a large body being read
}

// take charges n body bytes to the call's key and client; see budget.
func (c *Call) take(n int64, large bool) error {
	if err := c.budget.take(n, c.key, c.client, large); err != nil {
		return err
	}
	if large {
		c.largeN += n
	} else {
		c.small += n
	}
	return nil
}

// takeLarge takes the key's one large body, unless the call has it.
func (c *Call) takeLarge(l *largeBodies, key string) error {
	if c.large != nil {
		return nil
	}
	if !l.take(key) {
		return errLargeBusy
	}
	c.large, c.largeKey = l, key
	return nil
}

// headIsLarge moves the bytes read so far (the head of a body found to be
// large) to the large share.
func (c *Call) headIsLarge() error {
	if err := c.budget.toLarge(c.small, c.key, c.client); err != nil {
		return err
	}
	c.largeN, c.small = c.largeN+c.small, 0
	return nil
}

func (c *Call) release() {
	if c.small+c.largeN > 0 {
		c.budget.give(c.small, c.largeN, c.key, c.client)
		c.small, c.largeN = 0, 0
	}
	if c.large != nil {
		c.large.give(c.largeKey)
		c.large = nil
	}
}

// HandlerFunc serves one call: it writes the reply of a success itself
// and returns the error of a failure, which Protocol.Serve writes, as tailscale's
// tsweb.ReturnHandler does.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, c *Call) error

// Serve serves fn with a request ID, panic recovery, the protocol's error
// mapping and replies, logging of hidden causes, and metrics.
func (p *Protocol) Serve(w http.ResponseWriter, r *http.Request, fn HandlerFunc) {
	start := time.Now()
	c := &Call{ID: NewRequestID(), Op: "unknown"}
	defer c.release()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		p.Log.Error("panic serving "+p.Name+" request", "request_id", c.ID, p.OpKey, c.Op, "panic", v, "stack", string(debug.Stack()))
		p.fail(w, r, c, InternalFailure)
		Observe(p.Name, c.Op, InternalFailure.Code, time.Since(start))
	}()
	code := "OK"
	if err := fn(w, r, c); err != nil {
		e := p.toError(err)
		if e == nil {
			p.Log.Error(p.Name+" request failed", "request_id", c.ID, p.OpKey, c.Op, "err", err)
			e = InternalFailure
		}
		code = e.Code
		p.fail(w, r, c, e)
	}
	Observe(p.Name, c.Op, code, time.Since(start))
}

func (p *Protocol) toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var t *throttled
	if errors.As(err, &t) {
		e := p.Throttling
		e.Message = t.msg
		return &e
	}
	return p.MapError(err)
}

// fail writes an error reply. A body left unread (a request refused
// before or while its body was read) closes the connection, and the rest
// of it must arrive within unreadGrace: net/http reads up to 256 KiB of
// an unread body after the handler (and before the reply, unless told
// Connection: close), without a deadline, so that a client that
// announced up to 256 KiB and sent none held the connection for as long
// as it liked. Reading the rest, rather than closing at once, lets a
// client that is still sending (an SDK's upload refused with Throttling)
// read the reply instead of a reset.
func (p *Protocol) fail(w http.ResponseWriter, r *http.Request, c *Call, e *Error) {
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody && !c.bodyRead {
		w.Header().Set("Connection", "close")
		deadlines(w).SetReadDeadline(time.Now().Add(unreadGrace))
	}
	p.WriteError(w, c.ID, e)
}

// unreadGrace is how long the rest of a refused request's body may take:
// 256 KiB at 128 KiB/s, the pace a body must keep (Limits.BodyRate).
const unreadGrace = 2 * time.Second

// ErrThrottled is what every error of a request refused for its rate or
// the server's load matches (errors.Is); each protocol answers it with
// its own code (v1 Throttling, v2 TooManyRequestsException).
var ErrThrottled = errors.New("throttled")

type throttled struct{ msg string }

func (t *throttled) Error() string        { return "throttled: " + t.msg }
func (t *throttled) Is(target error) bool { return target == ErrThrottled }

// Throttled is an ErrThrottled with the message the client sees.
func Throttled(msg string) error { return &throttled{msg} }
