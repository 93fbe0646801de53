package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/console"
	"github.com/sesame/sesame/internal/keyfile"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/store"
)

// checkSharedKey refuses a key file other than the one the other users of
// a shared store (replicas on PostgreSQL) hold: their sealed secrets would
// not open with it, nor their links and sessions verify. The store keeps a
// fingerprint of each key (store.SharedKeys), which reveals nothing of the
// key; a store that is not shared checks nothing.
func checkSharedKey(st any, path, what string) error {
	sk, ok := st.(store.SharedKeys)
	if !ok {
		return nil
	}
	fp, err := keyFingerprint(path, what)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := filepath.Base(path)
	stored, err := sk.KeyFingerprint(ctx, what, fp)
	if err != nil {
		return fmt.Errorf("%s: checking it against the database's: %w", what, err)
	}
	if stored != fp {
		return fmt.Errorf("%s %s is not the one the other servers on this database use: copy their %s here (every replica shares the files %s, %s and %s; see README, Running on PostgreSQL)",
			what, path, name, account.KeyFile, mail.KeyFile, console.KeyFile)
	}
	return nil
}

// keyFingerprint loads the key in path (creating it when there is none)
// and returns its fingerprint, which reveals nothing of the key.
func keyFingerprint(path, what string) (string, error) {
	key, err := keyfile.Load(path, what)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("sesame key fingerprint"))
	return hex.EncodeToString(mac.Sum(nil)[:16]), nil
}

// The names of the shared keys, as the store keeps their fingerprints.
const (
	sealingKey = "sealing key"
	linkKey    = "link signing key"
	consoleKey = "console session key"
)

// checkSharedKeys checks the link and console keys of the data directory;
// OpenAccounts checks the sealing key.
func checkSharedKeys(st store.Store, data string) error {
	if err := checkSharedKey(st, filepath.Join(data, mail.KeyFile), linkKey); err != nil {
		return err
	}
	return checkSharedKey(st, filepath.Join(data, console.KeyFile), consoleKey)
}

// SharedKey is a key file that every server on one database holds.
type SharedKey struct {
	Name        string // as store.SharedKeys keeps its fingerprint: "sealing key"
	Path        string
	Fingerprint string
}

// SharedKeys returns the key files that servers sharing a database must
// share, with their fingerprints: the sealing key (keyFile, default
// <data>/secret.key), the link signing key and the console session key of
// data. A missing link or console key is created, as a server's start
// creates it; a missing sealing key is an error, since whatever a store
// holds sealed was sealed with one (`sesame database copy` records these
// in the PostgreSQL database it fills).
func SharedKeys(data, keyFile string) ([]SharedKey, error) {
	if keyFile == "" {
		keyFile = filepath.Join(data, account.KeyFile)
	}
	if _, err := os.Stat(keyFile); err != nil {
		return nil, fmt.Errorf("%s: %w (the secrets in the database were sealed with it: give its file with --key-file)", sealingKey, err)
	}
	keys := []SharedKey{
		{Name: sealingKey, Path: keyFile},
		{Name: linkKey, Path: filepath.Join(data, mail.KeyFile)},
		{Name: consoleKey, Path: filepath.Join(data, console.KeyFile)},
	}
	for i := range keys {
		fp, err := keyFingerprint(keys[i].Path, keys[i].Name)
		if err != nil {
			return nil, err
		}
		keys[i].Fingerprint = fp
	}
	return keys, nil
}
