package names

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// rep returns n copies of c: labels and local parts of exact lengths.
func rep(c string, n int) string { return strings.Repeat(c, n) }

// Names of exactly 253 and 254 octets, and an address domain that makes a
// 64-octet local part add up to 254 and 255 octets.
var (
	name253   = rep("a", 63) + "." + rep("b", 63) + "." + rep("c", 63) + "." + rep("d", 61)
	name254   = rep("a", 63) + "." + rep("b", 63) + "." + rep("c", 63) + "." + rep("d", 62)
	domain189 = rep("a", 63) + "." + rep("b", 63) + "." + rep("c", 61)
	domain190 = rep("a", 63) + "." + rep("b", 63) + "." + rep("c", 62)
)

// checkErr checks err against the wanted sentinel and message fragment, and
// the properties every error of this package has.
func checkErr(t *testing.T, in string, err, wantErr error, wantMsg string) {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %v", wantErr)
	}
	if !errors.Is(err, wantErr) {
		t.Errorf("error %q does not wrap %v", err, wantErr)
	}
	n := 0
	for _, s := range []error{ErrEmpty, ErrInvalid, ErrTooLong} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d sentinels, want exactly 1", err, n)
	}
	msg := err.Error()
	if !strings.Contains(msg, wantMsg) {
		t.Errorf("error %q does not contain %q", msg, wantMsg)
	}
	if len(in) <= maxQuoted && !strings.Contains(msg, fmt.Sprintf("%q", in)) {
		t.Errorf("error %q does not quote the input %q", msg, in)
	}
	if r, _ := utf8.DecodeRuneInString(msg); !unicode.IsLower(r) {
		t.Errorf("error %q does not start in lower case", msg)
	}
}

func TestDomain(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
		wantMsg string
	}{
		// Accepted and canonicalised.
		{name: "simple", in: "example.com", want: "example.com"},
		{name: "upper case and trailing dot", in: "EXAMPLE.com.", want: "example.com"},
		{name: "mixed case subdomain", in: "Mail.Example.COM", want: "mail.example.com"},
		{name: "deep subdomain", in: "a.b.c.d.example.com", want: "a.b.c.d.example.com"},
		{name: "inner hyphen", in: "my-site.example", want: "my-site.example"},
		{name: "ascii double hyphen", in: "r3---sn-abc.example.com", want: "r3---sn-abc.example.com"},
		{name: "numeric non-top label", in: "123.example.com", want: "123.example.com"},
		{name: "numeric labels with alpha tld", in: "1.2.3.example", want: "1.2.3.example"},
		{name: "alphanumeric tld", in: "example.co1", want: "example.co1"},
		{name: "single character labels", in: "a.b", want: "a.b"},
		{name: "idn", in: "bücher.example", want: "xn--bcher-kva.example"},
		{name: "idn upper case", in: "BÜCHER.Example", want: "xn--bcher-kva.example"},
		{name: "a-label kept", in: "xn--bcher-kva.example", want: "xn--bcher-kva.example"},
		{name: "a-label upper case", in: "XN--BCHER-KVA.EXAMPLE", want: "xn--bcher-kva.example"},
		{name: "idn cyrillic", in: "пример.рф", want: "xn--e1afmkfd.xn--p1ai"},
		{name: "idn japanese", in: "例え.テスト", want: "xn--r8jz45g.xn--zckzah"},
		{name: "ideographic full stop", in: "例え。テスト", want: "xn--r8jz45g.xn--zckzah"},
		{name: "trailing ideographic full stop", in: "example.com。", want: "example.com"},
		{name: "fullwidth letters", in: "ＥＸＡＭＰＬＥ．ｃｏｍ", want: "example.com"},
		{name: "sharp s is not transitional", in: "faß.de", want: "xn--fa-hia.de"},
		{name: "hebrew label", in: "a.אב.com", want: "a.xn--4dbc.com"},
		{name: "soft hyphen ignored", in: "exa\u00admple.com", want: "example.com"},
		{name: "label 63", in: rep("a", 63) + ".com", want: rep("a", 63) + ".com"},
		{name: "name 253", in: name253, want: name253},
		{name: "name 253 with trailing dot", in: name253 + ".", want: name253},
		{name: "name 253 upper case", in: strings.ToUpper(name253), want: name253},

		// Emptiness and structure.
		{name: "empty", in: "", wantErr: ErrEmpty, wantMsg: `domain "": empty name`},
		{name: "root only", in: ".", wantErr: ErrInvalid, wantMsg: "root domain alone"},
		{name: "empty label", in: "a..b", wantErr: ErrInvalid, wantMsg: `domain "a..b": empty label between dots`},
		{name: "leading dot", in: ".example.com", wantErr: ErrInvalid, wantMsg: "remove the leading dot"},
		{name: "two trailing dots", in: "example.com..", wantErr: ErrInvalid, wantMsg: "at most one trailing dot"},
		{name: "only dots", in: "..", wantErr: ErrInvalid, wantMsg: "empty label"},
		{name: "only ignorable", in: "\u00ad", wantErr: ErrEmpty, wantMsg: "nothing left"},
		{name: "label only ignorable", in: "a.\u00ad.com", wantErr: ErrInvalid, wantMsg: "empty label between dots"},
		{name: "single label", in: "localhost", wantErr: ErrInvalid, wantMsg: "single-label name"},
		{name: "bare tld", in: "com", wantErr: ErrInvalid, wantMsg: "single-label name"},
		{name: "bare tld with dot", in: "com.", wantErr: ErrInvalid, wantMsg: "single-label name"},
		{name: "single idn label", in: "bücher", wantErr: ErrInvalid, wantMsg: "single-label name"},

		// Lengths.
		{name: "label 64", in: rep("a", 64) + ".com", wantErr: ErrTooLong, wantMsg: "is 64 octets; the limit is 63"},
		{name: "name 254", in: name254, wantErr: ErrTooLong, wantMsg: "254 octets; a domain name is at most 253"},
		{name: "name 254 with trailing dot", in: name254 + ".", wantErr: ErrTooLong, wantMsg: "254 octets"},
		{name: "idn label over 63 after punycode", in: rep("ü", 60) + ".com", wantErr: ErrTooLong, wantMsg: "the limit is 63"},
		{name: "huge input", in: rep("a.", 2000) + "com", wantErr: ErrTooLong, wantMsg: "at most 253"},

		// Wildcards and IP addresses.
		{name: "wildcard", in: "*.example.com", wantErr: ErrInvalid, wantMsg: "wildcards are not allowed"},
		{name: "inner wildcard", in: "a.*.example.com", wantErr: ErrInvalid, wantMsg: "wildcards are not allowed"},
		{name: "partial wildcard", in: "a*.example.com", wantErr: ErrInvalid, wantMsg: "wildcards are not allowed"},
		{name: "star alone", in: "*", wantErr: ErrInvalid, wantMsg: "wildcards are not allowed"},
		{name: "ipv4", in: "192.0.2.1", wantErr: ErrInvalid, wantMsg: "is an IP address"},
		{name: "ipv4 trailing dot", in: "192.0.2.1.", wantErr: ErrInvalid, wantMsg: "is an IP address"},
		{name: "ipv4 fullwidth", in: "１９２．０．２．１", wantErr: ErrInvalid, wantMsg: "is an IP address"},
		{name: "ipv4 leading zeros", in: "010.000.002.001", wantErr: ErrInvalid, wantMsg: "all digits"},
		{name: "ipv4 literal", in: "[192.0.2.1]", wantErr: ErrInvalid, wantMsg: "IP address literals"},
		{name: "ipv6", in: "2001:db8::1", wantErr: ErrInvalid, wantMsg: "is an IP address"},
		{name: "ipv6 loopback", in: "::1", wantErr: ErrInvalid, wantMsg: "is an IP address"},
		{name: "ipv6 literal", in: "[2001:db8::1]", wantErr: ErrInvalid, wantMsg: "IP address literals"},
		{name: "numeric tld", in: "example.123", wantErr: ErrInvalid, wantMsg: `top-level label "123" is all digits`},
		{name: "three numbers", in: "1.2.3", wantErr: ErrInvalid, wantMsg: "all digits"},

		// Hyphens.
		{name: "leading hyphen", in: "-example.com", wantErr: ErrInvalid, wantMsg: `label "-example" starts with a hyphen`},
		{name: "trailing hyphen", in: "example-.com", wantErr: ErrInvalid, wantMsg: `label "example-" ends with a hyphen`},
		{name: "hyphen tld", in: "example.-com", wantErr: ErrInvalid, wantMsg: "starts with a hyphen"},
		{name: "hyphen only", in: "-.com", wantErr: ErrInvalid, wantMsg: "starts with a hyphen"},
		{name: "fullwidth leading hyphen in idn", in: "－ü.example", wantErr: ErrInvalid, wantMsg: "starts with a hyphen"},
		{name: "idn trailing hyphen", in: "ü-.example", wantErr: ErrInvalid, wantMsg: "ends with a hyphen"},
		{name: "idn double hyphen at 3 and 4", in: "ab--ü.example", wantErr: ErrInvalid, wantMsg: `has "--" in its third and fourth`},

		// Characters.
		{name: "underscore", in: "under_score.example.com", wantErr: ErrInvalid, wantMsg: "underscore is not allowed"},
		{name: "dkim style underscore", in: "_domainkey.example.com", wantErr: ErrInvalid, wantMsg: "underscore is not allowed"},
		{name: "at sign", in: "user@example.com", wantErr: ErrInvalid, wantMsg: "contains '@'"},
		{name: "slash", in: "example.com/path", wantErr: ErrInvalid, wantMsg: "character '/' is not allowed"},
		{name: "url", in: "http://example.com", wantErr: ErrInvalid, wantMsg: "character ':' is not allowed"},
		{name: "port", in: "example.com:25", wantErr: ErrInvalid, wantMsg: "character ':' is not allowed"},
		{name: "space", in: "exa mple.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "leading space", in: " example.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "newline", in: "example.com\n", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "tab", in: "\texample.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "nul", in: "example\x00.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "del", in: "example\x7f.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "no-break space", in: "example.com\u00a0", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "line separator", in: "example\u2028.com", wantErr: ErrInvalid, wantMsg: "contains control or whitespace"},
		{name: "invalid utf-8", in: "\xff.com", wantErr: ErrInvalid, wantMsg: "not valid UTF-8"},
		{name: "invalid punycode", in: "xn--zz.com", wantErr: ErrInvalid, wantMsg: "not a valid internationalised domain name"},
		{name: "punycode of ascii", in: "xn--example-.com", wantErr: ErrInvalid, wantMsg: "not a valid internationalised domain name"},
		{name: "bare ace prefix", in: "xn--.com", wantErr: ErrInvalid, wantMsg: "empty punycode label"},
		{name: "bidi rule", in: "\u05d0a.com", wantErr: ErrInvalid, wantMsg: "not a valid internationalised domain name"},
		{name: "zero width joiner", in: "a.b\u200d.com", wantErr: ErrInvalid, wantMsg: "not a valid internationalised domain name"},
		{name: "letterlike alef maps to rtl", in: "a\u2135b.com", wantErr: ErrInvalid, wantMsg: "not a valid internationalised domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Domain(tt.in)
			checkErr(t, tt.in, err, tt.wantErr, tt.wantMsg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Domain(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if err == nil {
				if again, err := Domain(got); err != nil || again != got {
					t.Errorf("Domain(%q) = %q, %v; want it unchanged", got, again, err)
				}
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
		wantMsg string
	}{
		// Accepted and canonicalised.
		{name: "simple", in: "user@example.com", want: "user@example.com"},
		{name: "local case kept, domain folded", in: "John.Doe@Example.COM", want: "John.Doe@example.com"},
		{name: "plus label", in: "user+label@example.com", want: "user+label@example.com"},
		{name: "all atext specials", in: "!#$%&'*+-/=?^_`{|}~@example.com", want: "!#$%&'*+-/=?^_`{|}~@example.com"},
		{name: "dotted local", in: "a.b.c@example.com", want: "a.b.c@example.com"},
		{name: "digits only local", in: "123@example.com", want: "123@example.com"},
		{name: "idn domain", in: "user@bücher.example", want: "user@xn--bcher-kva.example"},
		{name: "trailing dot domain", in: "user@example.com.", want: "user@example.com"},
		{name: "quoted with at sign", in: `"a@b"@example.com`, want: `"a@b"@example.com`},
		{name: "quoted with space", in: `"john doe"@example.com`, want: `"john doe"@example.com`},
		{name: "quoted pair", in: `"a\"b"@example.com`, want: `"a\"b"@example.com`},
		{name: "quoted backslash", in: `"a\\b"@example.com`, want: `"a\\b"@example.com`},
		{name: "quoted double dot", in: `"a..b"@example.com`, want: `"a..b"@example.com`},
		{name: "quoted kept verbatim", in: `"User"@EXAMPLE.com`, want: `"User"@example.com`},
		{name: "local 64", in: rep("l", 64) + "@example.com", want: rep("l", 64) + "@example.com"},
		{name: "address 254", in: rep("l", 64) + "@" + domain189, want: rep("l", 64) + "@" + domain189},

		// Structure.
		{name: "empty", in: "", wantErr: ErrEmpty, wantMsg: `email "": empty address`},
		{name: "no at sign", in: "user", wantErr: ErrInvalid, wantMsg: "missing final '@domain'"},
		{name: "no at sign dotted", in: "user.example.com", wantErr: ErrInvalid, wantMsg: "missing final '@domain'"},
		{name: "empty local", in: "@example.com", wantErr: ErrEmpty, wantMsg: "missing local name"},
		{name: "empty quoted local", in: `""@example.com`, wantErr: ErrEmpty, wantMsg: "missing local name"},
		{name: "empty domain", in: "user@", wantErr: ErrEmpty, wantMsg: "missing domain"},
		{name: "display name", in: "Joe <joe@example.com>", wantErr: ErrInvalid, wantMsg: "display names"},
		{name: "angle brackets", in: "<joe@example.com>", wantErr: ErrInvalid, wantMsg: "display names"},
		{name: "two at signs", in: "a@b@example.com", wantErr: ErrInvalid, wantMsg: "more than one '@'"},
		{name: "quoted then two at signs", in: `"a"@b@example.com`, wantErr: ErrInvalid, wantMsg: "more than one '@'"},

		// Local part characters.
		{name: "space in local", in: "a b@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "leading space", in: " user@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "tab in local", in: "a\t@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "control in local", in: "\x01a@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "del in local", in: "a\x7f@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "no-break space in local", in: "a\u00a0b@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "tab in quoted local", in: "\"a\tb\"@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "newline in quoted pair", in: "\"a\\\nb\"@example.com", wantErr: ErrInvalid, wantMsg: "local address contains control or whitespace"},
		{name: "leading dot", in: ".user@example.com", wantErr: ErrInvalid, wantMsg: "local address starts with a dot"},
		{name: "trailing dot", in: "user.@example.com", wantErr: ErrInvalid, wantMsg: "local address ends with a dot"},
		{name: "double dot", in: "us..er@example.com", wantErr: ErrInvalid, wantMsg: `local address contains ".."`},
		{name: "parenthesis", in: "us(er)@example.com", wantErr: ErrInvalid, wantMsg: "illegal character '('"},
		{name: "comma", in: "us,er@example.com", wantErr: ErrInvalid, wantMsg: "illegal character ','"},
		{name: "backslash unquoted", in: `us\er@example.com`, wantErr: ErrInvalid, wantMsg: `illegal character '\\'`},
		{name: "bracket in local", in: "us[er@example.com", wantErr: ErrInvalid, wantMsg: "illegal character '['"},
		{name: "partly quoted", in: `a"b"@example.com`, wantErr: ErrInvalid, wantMsg: "quotes must enclose the whole local part"},
		{name: "text after quotes", in: `"ab"c@example.com`, wantErr: ErrInvalid, wantMsg: "followed by '@'"},
		{name: "quoted without domain", in: `"a@b"`, wantErr: ErrInvalid, wantMsg: "missing final '@domain'"},
		{name: "unterminated quote", in: `"user@example.com`, wantErr: ErrInvalid, wantMsg: "unterminated quoted local part"},
		{name: "unterminated quoted pair", in: `"user\`, wantErr: ErrInvalid, wantMsg: "unterminated quoted local part"},
		{name: "smtputf8 local", in: "üser@example.com", wantErr: ErrInvalid, wantMsg: "SMTPUTF8"},
		{name: "smtputf8 quoted local", in: `"ü"@example.com`, wantErr: ErrInvalid, wantMsg: "SMTPUTF8"},
		{name: "invalid utf-8", in: "\xffa@example.com", wantErr: ErrInvalid, wantMsg: "not valid UTF-8"},

		// Domain part.
		{name: "space in domain", in: "user@exa mple.com", wantErr: ErrInvalid, wantMsg: "domain contains control or whitespace"},
		{name: "trailing space", in: "user@example.com ", wantErr: ErrInvalid, wantMsg: "domain contains control or whitespace"},
		{name: "crlf", in: "user@example.com\r\n", wantErr: ErrInvalid, wantMsg: "domain contains control or whitespace"},
		{name: "domain literal", in: "user@[192.0.2.1]", wantErr: ErrInvalid, wantMsg: "domain literals"},
		{name: "ipv6 domain literal", in: "user@[IPv6:2001:db8::1]", wantErr: ErrInvalid, wantMsg: "domain literals"},
		{name: "ip domain", in: "user@192.0.2.1", wantErr: ErrInvalid, wantMsg: `domain "192.0.2.1": is an IP address`},
		{name: "single label domain", in: "user@localhost", wantErr: ErrInvalid, wantMsg: "single-label name"},
		{name: "empty label in domain", in: "user@a..example.com", wantErr: ErrInvalid, wantMsg: `domain "a..example.com": empty label between dots`},
		{name: "wildcard domain", in: "user@*.example.com", wantErr: ErrInvalid, wantMsg: "wildcards"},
		{name: "underscore domain", in: "user@under_score.com", wantErr: ErrInvalid, wantMsg: "underscore"},
		{name: "label 64 in domain", in: "user@" + rep("a", 64) + ".com", wantErr: ErrTooLong, wantMsg: "the limit is 63"},

		// Lengths.
		{name: "local 65", in: rep("l", 65) + "@example.com", wantErr: ErrTooLong, wantMsg: "local address is 65 octets; the limit is 64"},
		{name: "quoted local 65", in: `"` + rep("l", 63) + `"@example.com`, wantErr: ErrTooLong, wantMsg: "local address is 65 octets"},
		{name: "address 255", in: rep("l", 64) + "@" + domain190, wantErr: ErrTooLong, wantMsg: "255 octets; an address is at most 254"},
		{
			name:    "address 255 after punycode",
			in:      rep("l", 64) + "@ü." + rep("b", 63) + "." + rep("c", 63) + "." + rep("d", 54),
			wantErr: ErrTooLong,
			wantMsg: "255 octets",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email(tt.in)
			checkErr(t, tt.in, err, tt.wantErr, tt.wantMsg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Email(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if err == nil {
				if again, err := Email(got); err != nil || again != got {
					t.Errorf("Email(%q) = %q, %v; want it unchanged", got, again, err)
				}
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantKind Kind
		want     string
		wantErr  error
	}{
		{name: "domain", in: "Example.COM.", wantKind: KindDomain, want: "example.com"},
		{name: "idn domain", in: "bücher.example", wantKind: KindDomain, want: "xn--bcher-kva.example"},
		{name: "email", in: "User@Example.COM", wantKind: KindEmail, want: "User@example.com"},
		{name: "quoted email", in: `"a@b"@example.com`, wantKind: KindEmail, want: `"a@b"@example.com`},
		{name: "bad domain", in: "a..b", wantKind: KindDomain, wantErr: ErrInvalid},
		{name: "bad email", in: "user@", wantKind: KindEmail, wantErr: ErrEmpty},
		{name: "display name", in: "Joe <joe@example.com>", wantKind: KindEmail, wantErr: ErrInvalid},
		{name: "empty", in: "", wantKind: KindDomain, wantErr: ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, got, err := Identity(tt.in)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Identity(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if kind != tt.wantKind || got != tt.want {
				t.Errorf("Identity(%q) = %v, %q; want %v, %q", tt.in, kind, got, tt.wantKind, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		want string
	}{
		{name: "domain", kind: KindDomain, want: "Domain"},
		{name: "email", kind: KindEmail, want: "EmailAddress"},
		{name: "zero", kind: 0, want: "Kind(0)"},
		{name: "unknown", kind: 7, want: "Kind(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, tt.want)
			}
		})
	}
}

func TestIsSubdomain(t *testing.T) {
	tests := []struct {
		name          string
		child, parent string
		want          bool
	}{
		{name: "direct child", child: "mail.example.com", parent: "example.com", want: true},
		{name: "deep child", child: "a.b.mail.example.com", parent: "example.com", want: true},
		{name: "itself", child: "example.com", parent: "example.com", want: false},
		{name: "suffix without dot", child: "badexample.com", parent: "example.com", want: false},
		{name: "parent of parent", child: "example.com", parent: "mail.example.com", want: false},
		{name: "sibling", child: "mail.example.org", parent: "example.com", want: false},
		{name: "empty label is not a subdomain", child: ".example.com", parent: "example.com", want: false},
		{name: "empty parent", child: "example.com", parent: "", want: false},
		{name: "empty child", child: "", parent: "example.com", want: false},
		{name: "idn", child: "mail.xn--bcher-kva.example", parent: "xn--bcher-kva.example", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSubdomain(tt.child, tt.parent); got != tt.want {
				t.Errorf("IsSubdomain(%q, %q) = %v, want %v", tt.child, tt.parent, got, tt.want)
			}
		})
	}
}

func TestDomainOfLocalOf(t *testing.T) {
	tests := []struct {
		name       string
		email      string
		wantDomain string
		wantLocal  string
	}{
		{name: "simple", email: "user@example.com", wantDomain: "example.com", wantLocal: "user"},
		{name: "quoted with at sign", email: `"a@b"@example.com`, wantDomain: "example.com", wantLocal: `"a@b"`},
		{name: "idn", email: "User@xn--bcher-kva.example", wantDomain: "xn--bcher-kva.example", wantLocal: "User"},
		{name: "no at sign", email: "example.com", wantDomain: "", wantLocal: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DomainOf(tt.email); got != tt.wantDomain {
				t.Errorf("DomainOf(%q) = %q, want %q", tt.email, got, tt.wantDomain)
			}
			if got := LocalOf(tt.email); got != tt.wantLocal {
				t.Errorf("LocalOf(%q) = %q, want %q", tt.email, got, tt.wantLocal)
			}
		})
	}
}

func TestParents(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "deep", in: "a.b.example.com", want: []string{"b.example.com", "example.com"}},
		{name: "one below", in: "mail.example.com", want: []string{"example.com"}},
		{name: "registrable", in: "example.com", want: nil},
		{name: "single label", in: "com", want: nil},
		{name: "empty", in: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Parents(tt.in)); diff != "" {
				t.Errorf("Parents(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestLongInputQuotedShort(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) (string, error)
		in   string
	}{
		{name: "domain", fn: Domain, in: rep("a", 5000)},
		{name: "domain multibyte", fn: Domain, in: rep("ü", 5000)},
		{name: "email local", fn: Email, in: rep("a", 5000) + "@example.com"},
		{name: "email domain", fn: Email, in: "a@" + rep("b", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.fn(tt.in)
			if !errors.Is(err, ErrTooLong) {
				t.Fatalf("error = %v, want %v", err, ErrTooLong)
			}
			if n := len(err.Error()); n > 500 {
				t.Errorf("error message is %d bytes; the input should be shortened", n)
			}
			if !utf8.ValidString(err.Error()) {
				t.Errorf("error message is not valid UTF-8")
			}
		})
	}
}
