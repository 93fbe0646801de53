package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sesame/sesame/internal/store"
)

// TestFileModes opens a store in a data directory made beforehand with mode
// 0755 (as systemd units and container volumes make it), under the usual
// umask 022: the database, its WAL and its shared-memory file must all be
// 0600, since the outbox in them holds live verification links.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write makes the WAL and the shared-memory file.
	if err := s.CreateAccount(ctx, store.Account{ID: "123456789012", Name: "a"}, store.AccessKey{ID: "AKIA1", Account: "123456789012", SealedSecret: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, dir, FileName, FileName+"-wal", FileName+"-shm")
}

// TestFileModesTightened: files of an older Sesame, made 0644, are made
// 0600 when the store opens.
func TestFileModesTightened(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, f := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		p := filepath.Join(dir, f)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644) // the WAL and SHM are gone after a clean close
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantPrivate(t, dir, FileName, FileName+"-wal", FileName+"-shm")
}

func wantPrivate(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}
