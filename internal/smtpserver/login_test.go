package smtpserver

import (
	"errors"
	"testing"
)

// TestLoginServer: AUTH LOGIN asks the user name and then the password,
// or takes the user name as the initial response.
func TestLoginServer(t *testing.T) {
	var user, pass string
	check := func(u, p string) error { user, pass = u, p; return nil }
	l := &loginServer{check: check}
	for i, step := range []struct {
		in, challenge string
		done          bool
	}{{"", "Username:", false}, {"AKIA", "Password:", false}, {"secret", "", true}} {
		c, done, err := l.Next([]byte(step.in))
		if err != nil || string(c) != step.challenge || done != step.done {
			t.Fatalf("step %d: %q %v %v", i, c, done, err)
		}
	}
	if user != "AKIA" || pass != "secret" {
		t.Errorf("checked %q %q", user, pass)
	}
	l = &loginServer{check: check}
	if c, _, _ := l.Next([]byte("AKIB")); string(c) != "Password:" {
		t.Errorf("with an initial response: %q, want the password asked", c)
	}
	if _, done, _ := l.Next([]byte("pw")); !done || user != "AKIB" {
		t.Errorf("initial response: user %q", user)
	}
	if _, _, err := l.Next([]byte("more")); err == nil {
		t.Error("a response after the end accepted")
	}
}

// FuzzLoginServer: no sequence of responses panics or checks more than
// once.
func FuzzLoginServer(f *testing.F) {
	f.Add([]byte(""), []byte("AKIA"), []byte("pw"), []byte("x"))
	f.Add([]byte("AKIA"), []byte("pw"), []byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, a, b, c, d []byte) {
		n := 0
		l := &loginServer{check: func(string, string) error { n++; return errors.New("no") }}
		for _, r := range [][]byte{a, b, c, d} {
			l.Next(r)
		}
		if n > 1 {
			t.Fatalf("checked %d times", n)
		}
	})
}
