package names

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Length limits of RFC 1035 section 2.3.4: 63 octets per label and 255 per
// name in wire form. The wire form spends one length octet per label plus
// the root label, so the dotted text form without a trailing dot is at most
// 253 octets.
const (
	MaxLabelLen  = 63
	MaxDomainLen = 253
)

// maxDomainInput bounds the raw input we are willing to run IDNA mapping
// on. Mapping can only shrink a name by dropping ignorable code points, and
// nothing legitimate needs four times the limit for that.
const maxDomainInput = 4 * (MaxDomainLen + 3)

// profile is idna.Lookup (RFC 5891 section 5 with the UTS 46 mapping:
// case folding, width folding, NFC; STD3 ASCII rules; non-transitional, so
// "ß" stays "ß"; Bidi rule of RFC 5893; ContextJ of RFC 5892) except that
// UTS 46 CheckHyphens is off. We check hyphens ourselves in canonical so that
// ASCII labels such as "r3---sn-abc" (valid RFC 1123 host names) are
// accepted, while U-labels still follow RFC 5891 section 4.2.3.1.
var profile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.CheckHyphens(false),
)

// dots maps the full stops that IDNA treats as label separators (RFC 3490
// section 3.1) to '.', so a trailing ideographic full stop is removed like
// an ASCII one.
var dots = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// Domain returns the canonical form of a domain name: IDN (Unicode) labels
// converted to punycode A-labels, one trailing dot removed, lower case. It
// rejects empty names and labels, over-long labels and names, wildcards, IP
// addresses and literals, single-label names, labels starting or ending with
// a hyphen, characters other than letters, digits and hyphens (including the
// underscore: identities are host names) and all-numeric top-level labels.
func Domain(s string) (string, error) {
	d, p := domain(s)
	if p != nil {
		return "", &Error{Err: p.sentinel, Reason: "domain " + quote(s) + ": " + p.msg}
	}
	return d, nil
}

func domain(s string) (string, *problem) {
	if s == "" {
		return "", fail(ErrEmpty, "empty name; give a domain such as example.com")
	}
	if len(s) > maxDomainInput {
		return "", fail(ErrTooLong, "%d octets; a domain name is at most %d (RFC 1035)", len(s), MaxDomainLen)
	}
	if !utf8.ValidString(s) {
		return "", fail(ErrInvalid, "not valid UTF-8; send the name as UTF-8 text")
	}
	if hasControlOrSpace(s) {
		return "", fail(ErrInvalid, "contains control or whitespace; remove it")
	}
	s = dots.Replace(s)
	if p := checkLiteral(s); p != nil {
		return "", p
	}
	if p := checkASCII(s); p != nil {
		return "", p
	}
	if p := checkRawLabels(s); p != nil {
		return "", p
	}
	a, err := profile.ToASCII(s)
	if err != nil {
		return "", fail(ErrInvalid, "not a valid internationalised domain name (%v); use letters, digits and hyphens", err)
	}
	// Trim after mapping, so that a dot followed only by ignorable code
	// points still counts as the one optional root dot.
	a = strings.TrimSuffix(a, ".")
	// The canonical form must be a fixed point. x/net/idna decides whether
	// to apply the Bidi rule from the characters before mapping, so "aℵb"
	// (ℵ is left-to-right, but maps to the Hebrew letter א) passes, while
	// its own A-label, which decodes to "aאb", fails. Re-checking the
	// A-labels rejects such names consistently.
	if strings.Contains(a, "xn--") {
		if b, err := profile.ToASCII(a); err != nil || b != a {
			if err == nil {
				err = fmt.Errorf("%q does not map to itself", a)
			}
			return "", fail(ErrInvalid, "not a valid internationalised domain name (%v); use letters, digits and hyphens", err)
		}
	}
	if p := canonical(a); p != nil {
		return "", p
	}
	return a, nil
}

// checkLiteral rejects IP addresses, which SES cannot verify by DNS, with a
// clearer message than the character checks would give.
func checkLiteral(s string) *problem {
	if strings.ContainsAny(s, "[]") {
		return fail(ErrInvalid, "IP address literals are not allowed; use a domain name")
	}
	if _, err := netip.ParseAddr(strings.TrimSuffix(s, ".")); err == nil {
		return fail(ErrInvalid, "is an IP address; use a domain name")
	}
	return nil
}

// checkASCII rejects ASCII characters outside letters, digits, hyphen and
// dot (RFC 1035 section 2.3.1, RFC 1123 section 2.1) before IDNA mapping,
// so the message can name the character and say what to do about it.
// Non-ASCII characters are left to IDNA.
func checkASCII(s string) *problem {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, isLetterDigit(c), c == '-', c == '.':
		case c == '*':
			return fail(ErrInvalid, "wildcards are not allowed; verify the parent domain, which covers all its subdomains")
		case c == '_':
			return fail(ErrInvalid, "underscore is not allowed in a host name; use a hyphen")
		case c == '@':
			return fail(ErrInvalid, "contains '@'; an email address is not a domain")
		default:
			return fail(ErrInvalid, "character %q is not allowed; use only letters, digits, hyphens and dots", rune(c))
		}
	}
	return nil
}

// checkRawLabels rejects empty labels before IDNA, so the message matches
// what the caller typed, and the bare ACE prefix "xn--", which IDNA would
// silently decode to an empty label.
func checkRawLabels(s string) *problem {
	raw := strings.TrimSuffix(s, ".")
	if raw == "" {
		return fail(ErrInvalid, "the root domain alone is not an identity; give a domain such as example.com")
	}
	labels := strings.Split(raw, ".")
	for i, l := range labels {
		if l == "" {
			return emptyLabel(i, len(labels))
		}
		if strings.EqualFold(l, "xn--") {
			return fail(ErrInvalid, "label %q is an empty punycode label; remove it", l)
		}
	}
	return nil
}

func emptyLabel(i, n int) *problem {
	switch {
	case i == 0:
		return fail(ErrInvalid, "empty label at the start; remove the leading dot")
	case i == n-1:
		return fail(ErrInvalid, "empty label at the end; use at most one trailing dot")
	default:
		return fail(ErrInvalid, "empty label between dots; remove the extra dot")
	}
}

// canonical checks the final ASCII form. It is the authority: the earlier
// checks only give friendlier messages, and IDNA mapping can change a name.
func canonical(a string) *problem {
	if a == "" {
		return fail(ErrEmpty, "nothing left after removing ignorable characters and the trailing dot; give a domain such as example.com")
	}
	labels := strings.Split(a, ".")
	for i, l := range labels {
		if l == "" {
			return emptyLabel(i, len(labels))
		}
		if p := checkLabel(l); p != nil {
			return p
		}
	}
	if len(a) > MaxDomainLen {
		return fail(ErrTooLong, "%d octets; a domain name is at most %d (255 in DNS wire form, RFC 1035)", len(a), MaxDomainLen)
	}
	if len(labels) < 2 {
		return fail(ErrInvalid, "single-label name; give a domain with at least one dot, such as example.com")
	}
	if p := checkLiteral(a); p != nil {
		return p
	}
	if tld := labels[len(labels)-1]; allDigits(tld) {
		return fail(ErrInvalid, "top-level label %q is all digits; use a domain name, not a number or IP address", tld)
	}
	return nil
}

// checkLabel checks one non-empty label of the ASCII form.
func checkLabel(l string) *problem {
	for i := 0; i < len(l); i++ {
		if c := l[i]; (!isLetterDigit(c) && c != '-') || (c >= 'A' && c <= 'Z') {
			// Cannot happen after IDNA with STD3 rules; kept so that the
			// canonical form is guaranteed whatever the library does.
			return fail(ErrInvalid, "label %q contains %q; use only lower-case letters, digits and hyphens", l, rune(c))
		}
	}
	if len(l) > MaxLabelLen {
		return fail(ErrTooLong, "label %q is %d octets; the limit is %d (RFC 1035); shorten it", l, len(l), MaxLabelLen)
	}
	// RFC 952 / RFC 1123 host names: no hyphen at either end. For an A-label
	// the rule applies to the Unicode label it encodes (RFC 5891 4.2.3.1),
	// which also forbids "--" in its third and fourth positions.
	u := l
	if strings.HasPrefix(l, "xn--") {
		var err error
		if u, err = idna.Punycode.ToUnicode(l); err != nil {
			return fail(ErrInvalid, "label %q is not valid punycode (%v)", l, err)
		}
		if r := []rune(u); len(r) >= 4 && r[2] == '-' && r[3] == '-' {
			return fail(ErrInvalid, "label %q (%q) has \"--\" in its third and fourth characters; change it", l, u)
		}
	}
	if u != l {
		l = fmt.Sprintf("%q (%q)", l, u)
	} else {
		l = fmt.Sprintf("%q", l)
	}
	if strings.HasPrefix(u, "-") {
		return fail(ErrInvalid, "label %s starts with a hyphen; remove it", l)
	}
	if strings.HasSuffix(u, "-") {
		return fail(ErrInvalid, "label %s ends with a hyphen; remove it", l)
	}
	return nil
}

func isLetterDigit(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// hasControlOrSpace reports Unicode control or white-space characters,
// which SES rejects outright rather than trimming.
func hasControlOrSpace(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return true
		}
	}
	return false
}
