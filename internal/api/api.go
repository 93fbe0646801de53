// Package api holds what the two SES protocols share: the error value every
// handler returns, request IDs, authentication of signed requests and the
// limits on their bodies and rates (limits.go, body.go), the handler shape
// with its panic guard (handler.go) and the request metrics.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
)

// Error is an SES protocol error: Code is SES's own (InvalidParameterValue,
// NotFoundException...), Message says what is wrong and what to do.
type Error struct {
	Code    string
	Message string
	Status  int // HTTP status
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(status int, code, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// Sender reports whether the error is the client's fault (v1 <Type>Sender).
func (e *Error) Sender() bool { return e.Status < 500 }

// InternalFailure is what a client sees for a bug or a failing store; the
// cause goes to the log, not to the client.
var InternalFailure = &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure. The server log has the cause; try again."}

// NewRequestID returns a random UUID, the form of SES request IDs.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
