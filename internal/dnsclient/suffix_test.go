package dnsclient

import "testing"

func TestPublicZone(t *testing.T) {
	for _, c := range []struct {
		domain, zone string
		want         bool
	}{
		{"example.com", ".", true},
		{"example.com", "com.", true},
		{"a.example.co.uk", "co.uk", true},
		{"a.example.co.uk", "uk.", true},
		{"a.example.co.uk", "example.co.uk.", false},
		{"Example.COM.", "example.com.", false},
		{"a.b.example.com", "b.example.com", false},
	} {
		if got := PublicZone(c.domain, c.zone); got != c.want {
			t.Errorf("PublicZone(%q, %q) = %v, want %v", c.domain, c.zone, got, c.want)
		}
	}
}
