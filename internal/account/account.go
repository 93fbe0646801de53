// Package account manages tenants and their access keys. Secret keys are
// sealed with AES-256-GCM under a key kept outside the database (a key file
// beside it by default), so a copy of the database alone reveals no secret.
package account

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/store"
)

// Credentials is what a tenant configures its AWS client with. The JSON
// names are those of `sesame accounts create --output json`.
type Credentials struct {
	AccountId       string
	AccessKeyId     string
	SecretAccessKey Secret
}

// Secret is a secret access key; it never appears in logs.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// Key is an active access key and its owner, as the API needs them.
type Key struct {
	Account string
	Secret  string
}

// Manager creates accounts and keys and resolves access key IDs. Resolved
// keys are cached; the cache is emptied when this process changes a key and,
// for changes made by another process (the `sesame accounts` commands while
// the server runs), when the store's generation moves, which is looked at
// no more than every CheckEvery.
type Manager struct {
	Store      store.Accounts
	Sealer     *Sealer
	Now        func() time.Time
	CheckEvery time.Duration // default 100ms

	mu      sync.Mutex
	cache   map[string]Key // access key ID -> key; a missing or revoked key is not cached
	gen     int64
	checked time.Time
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ErrBadName is returned for an account name that is not 1-64 letters,
// digits, dots, dashes or underscores.
var ErrBadName = errors.New("bad account name")

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Create makes an account with one access key.
func (m *Manager) Create(ctx context.Context, name string) (*Credentials, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w %q: use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit", ErrBadName, name)
	}
	for range 5 {
		a := store.Account{ID: newAccountID(), Name: name, Created: m.now()}
		creds, k, err := m.newKey(a.ID)
		if err != nil {
			return nil, err
		}
		err = m.Store.CreateAccount(ctx, a, k)
		if errors.Is(err, store.ErrExists) {
			if _, e := m.Store.GetAccount(ctx, name); e == nil {
				return nil, fmt.Errorf("account %q already exists: choose another name", name)
			}
			continue // an ID collision: try another
		}
		if err != nil {
			return nil, err
		}
		return creds, nil
	}
	return nil, errors.New("could not find a free account ID")
}

// AddKey gives an account (by ID or name) one more access key.
func (m *Manager) AddKey(ctx context.Context, account string) (*Credentials, error) {
	a, err := m.Store.GetAccount(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", account, err)
	}
	creds, k, err := m.newKey(a.ID)
	if err != nil {
		return nil, err
	}
	if err := m.Store.AddKey(ctx, k); err != nil {
		return nil, err
	}
	return creds, nil
}

// Revoke revokes an access key at once.
func (m *Manager) Revoke(ctx context.Context, keyID string) error {
	if err := m.Store.RevokeKey(ctx, keyID, m.now()); err != nil {
		return err
	}
	m.mu.Lock()
	m.cache = nil
	m.mu.Unlock()
	return nil
}

// Resolve returns the active key with this ID; ok is false when it is
// unknown or revoked.
func (m *Manager) Resolve(ctx context.Context, keyID string) (Key, bool, error) {
	now := time.Now()
	m.mu.Lock()
	every := m.CheckEvery
	if every == 0 {
		every = 100 * time.Millisecond
	}
	fresh := now.Sub(m.checked) < every
	k, hit := m.cache[keyID]
	m.mu.Unlock()
	if hit && fresh {
		return k, true, nil
	}
	if !fresh {
		g, err := m.Store.Generation(ctx)
		if err != nil {
			return Key{}, false, err
		}
		m.mu.Lock()
		if g != m.gen {
			m.cache, m.gen = nil, g
		}
		m.checked = now
		k, hit = m.cache[keyID]
		m.mu.Unlock()
		if hit {
			return k, true, nil
		}
	}
	sk, err := m.Store.GetKey(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, err
	}
	if !sk.Revoked.IsZero() {
		return Key{}, false, nil
	}
	secret, err := m.Sealer.Open(sk.SealedSecret, sk.ID)
	if err != nil {
		return Key{}, false, fmt.Errorf("access key %s: %w", sk.ID, err)
	}
	k = Key{Account: sk.Account, Secret: secret}
	m.mu.Lock()
	if m.cache == nil {
		m.cache = make(map[string]Key)
	}
	if len(m.cache) < 100000 {
		m.cache[keyID] = k
	}
	m.mu.Unlock()
	return k, true, nil
}

func (m *Manager) newKey(account string) (*Credentials, store.AccessKey, error) {
	id := "AKIA" + base32.StdEncoding.EncodeToString(random(10)) // 16 characters, A-Z and 2-7, as AWS's
	secret := base64.StdEncoding.EncodeToString(random(30))      // 40 characters, as AWS's
	sealed, err := m.Sealer.Seal(secret, id)
	if err != nil {
		return nil, store.AccessKey{}, err
	}
	return &Credentials{AccountId: account, AccessKeyId: id, SecretAccessKey: Secret(secret)},
		store.AccessKey{ID: id, Account: account, SealedSecret: sealed, Created: m.now()}, nil
}

func newAccountID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
	return fmt.Sprintf("%012d", n)
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
