package registry

import (
	"errors"
	"fmt"

	"github.com/sesame/sesame/internal/names"
)

// Kind is the class of an operation error. Each protocol has its own code
// for each kind. A Kind is also the sentinel its errors unwrap to:
// errors.Is(err, registry.NotFound).
type Kind int

const (
	Invalid       Kind = iota + 1 // v1 InvalidParameterValue, v2 BadRequestException
	NotFound                      // v2 NotFoundException
	AlreadyExists                 // v1 AlreadyExists, v2 AlreadyExistsException
	LimitExceeded                 // v1 LimitExceeded, v2 LimitExceededException
	// The kinds of verification mail and custom templates (templates.go).
	Throttled         // v1 Throttling, v2 TooManyRequestsException (429)
	QuotaExceeded     // v1 Throttling, v2 LimitExceededException
	FromNotVerified   // v1 FromEmailAddressNotVerified, v2 BadRequestException
	InvalidContent    // v1 CustomVerificationEmailInvalidContent, v2 BadRequestException
	ConfigSetNotFound // v1 ConfigurationSetDoesNotExist, v2 NotFoundException
	Rejected          // v1 and v2 MessageRejected
	InvalidPolicy     // v1 InvalidPolicy, v2 BadRequestException
	// Paused: the account's sending is disabled (send).
	Paused // v1 AccountSendingPausedException, v2 SendingPausedException
	// AccessDenied: a sending-authorization refusal (403; v1
	// AccessDenied, v2 AccessDeniedException).
	AccessDenied
	// MailFromNotVerified: the identity's custom MAIL FROM domain is not
	// verified and its BehaviorOnMXFailure is RejectMessage (v1 and v2
	// MailFromDomainNotVerifiedException).
	MailFromNotVerified
)

var kindNames = map[Kind]string{
	Invalid: "invalid parameter", NotFound: "not found", AlreadyExists: "already exists",
	LimitExceeded: "limit exceeded", Throttled: "throttled", QuotaExceeded: "quota exceeded",
	FromNotVerified: "sender not verified", InvalidContent: "invalid content",
	ConfigSetNotFound: "configuration set not found", Rejected: "message rejected",
	InvalidPolicy: "invalid policy",
	Paused:        "sending paused", AccessDenied: "access denied",
	MailFromNotVerified: "MAIL FROM domain not verified",
}

func (k Kind) Error() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("registry.Kind(%d)", int(k))
}

// The subjects an error may be about, besides identities, for protocols
// that give them codes of their own (v1's
// CustomVerificationEmailTemplateDoesNotExist and ...AlreadyExists).
var (
	ErrTemplate = errors.New("custom verification email template")
	// ErrAccountLimit marks a LimitExceeded of the account-wide caps
	// (Caps), rather than of SES's per-region limits.
	ErrAccountLimit = errors.New("account-wide limit")
)

// Error is an operation error: its Kind, the Message that says what is
// wrong and what to do, and the Err behind it, if any: a names error (which
// unwraps to names.ErrInvalid...), *mail.LimitError, mail.ErrTooLarge,
// store.ErrNotFound, ErrTemplate. errors.Is and errors.As see both the Kind
// and Err, so no caller needs to read the message.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the Kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func errorf(k Kind, format string, a ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, a...)}
}

// wrapf is errorf with the error behind it.
func wrapf(k Kind, cause error, format string, a ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, a...), Err: cause}
}

// IsKind reports whether err is a registry error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// invalidName is the Invalid error of a name that names refused: what
// names says is wrong, in a message of the operation's own.
func invalidName(err error, format string, a ...any) *Error {
	detail := err.Error()
	var ne *names.Error
	if errors.As(err, &ne) {
		detail = ne.Reason
	}
	return wrapf(Invalid, err, format, append(a, detail)...)
}
