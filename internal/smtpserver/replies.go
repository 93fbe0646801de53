package smtpserver

import (
	"errors"

	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/registry"
)

// SES's SMTP replies
// (https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-smtp.html) carry
// no enhanced status code: "554 Message rejected: ...", "250 Ok <id>".
func reply(code int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
}

var (
	errInvalidCredentials = reply(535, "Authentication Credentials Invalid")
	errTooLong            = reply(552, "Message is too long.")
)

// sendError is the reply to a message send.Sender refused: the API's
// error in SMTP's words.
func sendError(s *Server, err error) error {
	var e *registry.Error
	if !errors.As(err, &e) {
		s.log.Error("smtp message not accepted", "err", err)
		return reply(451, "Temporary service failure")
	}
	switch e.Kind {
	case registry.Rejected, registry.Paused:
		return reply(554, "Message rejected: "+e.Message)
	case registry.Throttled, registry.QuotaExceeded:
		return reply(454, "Throttling failure: "+e.Message)
	}
	// An unreadable message, an illegal address, a duplicate header:
	// SES's "554 Transaction failed: Duplicate header 'Subject'." (observed).
	return reply(554, "Transaction failed: "+e.Message)
}
