package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// subcommand finds the command of a path, such as "identities show".
func subcommand(t *testing.T, path string) *cobra.Command {
	t.Helper()
	c, _, err := newRoot().Find(strings.Fields(path))
	if err != nil || c.CommandPath() != "sesame "+path {
		t.Fatalf("no command %q: %v", path, err)
	}
	return c
}

// readmeFlags returns the flags of the README's "### Flags" table.
func readmeFlags(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Flags\n")
	if !ok {
		t.Fatal("README.md has no ### Flags section")
	}
	sec, _, _ = strings.Cut(sec, "\n#")
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\|").FindAllStringSubmatch(sec, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

// TestServeEnvMatchesREADME: the README's Flags table says every flag of
// serve has a variable; the table, serve's flags and those with a
// variable are the same list.
func TestServeEnvMatchesREADME(t *testing.T) {
	serve := subcommand(t, "serve")
	serve.InitDefaultHelpFlag()
	var all []string
	add := func(f *pflag.Flag) {
		if f.Name != "help" && !slices.Contains(all, f.Name) {
			all = append(all, f.Name)
		}
	}
	serve.Flags().VisitAll(add)
	serve.InheritedFlags().VisitAll(add)
	slices.Sort(all)
	env := envFlags(serve)
	slices.Sort(env)
	env = slices.Compact(env)
	if !slices.Equal(env, all) {
		t.Errorf("serve's flags with a variable:\n  %v\nserve's flags:\n  %v", env, all)
	}
	if readme := readmeFlags(t); !slices.Equal(readme, all) {
		t.Errorf("README's Flags table:\n  %v\nserve's flags:\n  %v", readme, all)
	}
	if !slices.IsSorted(serveEnv) {
		t.Error("serveEnv is not in name order")
	}
}

// TestEnvOnlyDocumented: the other commands read the variables of the
// flags that must agree with the server's, and plan SESAME_TSIG; no other.
func TestEnvOnlyDocumented(t *testing.T) {
	global := []string{"data", "database-url", "log-format", "log-level"}
	for path, want := range map[string][]string{
		"accounts create": append([]string{"key-file"}, global...),
		"accounts list":   append([]string{"key-file"}, global...),
		"identities show": append([]string{"link-validity", "revocation-grace", "verification-window"}, global...),
		"outbox":          global,
		"database copy":   append([]string{"key-file"}, global...),
		"doctor":          global,
		"plan":            append([]string{"tsig"}, global...),
	} {
		got := envFlags(subcommand(t, path))
		slices.Sort(got)
		got = slices.Compact(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("sesame %s: flags with a variable %v, want %v", path, got, want)
		}
	}
}

// TestEnvIgnored: a variable of a flag that has none changes nothing.
// SESAME_DRY_RUN used to make this plan a usage error (--dry-run without
// --apply), SESAME_OUTPUT the outbox JSON, SESAME_DNS_PORT the doctor's
// port (a bad one, refused).
func TestEnvIgnored(t *testing.T) {
	t.Setenv("SESAME_DATA", t.TempDir())
	t.Setenv("SESAME_DRY_RUN", "true")
	t.Setenv("SESAME_OUTPUT", "json")
	t.Setenv("SESAME_DNS_PORT", "0")
	_, errs, code := sesame(t, "", "plan", "example.test", "--from", "-")
	if code != 2 || !strings.Contains(errs, "no instances") {
		t.Errorf("plan with SESAME_DRY_RUN: exit status %d, %s; want 2 and no instances", code, errs)
	}
	out, errs, code := sesame(t, "", "outbox")
	if code != 0 || !strings.HasPrefix(out, "CREATED") {
		t.Errorf("outbox with SESAME_OUTPUT=json: exit status %d, %q %s; want the text form", code, out, errs)
	}
	_, errs, code = sesame(t, "", "doctor", "example.test", "--resolver", "127.0.0.1:1", "--timeout", "50ms")
	if strings.Contains(errs, "--dns-port") {
		t.Errorf("doctor read SESAME_DNS_PORT: exit status %d, %s", code, errs)
	}
}

// TestEnvTSIG: plan reads --tsig from SESAME_TSIG; the command line wins.
func TestEnvTSIG(t *testing.T) {
	t.Setenv("SESAME_TSIG", "k:hmac-md5:c2VjcmV0")
	base := []string{"plan", "example.test", "--from", "-", "--apply", "rfc2136://127.0.0.1"}
	_, errs, code := sesame(t, "", base...)
	if code != 2 || !strings.Contains(errs, "--tsig") || !strings.Contains(errs, "TSIG algorithm") {
		t.Errorf("bad SESAME_TSIG: exit status %d, %s; want 2 and --tsig", code, errs)
	}
	_, errs, code = sesame(t, "", append(base, "--tsig", "k:hmac-sha256:c2VjcmV0")...)
	if code != 2 || strings.Contains(errs, "--tsig") || !strings.Contains(errs, "no instances") {
		t.Errorf("--tsig over a bad SESAME_TSIG: exit status %d, %s; want 2 and no instances", code, errs)
	}
}

// TestUsageExitStatus: every mistake in the command line is exit status 2,
// cobra's own (flags, argument counts, unknown commands) included, and a
// usage error wrapped in another error still is.
func TestUsageExitStatus(t *testing.T) {
	t.Setenv("SESAME_DATA", t.TempDir())
	for _, args := range [][]string{
		{"bogus"},
		{"accounts", "bogus"},
		{"accounts", "keys", "bogus"},
		{"accounts", "create"},
		{"accounts", "create", "a", "b"},
		{"outbox", "--limit", "many"},
		{"outbox", "bogus"},
		{"doctor", "example.test", "--bogus"},
		{"identities", "show"},
		{"serve", "extra"},
		{"serve", "--verify=maybe"},
	} {
		_, errs, code := sesame(t, "", args...)
		if code != 2 {
			t.Errorf("sesame %s: exit status %d, want 2 (%s)", strings.Join(args, " "), code, strings.TrimSpace(errs))
		}
	}
	wrapped := fmt.Errorf("opening: %w", usageError{errors.New("--x: bad")})
	if exitCode(wrapped) != 2 || exitCode(errors.New("refused")) != 1 {
		t.Errorf("exitCode(wrapped usage error) = %d, exitCode(other) = %d; want 2 and 1", exitCode(wrapped), exitCode(errors.New("refused")))
	}
	if _, _, code := sesame(t, "", "accounts"); code != 0 {
		t.Errorf("sesame accounts (help): exit status %d, want 0", code)
	}
}
