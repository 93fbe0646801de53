package store

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// The states of an Easy DKIM key (DKIMKey.State). Each of an identity's
// three tokens publishes exactly one key at <token>.<DKIM domain> (a
// verifier takes the first key record it finds, so a name never holds
// two); rotation moves the signing from one token to another:
//
//	standby  published, not signing: the token waits for a rotation
//	next     freshly generated and published, signing once resolvers
//	         have had it for the TTL
//	current  the key that signs the identity's mail (one per identity)
//	previous signed until Retired, still published for the grace period
//	         so that mail signed with it verifies; then replaced by a new
//	         standby key
//	external a BYODKIM key, the customer's: it signs as Selector once
//	         verified, is never published by Sesame (the customer
//	         publishes it in their own zone) and never rotated; its Token
//	         is a random name, since selectors are not unique
const (
	DKIMStandby  = "standby"
	DKIMNext     = "next"
	DKIMCurrent  = "current"
	DKIMPrevious = "previous"
	DKIMExternal = "external"
)

// DKIMKey is the key behind one Easy DKIM token.
type DKIMKey struct {
	Token    string
	Identity identity.Key
	State    string
	Length   string // RSA_1024_BIT or RSA_2048_BIT
	// Selector is the s= of an external key; "" for Easy DKIM keys, whose
	// token is the selector.
	Selector string `json:",omitempty"`
	// Sealed is the private key (PKCS#8), sealed like secret access keys
	// with the token as additional data; never stored in plain text.
	Sealed []byte
	// Record is the TXT value published for the token, "v=DKIM1; k=rsa;
	// p=...": public, kept beside the sealed key so that DNS answers need
	// not open it.
	Record    string
	Created   time.Time // generated and published
	Activated time.Time `json:",omitzero"` // began signing; zero if never
	Retired   time.Time `json:",omitzero"` // stopped signing (previous)
}

// DKIMKeys stores the Easy DKIM keys of identities, by token. Deleting an
// identity deletes its keys.
type DKIMKeys interface {
	// AddDKIMKeys stores keys of new tokens in one transaction; a token
	// that already has a key keeps it (two callers racing to make the
	// keys of the same tokens end with one set).
	AddDKIMKeys(ctx context.Context, keys []DKIMKey) error
	// GetDKIMKey returns the key of a token (lower case), or ErrNotFound.
	GetDKIMKey(ctx context.Context, token string) (*DKIMKey, error)
	// ListDKIMKeys returns an identity's keys in token order; none for an
	// identity without keys.
	ListDKIMKeys(ctx context.Context, k identity.Key) ([]DKIMKey, error)
	// UpdateDKIMKeys runs fn on an identity's keys in one transaction and
	// stores what it returns in their place (by token: tokens fn leaves
	// out are deleted). fn returning nil and no error changes nothing;
	// fn's error is returned as is. The stored keys are returned.
	UpdateDKIMKeys(ctx context.Context, k identity.Key, fn func(cur []DKIMKey) ([]DKIMKey, error)) ([]DKIMKey, error)
	// DKIMIdentities lists up to limit identities that have keys, in key
	// order (account, region, name), after after (the zero Key: from the
	// start).
	DKIMIdentities(ctx context.Context, after identity.Key, limit int) ([]identity.Key, error)
	// DKIMGeneration changes whenever any process changes any key (a
	// deleted identity included), so that a cache of published records
	// knows when to forget.
	DKIMGeneration(ctx context.Context) (int64, error)
}

// The cache holds identities only: DKIM keys go to the store, which other
// processes (`sesame dkim rotate`) write too.

// AddDKIMKeys implements DKIMKeys.
func (c *Cache) AddDKIMKeys(ctx context.Context, keys []DKIMKey) error {
	return c.s.AddDKIMKeys(ctx, keys)
}

// GetDKIMKey implements DKIMKeys.
func (c *Cache) GetDKIMKey(ctx context.Context, token string) (*DKIMKey, error) {
	return c.s.GetDKIMKey(ctx, token)
}

// ListDKIMKeys implements DKIMKeys.
func (c *Cache) ListDKIMKeys(ctx context.Context, k identity.Key) ([]DKIMKey, error) {
	return c.s.ListDKIMKeys(ctx, k)
}

// UpdateDKIMKeys implements DKIMKeys.
func (c *Cache) UpdateDKIMKeys(ctx context.Context, k identity.Key, fn func(cur []DKIMKey) ([]DKIMKey, error)) ([]DKIMKey, error) {
	return c.s.UpdateDKIMKeys(ctx, k, fn)
}

// DKIMIdentities implements DKIMKeys.
func (c *Cache) DKIMIdentities(ctx context.Context, after identity.Key, limit int) ([]identity.Key, error) {
	return c.s.DKIMIdentities(ctx, after, limit)
}

// DKIMGeneration implements DKIMKeys.
func (c *Cache) DKIMGeneration(ctx context.Context) (int64, error) {
	return c.s.DKIMGeneration(ctx)
}
