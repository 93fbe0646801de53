// Package seal encrypts the secrets Sesame keeps in its database (secret
// access keys, DKIM private keys) under a key kept outside it, in a file
// beside the database.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"

	"github.com/sesame/sesame/internal/keyfile"
)

// KeyFile is the default name of the sealing key, beside the database.
const KeyFile = "secret.key"

// Sealer encrypts secrets with AES-256-GCM. The secret's ID (an access key
// ID, a DKIM token) is the additional data, so a sealed secret cannot be
// moved to another row.
type Sealer struct {
	aead cipher.AEAD
}

// LoadSealer reads the key in path, creating the file (mode 0600) with a
// new random key when it does not exist.
func LoadSealer(path string) (*Sealer, error) {
	key, err := keyfile.Load(path, "sealing key")
	if err != nil {
		return nil, err
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
