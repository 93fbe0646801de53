package keyring

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// Rotation refusals.
var (
	// ErrRotating: a next key is published and does not sign yet.
	ErrRotating = errors.New("a rotation is under way")
	// ErrNoStandby: every token's key signs, or is about to, or is in its
	// grace period after signing.
	ErrNoStandby = errors.New("no token is free for a new key")
	// ErrNoKeys: the identity has no Easy DKIM keys.
	ErrNoKeys = errors.New("no Easy DKIM keys")
	// ErrExternal: the identity signs with its own key (BYODKIM), which
	// only its owner can replace (PutEmailIdentityDkimSigningAttributes).
	ErrExternal = errors.New("the identity uses its own DKIM key (BYODKIM): replace it with put-email-identity-dkim-signing-attributes")
	// ErrReplica: the identity is a DEED replica, signing with its parent's
	// keys; rotate the parent's.
	ErrReplica = errors.New("the identity replicates the Easy DKIM of its parent region (DEED): rotate the parent identity's keys")
)

// Rotate starts a rotation of an identity's keys now: a standby token (the
// one with the oldest key) gets a fresh key, of the identity's next length
// (NextSigningKeyLength), published as next. It signs once it has been
// published for the TTL (Step, run by the server, makes it current); the
// key it replaces stays published for the grace period. An identity
// without keys (tokens made before keys existed) gets them instead. The
// identity's keys are returned.
func (k *Keyring) Rotate(ctx context.Context, id identity.Key) ([]store.DKIMKey, error) {
	return k.step(ctx, id, true)
}

// Step moves an identity's rotation on at the keyring's now: a next key
// published for the TTL signs and the key that signed becomes previous; a
// previous key past its grace period is replaced by a fresh standby key;
// with an Interval, a current key that has signed that long starts a
// rotation.
func (k *Keyring) Step(ctx context.Context, id identity.Key) ([]store.DKIMKey, error) {
	return k.step(ctx, id, false)
}

// Run steps every identity with keys every period until ctx ends.
func (k *Keyring) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := k.StepAll(ctx); err != nil && ctx.Err() == nil {
			k.log().Warn("dkim key rotation", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// StepAll steps every identity that has keys.
func (k *Keyring) StepAll(ctx context.Context) error {
	var after identity.Key
	var errs []error
	for {
		ids, err := k.Keys.DKIMIdentities(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := k.Step(ctx, id); err != nil && !errors.Is(err, errRaced) {
				errs = append(errs, fmt.Errorf("%s (%s, %s): %w", id.Name, id.Account, id.Region, err))
			}
		}
		if len(ids) < 200 {
			return errors.Join(errs...)
		}
		after = ids[len(ids)-1]
	}
}

// errRaced: the keys changed between the plan and its commit (another
// process stepped them); the next step picks up from there.
var errRaced = errors.New("dkim keys changed meanwhile")

// plan is what one step does: the tokens that get fresh keys, and in
// which state.
type plan map[string]string

func (k *Keyring) plan(cur []store.DKIMKey, now time.Time, force bool) (plan, error) {
	p := plan{}
	rotating := false
	var current *store.DKIMKey
	for i, key := range cur {
		switch key.State {
		case store.DKIMNext:
			rotating = true
		case store.DKIMCurrent:
			current = &cur[i]
		case store.DKIMPrevious:
			if !now.Before(key.Retired.Add(k.grace())) {
				p[key.Token] = store.DKIMStandby
			}
		}
	}
	due := force || k.Interval > 0 && current != nil && !now.Before(current.Activated.Add(k.Interval))
	if rotating || !due {
		if force && rotating {
			return nil, ErrRotating
		}
		return p, nil
	}
	var standby []store.DKIMKey
	for _, key := range cur {
		if key.State == store.DKIMStandby {
			standby = append(standby, key)
		}
	}
	if len(standby) == 0 {
		if force {
			return nil, ErrNoStandby
		}
		return p, nil
	}
	oldest := slices.MinFunc(standby, func(a, b store.DKIMKey) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Token, b.Token))
	})
	p[oldest.Token] = store.DKIMNext
	return p, nil
}

func (k *Keyring) step(ctx context.Context, id identity.Key, force bool) ([]store.DKIMKey, error) {
	defer k.changed()
	ident, err := k.identity(ctx, id)
	if err != nil {
		return nil, err
	}
	cur, err := k.Keys.ListDKIMKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	if ident != nil && ident.DKIM.ParentRegion() != "" {
		if force {
			return nil, ErrReplica
		}
		return cur, nil
	}
	if (ident != nil && ident.DKIM.External()) || slices.ContainsFunc(cur, isExternal) {
		if force {
			return nil, ErrExternal
		}
		return cur, nil
	}
	if len(cur) == 0 {
		if !force {
			return nil, nil
		}
		if ident == nil || len(ident.DKIM.Tokens) == 0 {
			return nil, ErrNoKeys
		}
		if err := k.EnsureKeys(ctx, ident); err != nil {
			return nil, err
		}
		return k.Keys.ListDKIMKeys(ctx, id)
	}
	if ident == nil {
		return cur, nil // deleted meanwhile: its keys go with it
	}
	now := k.now()
	want, err := k.plan(cur, now, force)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		var due bool
		promote(cur, now, k.wait(), &due)
		if !due {
			return cur, nil // nothing to do: no write
		}
	}
	// Keys are made outside the transaction: they take tens of
	// milliseconds each.
	fresh := map[string]store.DKIMKey{}
	for token, state := range want {
		key, err := k.newKey(id, token, ident.DKIM.KeyLength, state, now)
		if err != nil {
			return nil, err
		}
		fresh[token] = key
	}
	return k.Keys.UpdateDKIMKeys(ctx, id, func(cur []store.DKIMKey) ([]store.DKIMKey, error) {
		again, err := k.plan(cur, now, force)
		if err != nil {
			return nil, err
		}
		if !maps.Equal(again, want) {
			return nil, errRaced
		}
		changed := len(fresh) > 0
		out := promote(cur, now, k.wait(), &changed)
		for i, key := range out {
			if f, ok := fresh[key.Token]; ok {
				out[i] = f
			}
		}
		if !changed {
			return nil, nil
		}
		return out, nil
	})
}

// wait is how long a next key is published before it signs: the TTL,
// after the keyring's DNS answers have caught up (PublishDelay).
func (k *Keyring) wait() time.Duration { return k.ttl() + PublishDelay }

// promote makes a next key published for ttl current, and the current
// one previous.
func promote(cur []store.DKIMKey, now time.Time, ttl time.Duration, changed *bool) []store.DKIMKey {
	out := slices.Clone(cur)
	next := slices.IndexFunc(out, func(key store.DKIMKey) bool {
		return key.State == store.DKIMNext && !now.Before(key.Created.Add(ttl))
	})
	if next < 0 {
		return out
	}
	for i := range out {
		if out[i].State == store.DKIMCurrent {
			out[i].State, out[i].Retired = store.DKIMPrevious, now
		}
	}
	out[next].State, out[next].Activated = store.DKIMCurrent, now
	*changed = true
	return out
}

// identity returns the identity, nil when it is gone.
func (k *Keyring) identity(ctx context.Context, id identity.Key) (*identity.Identity, error) {
	if k.Identities == nil {
		return nil, errors.New("keyring: no identity store")
	}
	ident, err := k.Identities.GetIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return ident, err
}
