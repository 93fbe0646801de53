package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/registry"
)

// TestServeLimitFlags: --regions and the account-wide caps, their
// defaults, and the values that cannot work.
func TestServeLimitFlags(t *testing.T) {
	fl := newServe(&globals{}).Flags()
	caps := func() registry.Caps {
		i, _ := fl.GetInt("max-account-identities")
		tm, _ := fl.GetInt("max-account-templates")
		return registry.Caps{Identities: i, Templates: tm}
	}
	if n := len(config.SESRegions); n != len(slices.Compact(slices.Sorted(slices.Values(config.SESRegions)))) {
		t.Errorf("config.SESRegions repeats a region: %q", config.SESRegions)
	}
	if r, _ := fl.GetStringSlice("regions"); len(r) != 0 || caps() != (registry.Caps{Identities: 10000, Templates: 50}) {
		t.Errorf("defaults: regions %q, caps %+v; want none (SES's) and 10,000 and 50", r, caps())
	}
	if err := fl.Parse([]string{"--regions", "eu-west-1,us-east-1", "--max-account-identities", "50000", "--max-account-templates", "100"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := fl.GetStringSlice("regions"); !slices.Equal(r, []string{"eu-west-1", "us-east-1"}) || caps() != (registry.Caps{Identities: 50000, Templates: 100}) {
		t.Errorf("given: regions %q, caps %+v", r, caps())
	}

	ok := registry.Caps{Identities: 1, Templates: 1}
	for _, c := range []struct {
		f    regionFlags
		want string // "" for no error
	}{
		{regionFlags{caps: ok}, ""},
		{regionFlags{regions: config.SESRegions, caps: ok}, ""}, // SES's own list passes the rule an operator's list must
		{regionFlags{regions: []string{"eu-west-1", "private-1"}, caps: ok}, ""},
		{regionFlags{regions: []string{"US-EAST-1"}, caps: ok}, `--regions: region "US-EAST-1"`},
		{regionFlags{regions: []string{"eu-west-1", ""}, caps: ok}, `--regions: region ""`},
		{regionFlags{regions: []string{"eu-west-1", "us-east-1", "eu-west-1"}, caps: ok}, `"eu-west-1" is given twice`},
		{regionFlags{regions: []string{"us east 1"}, caps: ok}, `--regions: region "us east 1"`},
		{regionFlags{regions: []string{"us-east-1-"}, caps: ok}, `--regions: region "us-east-1-"`},
		{regionFlags{caps: registry.Caps{Identities: 0, Templates: 1}}, "--max-account-identities 0"},
		{regionFlags{caps: registry.Caps{Identities: 1, Templates: -1}}, "--max-account-templates -1"},
	} {
		err := c.f.validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.f, err, c.want)
		}
	}
}

// TestServeWarnsUnknownRegion: a --regions list naming a region where SES
// has no endpoint (a typo) is served, with a warning at start that names it
// and the SES region nearest its name; SES's own regions get none. A
// --data that is a file stops serve just after.
func TestServeWarnsUnknownRegion(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := runSesame(t, "serve", "--data", notDir, "--listen", "127.0.0.1:0", "--regions", "eu-west-1,us-esat-1,ap-southeast-9")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the data directory is a file)\n%s", code, stderr)
	}
	for _, want := range []string{"region=us-esat-1 nearest=us-east-1", "region=ap-southeast-9 nearest=ap-southeast-1"} {
		if !strings.Contains(stderr, want) || !strings.Contains(stderr, "level=WARN") {
			t.Errorf("no warning with %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "region=eu-west-1") {
		t.Errorf("a warning for an SES region:\n%s", stderr)
	}
	code, stderr = runSesame(t, "serve", "--data", notDir, "--listen", "127.0.0.1:0", "--regions", "us-east-1,US-WEST-2")
	if code != 2 || !strings.Contains(stderr, `"US-WEST-2"`) {
		t.Errorf("an invalid region: exit %d, want 2 naming it\n%s", code, stderr)
	}
}
