package server

import "testing"

func TestLoopbackListen(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.2:0": true, "[::1]:8080": true, "localhost:8080": true, "LOCALHOST:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.0.2.1:8080": false, "sesame.example.com:80": false,
		"127.0.0.1": false, // not host:port: refused later by net.Listen anyway
	} {
		if got := LoopbackListen(listen); got != want {
			t.Errorf("LoopbackListen(%q) = %v, want %v", listen, got, want)
		}
	}
}

// TestLoopbackURL: the public URL of links is this machine's only when its
// host is localhost or a loopback address, in any of their spellings.
func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://localhost:8080":          true,
		"https://LocalHost/":             true,
		"http://127.0.0.1:8080/sesame":   true,
		"http://127.1.2.3":               true,
		"http://[::1]:8080":              true,
		"http://[::1]":                   true,
		"http://[::ffff:127.0.0.1]:8080": true, // IPv4-mapped loopback
		"http://user@127.0.0.1:8080":     true,
		"https://sesame.example.com":     false,
		"http://localhost.example.com":   false, // a name, not localhost
		"http://sesame:8080":             false,
		"http://192.0.2.1:8080":          false,
		"http://[::ffff:192.0.2.1]:8080": false,
		"http://[2001:db8::1]":           false,
		"http://0.0.0.0:8080":            false, // every interface
		"http://[::]:8080":               false,
		"/relative":                      false,
		"":                               false,
		"http://127.0.0.1:bad":           false, // does not parse
		"http://127.0.0.1.nip.io:8080":   false,
		"http://[fe80::1%25eth0]:8080":   false,
		"http://2130706433":              false, // 127.0.0.1 as a number: a name to Go, not an address
	} {
		if got := LoopbackURL(raw); got != want {
			t.Errorf("LoopbackURL(%q) = %v, want %v", raw, got, want)
		}
	}
	for listen, want := range map[string]bool{"[::ffff:127.0.0.1]:8080": true, "[::ffff:192.0.2.1]:8080": false, "127.0.0.1.nip.io:80": false} {
		if got := LoopbackListen(listen); got != want {
			t.Errorf("LoopbackListen(%q) = %v, want %v", listen, got, want)
		}
	}
}
