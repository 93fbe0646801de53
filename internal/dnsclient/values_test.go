package dnsclient

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"
)

// FuzzTXTStrings checks that TXTStrings recovers the exact bytes of a TXT
// string from miekg/dns's escaped form, whatever they are.
func FuzzTXTStrings(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted"`, `back\slash`, "\x00\xff\x7f", "amazonses:tok=", "\\123"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		if len(s) > 255 {
			s = s[:255]
		}
		// A message with one TXT answer of one string, in wire form.
		msg := []byte{0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 60}
		msg = binary.BigEndian.AppendUint16(msg, uint16(len(s)+1))
		msg = append(append(msg, byte(len(s))), s...)
		var m dns.Msg
		if err := m.Unpack(msg); err != nil {
			t.Fatalf("unpack: %v", err)
		}
		got := TXTStrings(m.Answer[0].(*dns.TXT))
		if len(got) != 1 || got[0] != string(s) {
			t.Errorf("TXTStrings(%q) = %q, want %q", m.Answer[0].(*dns.TXT).Txt, got, s)
		}
	})
}
