package seal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSealOpen: what Seal makes opens for the same ID only, and with the
// key file's key only; the key file is made 0600 on first use and read
// back after.
func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFile)
	s, err := LoadSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	sealed, err := s.Seal("private key", "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(sealed, "tok1"); err != nil || got != "private key" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "tok2"); err == nil {
		t.Error("a sealed secret opened for another ID")
	}
	again, err := LoadSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed, "tok1"); err != nil || got != "private key" {
		t.Errorf("after reloading the key file: %q, %v", got, err)
	}
	other, _ := LoadSealer(filepath.Join(t.TempDir(), KeyFile))
	if _, err := other.Open(sealed, "tok1"); err == nil {
		t.Error("opened with another key file's key")
	}
	if _, err := s.Open(sealed[:5], "tok1"); err == nil {
		t.Error("opened a truncated secret")
	}
}
