package main

import (
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
	caps := func() registry.Limits {
		i, _ := fl.GetInt("max-account-identities")
		tm, _ := fl.GetInt("max-account-templates")
		return registry.Limits{Identities: i, Templates: tm}
	}
	if n := len(config.SESRegions); n != len(slices.Compact(slices.Sorted(slices.Values(config.SESRegions)))) {
		t.Errorf("config.SESRegions repeats a region: %q", config.SESRegions)
	}
	if r, _ := fl.GetStringSlice("regions"); len(r) != 0 || caps() != (registry.Limits{Identities: 10000, Templates: 50}) {
		t.Errorf("defaults: regions %q, caps %+v; want none (SES's) and 10,000 and 50", r, caps())
	}
	if err := fl.Parse([]string{"--regions", "eu-west-1,us-east-1", "--max-account-identities", "50000", "--max-account-templates", "100"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := fl.GetStringSlice("regions"); !slices.Equal(r, []string{"eu-west-1", "us-east-1"}) || caps() != (registry.Limits{Identities: 50000, Templates: 100}) {
		t.Errorf("given: regions %q, caps %+v", r, caps())
	}

	ok := registry.Limits{Identities: 1, Templates: 1}
	for _, c := range []struct {
		f    serveFlags
		want string // "" for no error
	}{
		{serveFlags{limits: ok}, ""},
		{serveFlags{regions: config.SESRegions, limits: ok}, ""}, // SES's own list passes the rule an operator's list must
		{serveFlags{regions: []string{"eu-west-1", "private-1"}, limits: ok}, ""},
		{serveFlags{regions: []string{"US-EAST-1"}, limits: ok}, `--regions: region "US-EAST-1"`},
		{serveFlags{regions: []string{"eu-west-1", ""}, limits: ok}, `--regions: region ""`},
		{serveFlags{limits: registry.Limits{Identities: 0, Templates: 1}}, "--max-account-identities 0"},
		{serveFlags{limits: registry.Limits{Identities: 1, Templates: -1}}, "--max-account-templates -1"},
	} {
		err := c.f.validateLimits()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.f, err, c.want)
		}
	}
}
