package sigv4

import (
	"net/http"
	"strconv"
	"time"
)

// Kind classifies an authentication failure; each kind maps to one SES error code.
type Kind int

const (
	Missing    Kind = iota + 1 // no Authorization header and no X-Amz-Algorithm query: MissingAuthenticationToken, 403
	Incomplete                 // malformed Authorization / missing Credential, SignedHeaders, Signature or date, or 'host' not signed: IncompleteSignature, 400
	UnknownKey                 // access key unknown or revoked: InvalidClientTokenId (v1) / UnrecognizedClientException (v2), 403
	Mismatch                   // wrong signature, wrong scope, unsupported algorithm: SignatureDoesNotMatch, 403
	Expired                    // clock skew over MaxSkew or presigned URL past X-Amz-Expires: RequestExpired (v1) 400 / InvalidSignatureException (v2) 403
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "Missing"
	case Incomplete:
		return "Incomplete"
	case UnknownKey:
		return "UnknownKey"
	case Mismatch:
		return "Mismatch"
	case Expired:
		return "Expired"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is an authentication failure. Message is the text SES would send.
type Error struct {
	Kind    Kind
	Message string

	// CanonicalRequest and StringToSign are what the server computed. They are
	// set only when a signature was actually compared and did not match, and are
	// already part of Message (as AWS does); they are exposed for logging.
	// Both are clipped to a few KiB, as Message is (maxCanonical).
	CanonicalRequest string
	StringToSign     string
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// Code returns the SES error code: v2 selects the REST-JSON (SES v2) variant.
func (e *Error) Code(v2 bool) string {
	switch e.Kind {
	case Missing:
		return "MissingAuthenticationToken"
	case Incomplete:
		return "IncompleteSignature"
	case UnknownKey:
		if v2 {
			return "UnrecognizedClientException"
		}
		return "InvalidClientTokenId"
	case Expired:
		if v2 {
			return "InvalidSignatureException"
		}
		return "RequestExpired"
	}
	return "SignatureDoesNotMatch"
}

// HTTPStatus returns the status code SES answers with: v2 selects SES v2.
func (e *Error) HTTPStatus(v2 bool) int {
	switch e.Kind {
	case Incomplete:
		return http.StatusBadRequest
	case Expired:
		if v2 {
			return http.StatusForbidden
		}
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// Messages: the texts AWS sends (seen in the wild, see the spec's sources).
const (
	msgMissing        = "Request is missing Authentication Token"
	msgInvalidToken   = "The security token included in the request is invalid."
	msgSignature      = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned  = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgTwoMechanisms  = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"
	msgPresignMissing = "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders' and 'X-Amz-Signature'. Re-examine the query-string parameters."
	msgPresignExpired = "Request has expired"
	msgPayloadHash    = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// Error messages quote what the client sent (a header, the credential), as
// AWS's do, but never more than these sizes: a request may carry up to the
// server's header limit in one header, and a reply or a log line that
// echoes it in full costs the server what the client did not pay for
// (a 1 MB header gave a 6 MB SignatureDoesNotMatch reply).
const (
	maxMessage   = 2 << 10 // any message
	maxCanonical = 8 << 10 // the canonical request in a SignatureDoesNotMatch
)

func newErr(k Kind, msg string) *Error { return &Error{Kind: k, Message: clip(msg, maxMessage)} }

// clip shortens s to about n bytes, keeping its start and its end (the
// end of a canonical request holds the signed headers and the payload
// hash) and saying how much was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	tail := n / 4
	head := n - tail
	return s[:head] + "\n[... " + strconv.Itoa(len(s)-head-tail) + " bytes left out ...]\n" + s[len(s)-tail:]
}

// mismatchErr is SignatureDoesNotMatch with AWS's diagnostic tail.
func mismatchErr(canonical, sts []byte) *Error {
	cr, s := clip(string(canonical), maxCanonical), clip(string(sts), maxMessage)
	return &Error{
		Kind: Mismatch,
		Message: msgSignature + "\n\nThe Canonical String for this request should have been\n'" + cr +
			"'\n\nThe String-to-Sign should have been\n'" + s + "'\n",
		CanonicalRequest: cr,
		StringToSign:     s,
	}
}

func skewErr(t, now time.Time, skew time.Duration) *Error {
	mins := strconv.FormatFloat(skew.Minutes(), 'f', -1, 64)
	if t.Before(now) {
		return newErr(Expired, "Signature expired: "+t.UTC().Format(timeFormat)+" is now earlier than "+
			now.Add(-skew).UTC().Format(timeFormat)+" ("+now.UTC().Format(timeFormat)+" - "+mins+" min.)")
	}
	return newErr(Expired, "Signature not yet current: "+t.UTC().Format(timeFormat)+" is still later than "+
		now.Add(skew).UTC().Format(timeFormat)+" ("+now.UTC().Format(timeFormat)+" + "+mins+" min.)")
}
