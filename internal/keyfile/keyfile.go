// Package keyfile keeps the server's 32-byte secret keys (the sealing key
// of secret access keys, the signing keys of verification links and console
// sessions) in files of 64 hexadecimal characters, created on first use with
// mode 0600 beside the database and never inside it.
package keyfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame/sesame/internal/fileperm"
)

// Size is the length of a key in bytes.
const Size = 32

// Load reads the key in path, creating the file with a new random key when
// it does not exist, and makes it 0600 if other users could read it. what names the key in errors ("sealing key").
func Load(path, what string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := create(path, what); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := fileperm.Tighten(path); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != Size {
		return nil, fmt.Errorf("%s %q: want 64 hexadecimal characters; delete the file to make a new key", what, path)
	}
	return key, nil
}

// create writes a new key; if another process made the file first, its key
// is kept.
func create(path, what string) error {
	key := make([]byte, Size)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileperm.Private)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, path, err)
	}
	return nil
}
