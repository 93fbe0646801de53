package layout

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sesame/sesame/"

type pkg struct {
	ImportPath string
	Imports    []string // direct, not tests'
	Deps       []string // transitive
}

// list returns every package of the module, as go list sees it.
func list(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func local(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, module); ok {
			out = append(out, rest)
		}
	}
	return out
}

// TestImports holds ../shared/STYLE.md's rules: nothing imports cmd or the
// protocols but the assembly, nor a store backend but the assembly (and
// the benchmarks, which measure one); plan and doctor both judge through records
// and neither imports the other; identity, records and names do no I/O.
func TestImports(t *testing.T) {
	pkgs := list(t)
	for name, p := range pkgs {
		for _, imp := range local(p.Imports) {
			switch {
			case strings.HasPrefix(imp, "cmd/"):
				t.Errorf("%s imports %s: nothing imports cmd", name, imp)
			case strings.HasPrefix(imp, "internal/api/") && name != "internal/server" && !strings.HasPrefix(name, "internal/api/"):
				t.Errorf("%s imports %s: only internal/server assembles the protocols", name, imp)
			case strings.HasPrefix(imp, "internal/store/") && name != "internal/server" && !strings.HasPrefix(name, "bench/") && !strings.HasPrefix(name, "internal/store/"):
				t.Errorf("%s imports %s: only internal/server (OpenStore) names a store backend; the rest use the store interfaces", name, imp)
			case name == "internal/plan" && imp == "internal/doctor", name == "internal/doctor" && imp == "internal/plan":
				t.Errorf("%s imports %s: plan and doctor both use records and dnsclient, not each other", name, imp)
			}
		}
	}
	// No I/O: not even through a dependency.
	noIO := []string{"net", "net/http", "os/exec", "database/sql", "github.com/miekg/dns",
		module + "internal/dnsclient", module + "internal/store", module + "internal/mail"}
	pure := map[string][]string{
		"internal/names":    nil,
		"internal/identity": {"internal/names"},
		"internal/records":  {"internal/config", "internal/identity", "internal/names"},
	}
	for name, allowed := range pure {
		p, ok := pkgs[name]
		if !ok {
			t.Fatalf("package %s not found", name)
		}
		for _, d := range p.Deps {
			if slices.Contains(noIO, d) {
				t.Errorf("%s depends on %s: it must do no I/O", name, d)
			}
		}
		for _, imp := range local(p.Imports) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s; it may import only %v", name, imp, allowed)
			}
		}
		if slices.Contains(p.Imports, "os") {
			t.Errorf("%s imports os: it must do no I/O", name)
		}
	}
}
