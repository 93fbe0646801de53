package fileperm

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTighten(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode, want os.FileMode
	}{{0o644, 0o600}, {0o666, 0o600}, {0o600, 0o600}, {0o400, 0o400}, {0o440, 0o400}} {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, nil, 0o600)
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := Tighten(p); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != tc.want {
			t.Errorf("%04o: %04o after Tighten, want %04o", tc.mode, fi.Mode().Perm(), tc.want)
		}
	}
	if err := Tighten(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("a missing file: %v", err)
	}
}

func TestOpenToOthers(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		open bool
	}{{0o755, true}, {0o701, true}, {0o750, false}, {0o700, false}} {
		if err := os.Chmod(dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		if m, open := OpenToOthers(dir); open != tc.open || (open && m != tc.mode) {
			t.Errorf("%04o: OpenToOthers = %04o, %v; want %v", tc.mode, m, open, tc.open)
		}
	}
}
