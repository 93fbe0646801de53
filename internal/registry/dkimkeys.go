package registry

import (
	"context"
	"crypto/rsa"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// DKIMKeys makes and describes the keys behind Easy DKIM tokens (package
// keyring). Nil: tokens are names only, as when Sesame cannot publish
// keys (the DKIM domain is SES's own).
type DKIMKeys interface {
	// EnsureKeys gives each Easy DKIM token of a domain identity a key;
	// tokens with keys keep them.
	EnsureKeys(ctx context.Context, id *identity.Identity) error
	// SetExternalKey makes pk, sealed, the identity's one key (BYODKIM),
	// in place of any Easy DKIM keys; it is not published.
	SetExternalKey(ctx context.Context, id *identity.Identity, pk *rsa.PrivateKey) error
	// KeyInfo describes an identity's keys.
	KeyInfo(ctx context.Context, k identity.Key) (KeyInfo, error)
}

// KeyInfo is what GetEmailIdentity shows of an identity's keys.
type KeyInfo struct {
	CurrentLength  string    // the length of the key that signs; "" without keys
	LastGeneration time.Time // when the newest key was made
}

// ensureKeys makes the keys of id's tokens. It runs after the tokens are
// stored, outside their transaction (three RSA keys take a while); a call
// that fails leaves the tokens, and any later call that makes tokens (or
// `sesame dkim rotate`) makes the missing keys.
func (r *Registry) ensureKeys(ctx context.Context, id *identity.Identity) error {
	if r.DKIMKeys == nil || id == nil {
		return nil
	}
	return r.DKIMKeys.EnsureKeys(ctx, id)
}

// DKIMKeyInfo returns what the keys of id say of their lengths and age;
// without keys, the identity's own record (the length asked for, the time
// the tokens were made).
func (r *Registry) DKIMKeyInfo(ctx context.Context, id *identity.Identity) (KeyInfo, error) {
	info := KeyInfo{CurrentLength: id.DKIM.KeyLength, LastGeneration: id.DKIM.LastKeyGeneration}
	if r.DKIMKeys == nil || !id.IsDomain() || len(id.DKIM.Tokens) == 0 {
		return info, nil
	}
	got, err := r.DKIMKeys.KeyInfo(ctx, KeysOf(id)) // a DEED replica's are its parent's
	if err != nil || got.CurrentLength == "" {
		return info, err
	}
	return got, nil
}
