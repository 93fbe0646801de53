package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func cases(t testing.TB) []testCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/cases/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases in testdata/cases: %v", err)
	}
	var cs []testCase
	for _, p := range paths {
		cs = append(cs, readCase(t, p))
	}
	return cs
}

// TestCorpus diagnoses each zone of testdata/cases, served by real DNS
// servers on loopback, and compares the text and JSON reports with the
// golden files.
func TestCorpus(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl, port := startWorld(t, c)
			d := &Doctor{Client: cl}
			rep, err := d.Diagnose(context.Background(), c.input)
			if err != nil {
				t.Fatalf("Diagnose: %v", err)
			}
			var got []Code
			for _, f := range rep.Findings {
				got = append(got, f.Code)
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("no %s finding; got %v", w, got)
				}
			}
			bad := rep.Counts.Error + rep.Counts.Warning
			switch {
			case c.clean && bad > 0:
				t.Errorf("a correct zone gave %d error(s) and warning(s): %v", bad, got)
			case !c.clean && bad == 0:
				t.Errorf("a broken zone came out all good: %v", got)
			}

			var text, js bytes.Buffer
			if err := rep.WriteText(&text, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			enc := json.NewEncoder(&js)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				t.Fatal(err)
			}
			golden(t, "testdata/golden/"+c.name+".txt", normalise(text.String(), port))
			golden(t, "testdata/golden/"+c.name+".json", normalise(js.String(), port))
		})
	}
}

// TestCorpusCoversEveryCode makes sure each code has a zone that shows it.
func TestCorpusCoversEveryCode(t *testing.T) {
	covered := map[Code]bool{}
	for _, c := range cases(t) {
		for _, w := range c.want {
			if _, ok := catalogue[w]; !ok {
				t.Errorf("case %s wants unknown code %s", c.name, w)
			}
			covered[w] = true
		}
	}
	for _, code := range Codes() {
		if !covered[code] {
			t.Errorf("no case in testdata/cases wants %s", code)
		}
	}
}

// normalise replaces the servers' random port, so that golden files do
// not change from run to run.
func normalise(s, port string) string {
	return strings.NewReplacer("-p "+port+" ", "-p PORT ", "#"+port, "#PORT", ":"+port, ":PORT").Replace(s)
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
