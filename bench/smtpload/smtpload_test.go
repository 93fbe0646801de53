package main

import (
	"os"
	"regexp"
	"testing"
)

// TestMain lets the test binary be the Sesame child, as the command is.
func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		serve(dir)
		return
	}
	os.Exit(m.Run())
}

// TestSesamePhase runs the Sesame phases in small: every message sent is
// accepted over STARTTLS and AUTH, stored, and signed when signing is
// on, and latencies are recorded for each.
func TestSesamePhase(t *testing.T) {
	msg := message(10240)
	if len(msg) != 10240 {
		t.Fatalf("message of %d bytes, want 10240", len(msg))
	}
	for _, sign := range []bool{true, false} {
		tg, _, stop := startSesame(sign, "", "")
		st := load(tg, 3, 20, msg)
		audit := stop()
		if st.errors != 0 || st.count() != 20 || len(st.lat) != 20 {
			t.Errorf("sign %v: %d sent, %d errors (first: %v); want 20, 0", sign, st.count(), st.errors, st.firstErr)
		}
		want := `^stored 20 \(by status: map\[local:20\]\), signed 0$`
		if sign {
			want = `^stored 20 \(by status: map\[local:20\]\), signed 20$`
		}
		if !regexp.MustCompile(want).MatchString(audit) {
			t.Errorf("sign %v: the child's audit says %q, want %s", sign, audit, want)
		}
	}
}
