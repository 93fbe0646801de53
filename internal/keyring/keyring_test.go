package keyring_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/seal"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time                   { return c.t }
func (c *clock) add(d time.Duration)              { c.t = c.t.Add(d) }
func (c *clock) at(t0 time.Time, d time.Duration) { c.t = t0.Add(d) }

func setup(t *testing.T, length string) (*keyring.Keyring, store.Store, *identity.Identity, *clock) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := seal.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	id := &identity.Identity{Key: identity.Key{Account: "111111111111", Region: "us-east-1", Name: "example.com"},
		Kind: names.KindDomain, Created: c.t,
		DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens(), KeyLength: length, Origin: "AWS_SES"}}
	if _, err := st.UpdateIdentity(ctx, id.Key, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		t.Fatal(err)
	}
	k := &keyring.Keyring{Keys: st, Identities: st, Sealer: sealer, TTL: 5 * time.Minute, Grace: 48 * time.Hour, Now: c.now}
	return k, st, id, c
}

func states(t *testing.T, st store.Store, id identity.Key) map[string]store.DKIMKey {
	t.Helper()
	keys, err := st.ListDKIMKeys(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]store.DKIMKey{}
	for _, k := range keys {
		m[k.Token] = k
	}
	return m
}

func byState(m map[string]store.DKIMKey, state string) []store.DKIMKey {
	var out []store.DKIMKey
	for _, k := range m {
		if k.State == state {
			out = append(out, k)
		}
	}
	return out
}

func TestEnsureKeys(t *testing.T) {
	ctx := context.Background()
	k, st, id, _ := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	m := states(t, st, id.Key)
	if len(m) != 3 || len(byState(m, store.DKIMCurrent)) != 1 || len(byState(m, store.DKIMStandby)) != 2 {
		t.Fatalf("keys after EnsureKeys: %+v", m)
	}
	for tok, key := range m {
		if key.Length != dkim.RSA1024 {
			t.Errorf("%s: length %s, want the identity's %s", tok, key.Length, dkim.RSA1024)
		}
		rec, ok, err := k.DKIMKey(ctx, tok)
		if err != nil || !ok || rec != key.Record {
			t.Errorf("DKIMKey(%s) = %q %v %v, want the stored record", tok, rec, ok, err)
		}
		if _, err := dkim.PublicKey(rec); err != nil {
			t.Errorf("%s: published record does not parse: %v", tok, err)
		}
		if string(key.Sealed) == "" || len(key.Sealed) < 500 {
			t.Errorf("%s: sealed key of %d bytes", tok, len(key.Sealed))
		}
	}
	// Again: the keys stay.
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	for tok, key := range states(t, st, id.Key) {
		if key.Record != m[tok].Record {
			t.Errorf("%s: a second EnsureKeys changed the key", tok)
		}
	}
	if _, ok, _ := k.DKIMKey(ctx, "unknowntoken"); ok {
		t.Error("a key for an unknown token")
	}
}

// TestRotationTiming walks one rotation with an injected clock: the new
// key is published before it signs and signs only after the TTL, the old
// one stays published for the grace period and is then replaced.
func TestRotationTiming(t *testing.T) {
	ctx := context.Background()
	k, st, id, c := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	before := states(t, st, id.Key)
	old := byState(before, store.DKIMCurrent)[0]

	t0 := c.t.Add(time.Hour)
	c.t = t0
	if _, err := k.Rotate(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	m := states(t, st, id.Key)
	next := byState(m, store.DKIMNext)
	if len(next) != 1 || m[old.Token].State != store.DKIMCurrent {
		t.Fatalf("after Rotate: %+v", m)
	}
	if next[0].Record == before[next[0].Token].Record || !next[0].Created.Equal(t0) {
		t.Errorf("the next key is not new: %+v", next[0])
	}
	time.Sleep(keyring.PublishDelay)
	if rec, ok, _ := k.DKIMKey(ctx, next[0].Token); !ok || rec != next[0].Record {
		t.Error("the next key is not published")
	}
	if _, err := k.Rotate(ctx, id.Key); !errors.Is(err, keyring.ErrRotating) {
		t.Errorf("second Rotate: %v, want ErrRotating", err)
	}

	// Before the TTL has passed, the old key still signs.
	wait := 5*time.Minute + keyring.PublishDelay // the TTL, after the DNS cache of records
	c.at(t0, wait-time.Millisecond)
	if _, err := k.Step(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	if m := states(t, st, id.Key); m[old.Token].State != store.DKIMCurrent || m[next[0].Token].State != store.DKIMNext {
		t.Fatalf("promoted before the TTL: %+v", m)
	}
	// After it, the new key signs and the old one is previous, still published.
	c.at(t0, wait)
	if _, err := k.Step(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	m = states(t, st, id.Key)
	if m[next[0].Token].State != store.DKIMCurrent || m[old.Token].State != store.DKIMPrevious || !m[old.Token].Retired.Equal(c.t) {
		t.Fatalf("after the TTL: %+v", m)
	}
	if rec, ok, _ := k.DKIMKey(ctx, old.Token); !ok || rec != old.Record {
		t.Error("the previous key is not published during the grace")
	}
	retired := c.t
	// Through the grace period it stays; after it, a fresh standby key takes its token.
	c.at(retired, 48*time.Hour-time.Second)
	k.Step(ctx, id.Key)
	if m := states(t, st, id.Key); m[old.Token].Record != old.Record {
		t.Fatal("the previous key went before the end of the grace")
	}
	c.at(retired, 48*time.Hour)
	if _, err := k.Step(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	m = states(t, st, id.Key)
	if got := m[old.Token]; got.State != store.DKIMStandby || got.Record == old.Record {
		t.Fatalf("after the grace: %+v, want a new standby key", got)
	}
	time.Sleep(keyring.PublishDelay) // DNS answers catch up with the store
	if rec, _, _ := k.DKIMKey(ctx, old.Token); rec == old.Record {
		t.Error("the old key is still published after the grace")
	}
	// The third token, whose key is the oldest, is the next to rotate.
	third := ""
	for tok := range m {
		if tok != old.Token && tok != next[0].Token {
			third = tok
		}
	}
	if _, err := k.Rotate(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	if got := states(t, st, id.Key)[third]; got.State != store.DKIMNext {
		t.Errorf("rotated %+v, want the oldest standby %s", states(t, st, id.Key), third)
	}
}

// TestRotationSchedule: with an Interval, a current key that has signed
// that long starts a rotation by itself; without one, nothing starts.
func TestRotationSchedule(t *testing.T) {
	ctx := context.Background()
	k, st, id, c := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	start := c.t
	c.at(start, 1000*time.Hour)
	if err := k.StepAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(byState(states(t, st, id.Key), store.DKIMNext)); n != 0 {
		t.Fatalf("rotation started with no interval: %d next keys", n)
	}
	k.Interval = 90 * 24 * time.Hour
	c.at(start, k.Interval-time.Second)
	k.StepAll(ctx)
	if n := len(byState(states(t, st, id.Key), store.DKIMNext)); n != 0 {
		t.Fatal("rotation started before the interval")
	}
	c.at(start, k.Interval)
	if err := k.StepAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(byState(states(t, st, id.Key), store.DKIMNext)); n != 1 {
		t.Fatalf("%d next keys at the interval, want 1", n)
	}
	c.add(5*time.Minute + keyring.PublishDelay)
	k.StepAll(ctx)
	cur := byState(states(t, st, id.Key), store.DKIMCurrent)
	if len(cur) != 1 || !cur[0].Activated.Equal(c.t) {
		t.Fatalf("current after the TTL: %+v", cur)
	}
}

// TestNextLengthAtRotation: NextSigningKeyLength changes the keys a
// rotation makes, not the one that signs.
func TestNextLengthAtRotation(t *testing.T) {
	ctx := context.Background()
	k, st, id, c := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateIdentity(ctx, id.Key, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.DKIM.KeyLength = dkim.RSA2048
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	info, _ := k.KeyInfo(ctx, id.Key)
	if info.CurrentLength != dkim.RSA1024 {
		t.Errorf("CurrentLength %s before the rotation, want %s", info.CurrentLength, dkim.RSA1024)
	}
	c.add(time.Hour)
	if _, err := k.Rotate(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	next := byState(states(t, st, id.Key), store.DKIMNext)[0]
	if next.Length != dkim.RSA2048 {
		t.Errorf("next key %s, want %s", next.Length, dkim.RSA2048)
	}
	if info, _ := k.KeyInfo(ctx, id.Key); info.CurrentLength != dkim.RSA1024 || !info.LastGeneration.Equal(c.t) {
		t.Errorf("during the rotation: %+v", info)
	}
	c.add(5*time.Minute + keyring.PublishDelay)
	k.Step(ctx, id.Key)
	if info, _ := k.KeyInfo(ctx, id.Key); info.CurrentLength != dkim.RSA2048 {
		t.Errorf("after the rotation: %+v, want %s", info, dkim.RSA2048)
	}
}

// TestPublishedFollowsStore: the DNS answers of one keyring (the server's)
// follow keys changed through another on the same store (`sesame dkim
// rotate` in another process) within PublishDelay, though they are served
// from memory.
func TestPublishedFollowsStore(t *testing.T) {
	ctx := context.Background()
	k, st, id, _ := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for tok := range states(t, st, id.Key) {
		rec, ok, err := k.DKIMKey(ctx, tok)
		if !ok || err != nil {
			t.Fatal(tok, err)
		}
		before[tok] = rec
	}
	other := &keyring.Keyring{Keys: k.Keys, Identities: k.Identities, Sealer: k.Sealer, Now: func() time.Time { return k.Now().Add(time.Hour) }}
	keys, err := other.Rotate(ctx, id.Key)
	if err != nil {
		t.Fatal(err)
	}
	var next store.DKIMKey
	for _, key := range keys {
		if key.State == store.DKIMNext {
			next = key
		}
	}
	deadline := time.Now().Add(keyring.PublishDelay + 2*time.Second)
	for {
		rec, _, err := k.DKIMKey(ctx, next.Token)
		if err != nil {
			t.Fatal(err)
		}
		if rec == next.Record {
			break
		}
		if rec != before[next.Token] {
			t.Fatalf("served %q, neither the old nor the new record", rec)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new key was not served within %v", keyring.PublishDelay+2*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExternalKey: a BYODKIM key replaces the Easy DKIM keys, is never
// published and never rotated; EnsureKeys after the switch back drops it
// and makes Easy DKIM keys again.
func TestExternalKey(t *testing.T) {
	ctx := context.Background()
	k, st, id, _ := setup(t, dkim.RSA1024)
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	pk, _ := dkim.Generate(dkim.RSA1024)
	ext := id.Clone()
	ext.DKIM.Origin, ext.DKIM.Tokens = identity.ExternalDKIM, []string{"sel"}
	if _, err := st.UpdateIdentity(ctx, id.Key, func(*identity.Identity) (*identity.Identity, error) { return ext, nil }); err != nil {
		t.Fatal(err)
	}
	if err := k.SetExternalKey(ctx, ext, pk); err != nil {
		t.Fatal(err)
	}
	m := states(t, st, id.Key)
	got := byState(m, store.DKIMExternal)
	if len(m) != 1 || len(got) != 1 || got[0].Selector != "sel" {
		t.Fatalf("keys %+v: want the one external key", m)
	}
	if _, ok, _ := k.DKIMKey(ctx, got[0].Token); ok {
		t.Error("the external key is published")
	}
	if _, err := k.Rotate(ctx, id.Key); !errors.Is(err, keyring.ErrExternal) {
		t.Errorf("rotating an external key: %v, want ErrExternal", err)
	}
	if err := k.EnsureKeys(ctx, ext); err != nil || len(states(t, st, id.Key)) != 1 {
		t.Errorf("EnsureKeys of a BYODKIM identity changed its keys: %v", err)
	}
	back := id.Clone()
	back.DKIM.Tokens = identity.NewDKIMTokens()
	if err := k.EnsureKeys(ctx, back); err != nil {
		t.Fatal(err)
	}
	if m := states(t, st, id.Key); len(m) != 3 || len(byState(m, store.DKIMExternal)) != 0 || len(byState(m, store.DKIMCurrent)) != 1 {
		t.Errorf("back to Easy DKIM: %+v", m)
	}
}

// TestSigningFollowsKeys: the key that signs is read from memory, yet a
// rotation through the same keyring signs with the new key at once, and
// one through another keyring on the same store (`sesame dkim rotate` in
// another process) within PublishDelay.
func TestSigningFollowsKeys(t *testing.T) {
	ctx := context.Background()
	k, st, id, c := setup(t, dkim.RSA1024)
	id.DKIM.Check.Status = identity.Success
	if _, err := st.UpdateIdentity(ctx, id.Key, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		t.Fatal(err)
	}
	k.Registry = &registry.Registry{Store: st}
	if err := k.EnsureKeys(ctx, id); err != nil {
		t.Fatal(err)
	}
	sc := registry.Scope{Account: id.Account, Region: id.Region}
	signer := func() string {
		t.Helper()
		s, err := k.SigningKey(ctx, sc, "app@example.com")
		if err != nil || s == nil {
			t.Fatalf("signing key: %v, %v", s, err)
		}
		return s.Selector
	}
	current := func() string {
		t.Helper()
		cur := byState(states(t, st, id.Key), store.DKIMCurrent)
		if len(cur) != 1 {
			t.Fatalf("%d current keys", len(cur))
		}
		return cur[0].Token
	}
	if got, want := signer(), current(); got != want {
		t.Fatalf("signs with %s, want the current key %s", got, want)
	}
	// Through this keyring: a rotation makes a next key, which signs
	// once it has been published for the TTL.
	if _, err := k.Rotate(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	c.add(5*time.Minute + keyring.PublishDelay)
	if _, err := k.Step(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	if got, want := signer(), current(); got != want {
		t.Fatalf("after a rotation here, signs with %s, want the new current key %s", got, want)
	}
	// Through another keyring.
	other := &keyring.Keyring{Keys: k.Keys, Identities: k.Identities, Sealer: k.Sealer, TTL: k.TTL, Grace: k.Grace, Now: c.now}
	before := current()
	if _, err := other.Rotate(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	c.add(5*time.Minute + keyring.PublishDelay)
	if _, err := other.Step(ctx, id.Key); err != nil {
		t.Fatal(err)
	}
	after := current()
	if after == before {
		t.Fatal("the other keyring's rotation made no new current key")
	}
	deadline := time.Now().Add(keyring.PublishDelay + 2*time.Second)
	for got := signer(); got != after; got = signer() {
		if got != before {
			t.Fatalf("signs with %s, neither the old key %s nor the new %s", got, before, after)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still signing with the old key %v after the other keyring's rotation", keyring.PublishDelay+2*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
