package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// maxString is the longest character-string of a TXT record (RFC 1035
// §3.3.14). Longer values are split into several strings of one record,
// which readers join without separator (RFC 7208 §3.3, RFC 7489 §6.6.3).
const maxString = 255

// splitTXT splits a TXT value into character-strings. Readers join them
// back byte for byte, so any split is correct; a split after a space, as
// people write them, keeps each string readable and each SPF term whole.
func splitTXT(s string) []string {
	var out []string
	for len(s) > maxString {
		cut := strings.LastIndexByte(s[:maxString], ' ') + 1
		if cut == 0 {
			cut = maxString
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// escape writes one character-string in zone-file form, as miekg/dns
// keeps them in dns.TXT: quotes and backslashes escaped, other bytes
// outside printable ASCII as \DDD (RFC 1035 §5.1).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// quoteTXT returns a TXT value as zone files write it: each string quoted,
// separated by spaces.
func quoteTXT(v string) string {
	parts := splitTXT(v)
	for i, p := range parts {
		parts[i] = `"` + escape(p) + `"`
	}
	return strings.Join(parts, " ")
}

// newRR returns the record of s with data, as the plan writes it.
func (s *RRset) newRR(data string) dns.RR {
	hdr := dns.RR_Header{Name: s.Name, Class: dns.ClassINET, Ttl: s.TTL, Rrtype: dns.StringToType[s.Type]}
	switch s.Type {
	case "TXT":
		parts := splitTXT(data)
		for i, p := range parts {
			parts[i] = escape(p)
		}
		return &dns.TXT{Hdr: hdr, Txt: parts}
	case "CNAME":
		return &dns.CNAME{Hdr: hdr, Target: data}
	case "MX":
		pref, host, _ := strings.Cut(data, " ")
		p, _ := strconv.ParseUint(pref, 10, 16)
		return &dns.MX{Hdr: hdr, Preference: uint16(p), Mx: host}
	}
	rr, _ := dns.NewRR(s.Name + " " + s.Type + " " + data)
	return rr
}

// zoneData returns a value as zone files write it: TXT quoted, the rest
// as is (targets are fully qualified).
func (s *RRset) zoneData(data string) string {
	if s.Type == "TXT" {
		return quoteTXT(data)
	}
	return data
}
