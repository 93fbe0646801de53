package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	key, err := keyfile.Load(path, what)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("sesame key fingerprint"))
	fp := hex.EncodeToString(mac.Sum(nil)[:16])
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

// checkSharedKeys checks the link and console keys of the data directory;
// OpenAccounts checks the sealing key.
func checkSharedKeys(st store.Store, data string) error {
	if err := checkSharedKey(st, filepath.Join(data, mail.KeyFile), "link signing key"); err != nil {
		return err
	}
	return checkSharedKey(st, filepath.Join(data, console.KeyFile), "console session key")
}
