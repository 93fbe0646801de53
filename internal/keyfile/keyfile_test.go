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
