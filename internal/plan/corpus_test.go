package plan

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// goldenFormats are the files each case writes, by extension.
var goldenFormats = map[Format]string{Table: ".txt", BIND: ".zone", Route53: ".route53.json", Terraform: ".tf", JSON: ".json"}

// dryRunTarget is where the golden dry-run updates are addressed.
var dryRunTarget = &Target{Host: "192.0.2.53", Port: "53"}

// TestCorpus plans each case of testdata/cases against its zones, served
// by DNS servers on loopback, and compares every format, and the update
// that --apply would send, with the golden files.
func TestCorpus(t *testing.T) {
	paths, err := filepath.Glob("testdata/cases/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range paths {
		c := readCase(t, path)
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl, list := world(t, c)
			pl := &Planner{Client: cl}
			if c.opts.Prune {
				pl.List = func(_ context.Context, zone string) ([]dns.RR, error) { return list(nil, zone), nil }
			}
			p, err := pl.Plan(context.Background(), c.opts)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			for _, w := range c.want {
				if !slices.Contains(codes(p), w) {
					t.Errorf("no %s problem; got %v", w, codes(p))
				}
			}
			if b := bad(p); c.clean && len(b) > 0 {
				t.Errorf("a clean case has problems: %+v", b)
			}
			for f, ext := range goldenFormats {
				var out bytes.Buffer
				if err := p.Write(&out, f, WriteOptions{FQDN: c.fqdn}); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				golden(t, "testdata/golden/"+c.name+ext, out.String())
			}
			text := "; nothing to change\n"
			if m := p.Update(p.Zone); m != nil {
				text = UpdateText(m, dryRunTarget, nil)
			}
			golden(t, "testdata/golden/"+c.name+".nsupdate", text)
		})
	}
}
