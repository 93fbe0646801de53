package names

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits of RFC 5321 section 4.5.3.1: a local part of at most 64
// octets, and a path of at most 256 octets including the angle brackets,
// which leaves 254 for the address itself (RFC 3696 erratum 1690).
const (
	MaxLocalLen = 64
	MaxEmailLen = 254
)

// Email returns the canonical form of an email address: the local part
// exactly as given, since RFC 5321 section 2.4 makes it case-sensitive and
// only the receiving host may interpret it, and the domain canonicalised by
// Domain.
//
// The local part is either a dot-atom of RFC 5322 atext (no leading or
// trailing dot, no "..") or an RFC 5321 Quoted-string covering the whole
// local part, such as "a@b"@example.com or "john doe"@example.com. A quoted
// local part is kept verbatim, quotes and backslashes included. Non-ASCII
// local parts (SMTPUTF8, RFC 6531) are rejected because SES cannot deliver
// to them; display names, angle brackets and domain literals such as
// user@[192.0.2.1] are rejected too.
func Email(s string) (string, error) {
	e, p := email(s)
	if p != nil {
		return "", &Error{Err: p.sentinel, Reason: "email " + quote(s) + ": " + p.msg}
	}
	return e, nil
}

func email(s string) (string, *problem) {
	if s == "" {
		return "", fail(ErrEmpty, "empty address; give an address such as user@example.com")
	}
	if !utf8.ValidString(s) {
		return "", fail(ErrInvalid, "not valid UTF-8; send the address as UTF-8 text")
	}
	if strings.ContainsAny(s, "<>") {
		return "", fail(ErrInvalid, "display names and angle brackets are not allowed; give only the address, such as user@example.com")
	}
	local, dom, p := splitEmail(s)
	if p != nil {
		return "", p
	}
	if local == "" || local == `""` {
		return "", fail(ErrEmpty, "missing local name before '@'")
	}
	if local[0] != '"' {
		if p := checkDotAtom(local); p != nil {
			return "", p
		}
	}
	if len(local) > MaxLocalLen {
		return "", fail(ErrTooLong, "local address is %d octets; the limit is %d (RFC 5321)", len(local), MaxLocalLen)
	}
	if dom == "" {
		return "", fail(ErrEmpty, "missing domain after '@'")
	}
	if strings.Contains(dom, "@") {
		return "", fail(ErrInvalid, "more than one '@'; only one may appear outside a quoted local part")
	}
	if hasControlOrSpace(dom) {
		return "", fail(ErrInvalid, "domain contains control or whitespace")
	}
	if dom[0] == '[' {
		return "", fail(ErrInvalid, "domain literals such as [192.0.2.1] are not allowed; use a domain name")
	}
	d, p := domain(dom)
	if p != nil {
		return "", fail(p.sentinel, "domain %s: %s", quote(dom), p.msg)
	}
	addr := local + "@" + d
	if len(addr) > MaxEmailLen {
		return "", fail(ErrTooLong, "%d octets; an address is at most %d (RFC 5321)", len(addr), MaxEmailLen)
	}
	return addr, nil
}

// splitEmail splits s at the '@' that ends the local part: the first one,
// or for a quoted local part the one after the closing quote. It checks the
// quoted string itself (RFC 5321 section 4.1.2: qtextSMTP and
// quoted-pairSMTP, i.e. printable ASCII and space).
func splitEmail(s string) (local, dom string, p *problem) {
	if s[0] != '"' {
		i := strings.IndexByte(s, '@')
		if i < 0 {
			return "", "", fail(ErrInvalid, "missing final '@domain'")
		}
		return s[:i], s[i+1:], nil
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			rest := s[i+1:]
			if rest == "" {
				return "", "", fail(ErrInvalid, "missing final '@domain'")
			}
			if rest[0] != '@' {
				return "", "", fail(ErrInvalid, "a quoted local part must cover the whole local part and be followed by '@'")
			}
			return s[:i+1], rest[1:], nil
		case c == '\\':
			// quoted-pairSMTP: a backslash and one printable ASCII character.
			i++
			if i == len(s) {
				return "", "", fail(ErrInvalid, "unterminated quoted local part; close it with '\"'")
			}
			if p := checkQuotedChar(s[i:]); p != nil {
				return "", "", p
			}
		default:
			if p := checkQuotedChar(s[i:]); p != nil {
				return "", "", p
			}
		}
	}
	return "", "", fail(ErrInvalid, "unterminated quoted local part; close it with '\"'")
}

// checkQuotedChar checks the character at the start of s inside quotes:
// printable ASCII or space (RFC 5321 qtextSMTP).
func checkQuotedChar(s string) *problem {
	c := s[0]
	if c >= ' ' && c < 0x7f {
		return nil
	}
	return localBadRune(s)
}

// checkDotAtom checks an unquoted local part: RFC 5322 dot-atom of atext.
func checkDotAtom(local string) *problem {
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c == '.' || isLetterDigit(c) || strings.IndexByte(atextSpecials, c) >= 0 {
			continue
		}
		if c <= ' ' || c >= 0x7f {
			return localBadRune(local[i:])
		}
		if c == '"' {
			return fail(ErrInvalid, "local address contains '\"'; quotes must enclose the whole local part")
		}
		return fail(ErrInvalid, "local address contains illegal character %q; quote the local part or remove it", rune(c))
	}
	switch {
	case local[0] == '.':
		return fail(ErrInvalid, "local address starts with a dot; remove it")
	case local[len(local)-1] == '.':
		return fail(ErrInvalid, "local address ends with a dot; remove it")
	case strings.Contains(local, ".."):
		return fail(ErrInvalid, "local address contains \"..\"; remove the extra dot")
	}
	return nil
}

// atextSpecials are the non-alphanumeric atext characters of RFC 5322
// section 3.2.3.
const atextSpecials = "!#$%&'*+-/=?^_`{|}~"

// localBadRune explains why the rune at the start of s, which is a control,
// white-space or non-ASCII character, is not allowed in a local part.
func localBadRune(s string) *problem {
	r, _ := utf8.DecodeRuneInString(s)
	if r < utf8.RuneSelf || unicode.IsControl(r) || unicode.IsSpace(r) {
		return fail(ErrInvalid, "local address contains control or whitespace")
	}
	return fail(ErrInvalid, "local address contains non-ASCII character %q; SES does not support SMTPUTF8 addresses", r)
}
