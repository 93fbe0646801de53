package keyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "k")
	a, err := Load(path, "test key")
	if err != nil || len(a) != Size {
		t.Fatalf("Load = %x, %v", a, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
	b, err := Load(path, "test key")
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("second Load = %x, %v; want the same key", b, err)
	}
	os.WriteFile(path, []byte("nothex"), 0o600)
	if _, err := Load(path, "test key"); err == nil {
		t.Error("a bad key file was accepted")
	}
}

// TestLoadTightens: a key file readable by other users (made by hand, or by
// an older Sesame under a loose umask) is made 0600 when it is loaded.
func TestLoadTightens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, bytes.Repeat([]byte("ab"), Size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, "test key"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after Load, want 0600", fi.Mode())
	}
}
