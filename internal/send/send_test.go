package send

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/registry"
)

func TestSimulatorOutcome(t *testing.T) {
	for addr, want := range map[string]string{
		"success@simulator.amazonses.com":         "delivered",
		"bounce+label@simulator.amazonses.com":    "hard bounce, 550 5.1.1 unknown user",
		"complaint@simulator.amazonses.com":       "delivered, then a complaint",
		"ooto@simulator.amazonses.com":            "delivered, then an automatic reply to the Return-Path",
		"suppressionlist@simulator.amazonses.com": "hard bounce: the address is on the global suppression list",
	} {
		if got := simulatorOutcome(addr); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestParseRaw(t *testing.T) {
	r, err := parseRaw([]byte("From: a@example.com\r\nSubject: one\r\n two\r\nTo: b@example.org\r\n\r\nbody\r\n"), MaxV1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.fields) != 3 || string(r.fields[1].lines) != "Subject: one\r\n two\r\n" || string(r.body) != "body\r\n" {
		t.Errorf("fields %q, body %q", r.fields, r.body)
	}
	for _, c := range []struct{ raw, want string }{
		{"From: a@x\r\nmessage-id: <1@x>\r\nMessage-ID: <2@x>\r\n\r\nb", "Duplicate header 'Message-ID'."},
		{"no colon here\r\n\r\nbody", "header could not be read"},
	} {
		_, err := parseRaw([]byte(c.raw), MaxV1)
		if !registry.IsKind(err, registry.Invalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.raw, err, c.want)
		}
	}
	if _, err := parseRaw([]byte("From: a@x\r\n\r\n"+strings.Repeat("x", 100)), 50); !registry.IsKind(err, registry.Rejected) {
		t.Errorf("too large: %v", err)
	}
}

// FuzzParseRaw: no raw message panics the parser, and what it accepts it
// splits without losing a byte of the fields or the body.
func FuzzParseRaw(f *testing.F) {
	for _, s := range []string{"From: a@x\r\n\r\nb", "A: 1\n 2\nB: 3\n\nbody", "\r\n\r\n", "X:\r\n\r\n", "From: a@x\r\nFrom: b@x\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := parseRaw(raw, MaxV1)
		if err != nil {
			var e *registry.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a registry error", err)
			}
			return
		}
		n := len(r.body)
		for _, f := range r.fields {
			n += len(f.lines)
		}
		if n > len(raw) {
			t.Fatalf("fields and body are %d bytes of a %d-byte message", n, len(raw))
		}
	})
}
