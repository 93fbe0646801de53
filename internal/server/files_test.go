package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/server"
)

// TestDataFilesPrivate runs Sesame in a data directory made beforehand with
// mode 0755 (as systemd units and container volumes make it), under umask
// 022: once something is written, every file in it (database, WAL, shared
// memory, the three keys) is 0600, and the start warned that the directory
// is open to other users.
func TestDataFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := server.Open(context.Background(), server.Options{Data: dir, DNS: config.SES(), Policies: identity.SESPolicies(),
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Accounts.Create(context.Background(), "tenant"); err != nil { // a write: the WAL and SHM exist
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "data directory") || !strings.Contains(logs.String(), "0755") {
		t.Errorf("no warning about the 0755 data directory in the log:\n%s", logs.String())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"sesame.db": false, "sesame.db-wal": false, "sesame.db-shm": false, "secret.key": false, "link.key": false, "console.key": false}
	for _, de := range ents {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := want[de.Name()]; ok {
			want[de.Name()] = true
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", de.Name(), fi.Mode().Perm())
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("%s not in the data directory", name)
		}
	}
}
