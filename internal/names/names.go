// Package names normalises and validates the domain names and email addresses
// that SES identities are made of.
//
// Canonical forms:
//   - A domain is ASCII, lower case, with IDN labels converted to punycode
//     A-labels ("xn--...") and no trailing dot. Identity domains are host names
//     (RFC 1035 section 2.3.1, RFC 1123 section 2.1): letters, digits and
//     hyphens only, so underscores, wildcards and IP literals are rejected.
//   - An email address is local@domain, where the local part is kept exactly
//     as given (RFC 5321 section 2.4: it is case-sensitive) and the domain is
//     canonicalised as above. Quoted local parts (RFC 5321 Quoted-string) are
//     accepted and kept verbatim, quotes included. Non-ASCII local parts
//     (SMTPUTF8, RFC 6531) are rejected, because SES cannot deliver to them.
//
// Every error returned by this package wraps exactly one of ErrEmpty,
// ErrInvalid or ErrTooLong, so callers can test it with errors.Is and still
// show the message, which quotes the input and says what to change.
package names

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

var (
	// ErrEmpty reports an empty name, address, label or local part.
	ErrEmpty = errors.New("empty name")
	// ErrInvalid reports any syntax error other than emptiness or length.
	ErrInvalid = errors.New("invalid name")
	// ErrTooLong reports a label, name, local part or address over its
	// RFC 1035 / RFC 5321 length limit.
	ErrTooLong = errors.New("name too long")
)

// Kind says whether an identity is a domain or an email address.
type Kind int

// Kinds of identity. The zero value is deliberately not a valid Kind.
const (
	KindDomain Kind = iota + 1
	KindEmail
)

// String returns the SES v1 IdentityType value for k.
func (k Kind) String() string {
	switch k {
	case KindDomain:
		return "Domain"
	case KindEmail:
		return "EmailAddress"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Identity classifies s (it is an email address if it contains '@') and
// canonicalises it with Email or Domain. The Kind is returned even when s is
// invalid, so callers can pick the matching error wording; the canonical
// string is empty on error.
func Identity(s string) (Kind, string, error) {
	if strings.Contains(s, "@") {
		e, err := Email(s)
		return KindEmail, e, err
	}
	d, err := Domain(s)
	return KindDomain, d, err
}

// IsSubdomain reports whether child is a strict subdomain of parent, at any
// depth. Both must be canonical (see Domain): the comparison is on labels,
// so "badexample.com" is not a subdomain of "example.com", and a domain is
// not a subdomain of itself.
func IsSubdomain(child, parent string) bool {
	return parent != "" &&
		len(child) > len(parent)+1 &&
		strings.HasSuffix(child, parent) &&
		child[len(child)-len(parent)-1] == '.'
}

// Parents returns the proper parent domains of the canonical domain d that
// still have at least two labels, nearest first: Parents("a.b.example.com")
// is ["b.example.com", "example.com"]. These are the identities that can
// cover d, since a verified domain covers all its subdomains.
func Parents(d string) []string {
	var out []string
	for {
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return out
		}
		d = d[i+1:]
		if !strings.Contains(d, ".") {
			return out
		}
		out = append(out, d)
	}
}

// DomainOf returns the domain part of a canonical email address, or "" if
// email has no '@'. The last '@' is the separator, because a quoted local
// part may contain '@' but a domain never does.
func DomainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return email[i+1:]
}

// LocalOf returns the local part of a canonical email address (quotes
// included, if it is quoted), or "" if email has no '@'.
func LocalOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return email[:i]
}

// maxQuoted bounds how much of a bad input an error message repeats.
const maxQuoted = 100

// quote returns s formatted with %q, shortened if it is long so that a
// hostile multi-kilobyte input does not end up whole in logs and responses.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...", s[:cut])
}

// Error is a name or address that is not valid. Err is the sentinel
// (ErrEmpty, ErrInvalid or ErrTooLong); Reason quotes the input and says
// what to change, for callers that write their own message around it.
type Error struct {
	Err    error
	Reason string // e.g. `domain "-x.com": label -x starts with a hyphen; remove it`
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Reason }
func (e *Error) Unwrap() error { return e.Err }

// problem is a rule violation before it is turned into an error that names
// the input; it lets Email reuse Domain's checks with its own prefix.
type problem struct {
	sentinel error
	msg      string
}

func fail(sentinel error, format string, args ...any) *problem {
	return &problem{sentinel, fmt.Sprintf(format, args...)}
}

// IsASCII says whether s is 7-bit ASCII, as SES wants addresses.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
