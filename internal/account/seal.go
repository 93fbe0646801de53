package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the default name of the sealing key, beside the database.
const KeyFile = "secret.key"

// Sealer encrypts secret keys with AES-256-GCM. The access key ID is the
// additional data, so a sealed secret cannot be moved to another key.
type Sealer struct {
	aead cipher.AEAD
}

// LoadSealer reads the hex key in path, creating the file (mode 0600) with a
// new random key when it does not exist.
func LoadSealer(path string) (*Sealer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadSealer(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("sealing key: %w", err)
		}
		_, err = f.WriteString(hex.EncodeToString(key) + "\n")
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("sealing key %q: %w", path, err)
		}
		return NewSealer(key)
	}
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("sealing key %q: want 64 hexadecimal characters", path)
	}
	return NewSealer(key)
}

// NewSealer uses a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret for the key id.
func (s *Sealer) Seal(secret, id string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(id)), nil
}

// Open decrypts what Seal made.
func (s *Sealer) Open(sealed []byte, id string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", errors.New("cannot open the sealed secret: wrong sealing key file?")
	}
	return string(plain), nil
}
