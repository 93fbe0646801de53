// Package keyring keeps the DKIM keys of identities (Easy DKIM's, and the
// customer's own under BYODKIM, which it seals, signs with and never
// publishes): it makes them
// when an identity's tokens are made, seals them into the store, publishes
// them (it is the key source of Sesame's DNS server, dnsserver.Keys),
// chooses the key that signs an identity's mail, and rotates them
// (rotate.go).
//
// Each of an identity's three tokens publishes one key at
// <token>.<DKIM domain>; one of them is current and signs. A rotation moves
// the signing to another token with a fresh key, so that no name ever
// publishes two keys (a verifier takes the first key record it finds) and
// no key that may still be checked is withdrawn (store.DKIMKey's states).
package keyring

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/seal"
	"github.com/sesame/sesame/internal/store"
)

// Keyring is the keys of all identities in one store.
type Keyring struct {
	Keys store.DKIMKeys
	// Identities gives the next key length of an identity
	// (NextSigningKeyLength) to the keys a rotation makes.
	Identities store.Identities
	Sealer     *seal.Sealer
	// Registry answers whose DKIM signs a sender (registry.DKIMOf); only
	// SigningKey and Sign need it.
	Registry *registry.Registry
	// TTL is the TTL of the published keys: a new key signs only once it
	// has been published this long, so that no resolver still holds the
	// token's old answer. Zero: dnsserver.DefaultTTL.
	TTL time.Duration
	// Grace is how long a key that stopped signing stays published, so
	// that mail signed with it still verifies (queued mail, slow
	// receivers, re-verification). Zero: DefaultGrace.
	Grace time.Duration
	// Interval rotates each identity's keys when the current one has
	// signed this long; zero rotates only when asked (Rotate).
	Interval time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// NoEasyKeys makes no Easy DKIM keys: the DKIM domain is SES's own,
	// which Sesame cannot publish in. BYODKIM keys are kept and sign all
	// the same: their records are in the customer's zone.
	NoEasyKeys bool

	mu        sync.Mutex
	opened    map[string]openedKey             // parsed private keys by token
	published map[string]string                // DNS answers by token, "" for none (DKIMKey)
	signing   map[identity.Key][]store.DKIMKey // the keys that sign, by identity (signingKeys)
	gen       int64                            // the store's DKIM generation they are of
	genRead   time.Time                        // when it was last read
}

type openedKey struct {
	sealed string
	key    *rsa.PrivateKey
}

// DefaultGrace keeps a retired key published a week: SES does not say how
// long it keeps one; a week outlasts the retries of any queue (Postfix
// gives up after 5 days) and most re-verifications of stored mail.
const DefaultGrace = 7 * 24 * time.Hour

// DefaultTTL matches dnsserver.DefaultTTL.
const DefaultTTL = 300 * time.Second

// maxOpened bounds the parsed keys kept in memory.
const maxOpened = 4096

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now().UTC()
	}
	return time.Now().UTC()
}

func (k *Keyring) ttl() time.Duration {
	if k.TTL > 0 {
		return k.TTL
	}
	return DefaultTTL
}

func (k *Keyring) grace() time.Duration {
	if k.Grace > 0 {
		return k.Grace
	}
	return DefaultGrace
}

func (k *Keyring) log() *slog.Logger {
	if k.Log != nil {
		return k.Log
	}
	return slog.Default()
}

// DKIMKey implements dnsserver.Keys: the record of the token, whatever its
// state (every state is published). Answers come from memory, forgotten
// whenever the store's DKIM generation changes (any process changing any
// key), which is read at most every PublishDelay: a flood of queries
// costs no database read each, and a changed key is served within
// PublishDelay.
func (k *Keyring) DKIMKey(ctx context.Context, selector string) (string, bool, error) {
	if err := k.refresh(ctx); err != nil {
		return "", false, err
	}
	k.mu.Lock()
	record, ok := k.published[selector]
	gen := k.gen
	k.mu.Unlock()
	if ok {
		return record, record != "", nil
	}
	key, err := k.Keys.GetDKIMKey(ctx, selector)
	switch {
	case err == nil && key.State != store.DKIMExternal: // BYODKIM keys are the customer's to publish
		record = key.Record
	case err == nil:
	case !errors.Is(err, store.ErrNotFound):
		return "", false, err
	}
	k.mu.Lock()
	if k.gen == gen { // not if the keys changed meanwhile
		if k.published == nil || len(k.published) >= maxPublished {
			k.published = map[string]string{}
		}
		k.published[selector] = record
	}
	k.mu.Unlock()
	return record, record != "", nil
}

// refresh forgets the published records when the store's generation has
// changed since it last looked, PublishDelay ago or more.
func (k *Keyring) refresh(ctx context.Context) error {
	now := time.Now()
	k.mu.Lock()
	if now.Sub(k.genRead) < PublishDelay {
		k.mu.Unlock()
		return nil
	}
	k.genRead = now // the others meanwhile use what is there
	k.mu.Unlock()
	g, err := k.Keys.DKIMGeneration(ctx)
	if err != nil {
		k.mu.Lock()
		k.genRead = time.Time{}
		k.mu.Unlock()
		return err
	}
	k.mu.Lock()
	if g != k.gen || k.published == nil {
		k.gen, k.published, k.signing = g, map[string]string{}, map[identity.Key][]store.DKIMKey{}
	}
	k.mu.Unlock()
	return nil
}

// changed makes the next read of keys look at the store's generation at
// once: this process has just written keys, and its own mail and answers
// need not lag them.
func (k *Keyring) changed() {
	k.mu.Lock()
	k.genRead = time.Time{}
	k.mu.Unlock()
}

// PublishDelay is how long the DNS answers of the keyring may lag a
// change in the store.
const PublishDelay = 250 * time.Millisecond

// maxPublished bounds the records kept (names asked that have no key
// included): past it, the cache starts again.
const maxPublished = 1 << 17

// newKey generates and seals a key for token.
func (k *Keyring) newKey(id identity.Key, token, length, state string, now time.Time) (store.DKIMKey, error) {
	pk, err := dkim.Generate(length)
	if err != nil {
		return store.DKIMKey{}, err
	}
	der, err := dkim.Marshal(pk)
	if err != nil {
		return store.DKIMKey{}, err
	}
	sealed, err := k.Sealer.Seal(string(der), token)
	if err != nil {
		return store.DKIMKey{}, err
	}
	key := store.DKIMKey{Token: token, Identity: id, State: state, Length: dkim.LengthOf(pk),
		Sealed: sealed, Record: dkim.Record(&pk.PublicKey), Created: now}
	if state == store.DKIMCurrent {
		key.Activated = now
	}
	return key, nil
}

// EnsureKeys gives every Easy DKIM token of a domain identity a key, of
// the identity's next key length (NextSigningKeyLength); the first new
// token signs unless another already does. Tokens that have keys keep
// them. For registry.DKIMKeys: called when the tokens are made.
func (k *Keyring) EnsureKeys(ctx context.Context, id *identity.Identity) error {
	if !id.IsDomain() || id.DKIM.External() || id.DKIM.ParentRegion() != "" { // a DEED replica uses its parent's
		return nil
	}
	defer k.changed()
	have, err := k.Keys.ListDKIMKeys(ctx, id.Key)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(have, isExternal) { // back from BYODKIM: its key goes
		if have, err = k.Keys.UpdateDKIMKeys(ctx, id.Key, func(cur []store.DKIMKey) ([]store.DKIMKey, error) {
			return slices.DeleteFunc(slices.Clone(cur), isExternal), nil
		}); err != nil {
			return err
		}
	}
	if k.NoEasyKeys || len(id.DKIM.Tokens) == 0 {
		return nil
	}
	hasCurrent := false
	known := map[string]bool{}
	for _, h := range have {
		known[h.Token] = true
		hasCurrent = hasCurrent || h.State == store.DKIMCurrent
	}
	var missing []string
	for _, t := range id.DKIM.Tokens {
		if !known[strings.ToLower(t)] {
			missing = append(missing, strings.ToLower(t))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// RSA key generation takes tens of milliseconds: make them at once.
	now := k.now()
	keys := make([]store.DKIMKey, len(missing))
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for i, t := range missing {
		state := store.DKIMStandby
		if i == 0 && !hasCurrent {
			state = store.DKIMCurrent
		}
		wg.Go(func() { keys[i], errs[i] = k.newKey(id.Key, t, id.DKIM.KeyLength, state, now) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dkim keys of %s: %w", id.Name, err)
	}
	return k.Keys.AddDKIMKeys(ctx, keys)
}

func isExternal(key store.DKIMKey) bool { return key.State == store.DKIMExternal }

// SetExternalKey implements registry.DKIMKeys: pk, sealed, replaces all
// of the identity's keys (Easy DKIM ones included: the domain no longer
// signs with them, and their tokens are gone from its CNAMEs' point of
// view). Its token is a fresh random name, so that two identities with
// the same selector never collide and no DNS name of Sesame's zone is
// ever its selector.
func (k *Keyring) SetExternalKey(ctx context.Context, id *identity.Identity, pk *rsa.PrivateKey) error {
	defer k.changed()
	token := identity.NewDKIMTokens()[0]
	der, err := dkim.Marshal(pk)
	if err != nil {
		return err
	}
	sealed, err := k.Sealer.Seal(string(der), token)
	if err != nil {
		return err
	}
	now := k.now()
	key := store.DKIMKey{Token: token, Identity: id.Key, State: store.DKIMExternal, Length: dkim.LengthOf(pk),
		Selector: id.DKIM.Selector(), Sealed: sealed, Record: dkim.Record(&pk.PublicKey), Created: now, Activated: now}
	_, err = k.Keys.UpdateDKIMKeys(ctx, id.Key, func([]store.DKIMKey) ([]store.DKIMKey, error) {
		return []store.DKIMKey{key}, nil
	})
	return err
}

// KeyInfo implements registry.DKIMKeys: the length of the key that signs
// and when the last key was made (GetEmailIdentity's
// CurrentSigningKeyLength and LastKeyGenerationTimestamp).
func (k *Keyring) KeyInfo(ctx context.Context, id identity.Key) (registry.KeyInfo, error) {
	keys, err := k.Keys.ListDKIMKeys(ctx, id)
	if err != nil {
		return registry.KeyInfo{}, err
	}
	var info registry.KeyInfo
	for _, key := range keys {
		if key.State == store.DKIMCurrent || key.State == store.DKIMExternal {
			info.CurrentLength = key.Length
		}
		if key.Created.After(info.LastGeneration) {
			info.LastGeneration = key.Created
		}
	}
	return info, nil
}

// Signing is the key that signs an identity's mail now.
type Signing struct {
	Domain   string // d=
	Selector string // s=: the token
	Key      *rsa.PrivateKey
}

// SigningKey returns the key that signs mail from source (a bare address)
// in scope sc, or nil when that mail is not signed: the rule of
// registry.DKIMOf (an address signs with its domain's keys when signing
// is on for the address or the domain), and only once the domain's DKIM
// is verified (Success), as SES signs.
func (k *Keyring) SigningKey(ctx context.Context, sc registry.Scope, source string) (*Signing, error) {
	domain := names.DomainOf(source)
	id, err := k.Registry.Store.GetIdentity(ctx, identity.Key{Account: sc.Account, Region: sc.Region, Name: source})
	if errors.Is(err, store.ErrNotFound) {
		id, err = k.Registry.Store.GetIdentity(ctx, identity.Key{Account: sc.Account, Region: sc.Region, Name: domain})
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := k.Registry.DKIMOf(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	if !v.Enabled || v.Status != identity.Success {
		return nil, nil
	}
	d := id
	if !id.IsDomain() {
		if d, err = k.Registry.Store.GetIdentity(ctx, identity.Key{Account: sc.Account, Region: sc.Region, Name: domain}); err != nil {
			return nil, err
		}
	}
	keys, err := k.signingKeys(ctx, registry.KeysOf(d)) // a DEED replica signs with its parent's keys
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		pk, err := k.open(key)
		if err != nil {
			return nil, err
		}
		sel := key.Token
		if key.State == store.DKIMExternal {
			sel = key.Selector // BYODKIM: d=domain; s=the customer's selector
		}
		return &Signing{Domain: domain, Selector: sel, Key: pk}, nil
	}
	return nil, nil // tokens made before keys existed: `sesame dkim rotate` makes them
}

// signingKeys are id's keys that sign (current, or the customer's),
// from memory, as DKIMKey's answers are: forgotten when the store's DKIM
// generation changes, so a rotation signs with the new key within
// PublishDelay (the old one stays published for its grace). A message
// would otherwise cost a read of the identity's keys.
func (k *Keyring) signingKeys(ctx context.Context, id identity.Key) ([]store.DKIMKey, error) {
	if err := k.refresh(ctx); err != nil {
		return nil, err
	}
	k.mu.Lock()
	keys, ok := k.signing[id]
	gen := k.gen
	k.mu.Unlock()
	if ok {
		return keys, nil
	}
	all, err := k.Keys.ListDKIMKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	keys = []store.DKIMKey{} // none is an answer too
	for _, key := range all {
		if key.State == store.DKIMCurrent || key.State == store.DKIMExternal {
			keys = append(keys, key)
		}
	}
	k.mu.Lock()
	if k.gen == gen && k.signing != nil { // not if the keys changed meanwhile
		if len(k.signing) >= maxPublished {
			clear(k.signing)
		}
		k.signing[id] = keys
	}
	k.mu.Unlock()
	return keys, nil
}

// Sign implements send.Signer: msg with the DKIM-Signature of the key that
// signs for source, or msg as it is when none does.
func (k *Keyring) Sign(ctx context.Context, sc registry.Scope, source string, msg []byte) ([]byte, error) {
	s, err := k.SigningKey(ctx, sc, source)
	if err != nil || s == nil {
		return msg, err
	}
	return dkim.Sign(msg, s.Domain, s.Selector, s.Key)
}

// open unseals and parses a private key, once per key.
func (k *Keyring) open(key store.DKIMKey) (*rsa.PrivateKey, error) {
	k.mu.Lock()
	o, ok := k.opened[key.Token]
	k.mu.Unlock()
	if ok && o.sealed == string(key.Sealed) {
		return o.key, nil
	}
	der, err := k.Sealer.Open(key.Sealed, key.Token)
	if err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", key.Token, err)
	}
	pk, err := dkim.Unmarshal([]byte(der))
	if err != nil {
		return nil, fmt.Errorf("dkim key %s: %w", key.Token, err)
	}
	k.mu.Lock()
	if k.opened == nil || len(k.opened) >= maxOpened {
		k.opened = map[string]openedKey{}
	}
	k.opened[key.Token] = openedKey{sealed: string(key.Sealed), key: pk}
	k.mu.Unlock()
	return pk, nil
}
