package dnsclient

import (
	"strings"

	"github.com/miekg/dns"
)

// The values of answers, as the record judgements in internal/records
// take them: one place reads TXT, CNAME and MX records off the wire.

// TXTValues returns the value of each TXT record among rrs: its
// character-strings joined without separator (RFC 7208 §3.3, RFC 7489
// §6.6.3), unescaped.
func TXTValues(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, TXTText(t))
		}
	}
	return out
}

// TXTText returns the value of one TXT record, as TXTValues does.
func TXTText(t *dns.TXT) string {
	if len(t.Txt) == 1 {
		return unescape(t.Txt[0])
	}
	return strings.Join(TXTStrings(t), "")
}

// TXTStrings returns the character-strings of t as bytes: miekg/dns keeps
// them in zone-file form, with \" and \DDD escapes.
func TXTStrings(t *dns.TXT) []string {
	out := make([]string, len(t.Txt))
	for i, s := range t.Txt {
		out[i] = unescape(s)
	}
	return out
}

func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n < 256 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// CNAMETargets returns the targets of the CNAME records among rrs, as
// served.
func CNAMETargets(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok {
			out = append(out, c.Target)
		}
	}
	return out
}
