package main

import (
	"strings"
	"testing"
)

// TestServeBodyAndConnectionFlags: --body-memory-mib below what one largest body and
// the small calls beside it need is refused at start, with the minimum
// and why (before, 32 was accepted: a template upload then took all that
// large bodies may use, and 33 MiB bodies more than that); the
// connection bounds must be at least 1.
func TestServeBodyAndConnectionFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--body-memory-mib", "46"}, []string{"--body-memory-mib 46", "at least 47 MiB", "template"}},
		{[]string{"--body-memory-mib", "32"}, []string{"--body-memory-mib 32", "at least 47 MiB"}},
		{[]string{"--body-memory-mib", "0"}, []string{"at least 47 MiB"}},
		{[]string{"--max-connections", "0"}, []string{"--max-connections 0", "at least 1"}},
		{[]string{"--max-connections-per-ip", "-1"}, []string{"--max-connections-per-ip -1", "at least 1"}},
	} {
		code, stderr := runSesame(t, append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, c.args...)...)
		if code != 2 {
			t.Errorf("serve %s: exit %d, want 2 (a usage error)\n%s", strings.Join(c.args, " "), code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("serve %s: the error does not say %q:\n%s", strings.Join(c.args, " "), w, stderr)
			}
		}
	}
}
