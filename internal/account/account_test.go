package account

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/store/sqlite"
)

func newManager(t *testing.T) (*Manager, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sealer, err := LoadSealer(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{Store: s, Sealer: sealer}, dir
}

func TestCreateResolveRevoke(t *testing.T) {
	ctx := context.Background()
	m, dir := newManager(t)
	c, err := m.Create(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(c.AccountId) ||
		!regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyId) || len(c.SecretAccessKey) != 40 {
		t.Fatalf("credentials in the wrong format: %+v", c)
	}
	b, _ := json.Marshal(c)
	if !regexp.MustCompile(`^\{"AccountId":"\d{12}","AccessKeyId":"AKIA[A-Z2-7]{16}","SecretAccessKey":"[^"]{40}"\}$`).Match(b) {
		t.Errorf("JSON %s", b)
	}
	if _, err := m.Create(ctx, "ops"); err == nil {
		t.Error("a second account with the same name was created")
	}
	if _, err := m.Create(ctx, "bad name"); err == nil {
		t.Error("a bad name was accepted")
	}
	k, ok, err := m.Resolve(ctx, c.AccessKeyId)
	if err != nil || !ok || k.Secret != string(c.SecretAccessKey) || k.Account != c.AccountId {
		t.Fatalf("Resolve = %+v, %v, %v", k, ok, err)
	}
	// The secret is not in the database in plain text.
	db, _ := os.ReadFile(filepath.Join(dir, sqlite.FileName))
	wal, _ := os.ReadFile(filepath.Join(dir, sqlite.FileName+"-wal"))
	if bytes.Contains(append(db, wal...), []byte(c.SecretAccessKey)) {
		t.Error("the secret key is stored in plain text")
	}
	c2, err := m.AddKey(ctx, "ops")
	if err != nil || c2.AccountId != c.AccountId {
		t.Fatalf("AddKey = %+v, %v", c2, err)
	}
	if err := m.Revoke(ctx, c.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Resolve(ctx, c.AccessKeyId); ok {
		t.Error("a revoked key still resolves")
	}
	if _, ok, _ := m.Resolve(ctx, c2.AccessKeyId); !ok {
		t.Error("the other key stopped working")
	}
	if _, ok, _ := m.Resolve(ctx, "AKIANOPE"); ok {
		t.Error("an unknown key resolves")
	}
}

// A key revoked by another process (another Manager on the same files) stops
// working once the generation is looked at again.
func TestRevokeFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	m, dir := newManager(t)
	c, _ := m.Create(ctx, "ops")
	if _, ok, _ := m.Resolve(ctx, c.AccessKeyId); !ok {
		t.Fatal("not resolved")
	}
	s2, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	other := &Manager{Store: s2, Sealer: m.Sealer}
	if err := other.Revoke(ctx, c.AccessKeyId); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.checked = time.Time{} // as if CheckEvery had passed
	m.mu.Unlock()
	if _, ok, _ := m.Resolve(ctx, c.AccessKeyId); ok {
		t.Error("a key revoked by another process still resolves")
	}
}

func TestSealerKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	a, err := LoadSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	b, _ := LoadSealer(path)
	sealed, _ := a.Seal("s3cret", "AKIA1")
	if got, err := b.Open(sealed, "AKIA1"); err != nil || got != "s3cret" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(sealed, "AKIA2"); err == nil {
		t.Error("a sealed secret opened for another key ID")
	}
	os.WriteFile(path, []byte("nothex"), 0o600)
	if _, err := LoadSealer(path); err == nil {
		t.Error("a bad key file was accepted")
	}
}
