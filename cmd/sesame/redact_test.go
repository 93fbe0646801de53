package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEndpointPasswordRedacted: an SES endpoint given with credentials
// (--endpoint-url, --instance ENDPOINT@REGION) is never printed with its
// password by the doctor or plan: not when it does not parse, not when the
// SDK quotes it, not in the label of a failed instance. 127.0.0.1:1
// refuses connections, so nothing waits.
func TestEndpointPasswordRedacted(t *testing.T) {
	isolateAWS(t, filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAAAAAAAAAAAAAAAAA")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	dns := []string{"--resolver", "127.0.0.1:1", "--timeout", "200ms"}
	for _, args := range [][]string{
		{"--endpoint-url", "http://alice:hunter2@127.0.0.1:bad", "--region", "us-east-1"},  // does not parse: the SDK quotes it
		{"--endpoint-url", "http://alice:hunter2@127.0.0.1:1", "--region", "us-east-1"},    // nothing listening
		{"--endpoint-url", "ftp://alice:hunter2@127.0.0.1:1", "--region", "us-east-1"},     // not http
		{"--endpoint-url", "http://alice:hunter2%zz@127.0.0.1:1", "--region", "us-east-1"}, // a bad escape
		{"--instance", "http://alice:hunter2@127.0.0.1:1@us-east-1"},
		{"--instance", "http://alice:hunter2@127.0.0.1:bad@us-east-1"},
		{"--instance", "http://alice:hunter2@127.0.0.1:1@"}, // no region: which @ ends the password is anyone's guess
	} {
		for _, cmd := range [][]string{
			append([]string{"doctor", "example.test"}, dns...),
			append([]string{"plan", "example.test"}, dns...),
		} {
			out, errs, code := sesame(t, "", append(cmd, args...)...)
			if code == 0 || strings.Contains(out+errs, "hunter2") || !strings.Contains(errs, "127.0.0.1") && !strings.HasSuffix(args[1], "@") || !strings.Contains(errs, "REDACTED") {
				t.Errorf("sesame %s %s: exit %d, want an error naming the endpoint without its password:\n%s%s", cmd[0], strings.Join(args, " "), code, out, errs)
			}
		}
	}
	// plan's --apply target: credentials have no place in it, and are
	// masked in the refusal.
	for _, target := range []string{"rfc2136://alice:hunter2@127.0.0.1:53?zone=example.test", "rfc2136://alice:hunter2@127.0.0.1:bad"} {
		out, errs, code := sesame(t, "instance x region=us-east-1\n", append([]string{"plan", "example.test", "--from", "-", "--apply", target}, dns...)...)
		if code != 2 || strings.Contains(out+errs, "hunter2") {
			t.Errorf("plan --apply %s: exit %d, want 2 without the password:\n%s%s", target, code, out, errs)
		}
	}
}
