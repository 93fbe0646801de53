package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

func dkimKeys(id *identity.Identity) []store.DKIMKey {
	var out []store.DKIMKey
	for i, tok := range id.DKIM.Tokens {
		k := store.DKIMKey{Token: tok, Identity: id.Key, State: store.DKIMStandby, Length: "RSA_2048_BIT",
			Sealed: []byte{byte(i), 1, 2}, Record: "v=DKIM1; k=rsa; p=" + tok, Created: t0}
		if i == 0 {
			k.State, k.Activated = store.DKIMCurrent, t0
		}
		out = append(out, k)
	}
	return out
}

func sortedByToken(keys []store.DKIMKey) []store.DKIMKey {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b store.DKIMKey) int { return strings.Compare(a.Token, b.Token) })
	return out
}

func testDKIMKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := domain("111111111111", "us-east-1", "example.com")
	b := domain("111111111111", "eu-west-1", "example.com")
	put(t, s, a)
	put(t, s, b)
	ka, kb := dkimKeys(a), dkimKeys(b)
	gen := func() int64 {
		t.Helper()
		g, err := s.DKIMGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g0 := gen()
	if err := s.AddDKIMKeys(ctx, append(append([]store.DKIMKey(nil), ka...), kb...)); err != nil {
		t.Fatal(err)
	}
	g1 := gen()
	if g1 == g0 {
		t.Error("AddDKIMKeys did not change the generation")
	}
	got, err := s.GetDKIMKey(ctx, ka[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&ka[0], got); d != "" {
		t.Errorf("GetDKIMKey (-want +got):\n%s", d)
	}
	if _, err := s.GetDKIMKey(ctx, "nosuchtoken"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: %v, want ErrNotFound", err)
	}
	list, err := s.ListDKIMKeys(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sortedByToken(ka), list); d != "" {
		t.Errorf("ListDKIMKeys (-want +got):\n%s", d)
	}

	// A second add of the same tokens keeps the first keys.
	other := dkimKeys(a)
	for i := range other {
		other[i].Record = "v=DKIM1; k=rsa; p=other"
	}
	if err := s.AddDKIMKeys(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDKIMKey(ctx, ka[1].Token); got == nil || got.Record != ka[1].Record {
		t.Errorf("a second AddDKIMKeys replaced the key: %+v", got)
	}

	// Update replaces the identity's keys, and drops the tokens left out.
	up, err := s.UpdateDKIMKeys(ctx, a.Key, func(cur []store.DKIMKey) ([]store.DKIMKey, error) {
		if len(cur) != 3 {
			t.Errorf("update sees %d keys, want 3", len(cur))
		}
		cur[0].State, cur[0].Retired = store.DKIMPrevious, t0.Add(1)
		return cur[:2], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g2 := gen()
	if g2 == g1 {
		t.Error("UpdateDKIMKeys did not change the generation")
	}
	if len(up) != 2 || up[0].State != store.DKIMPrevious || !up[0].Retired.Equal(t0.Add(1)) {
		t.Errorf("UpdateDKIMKeys returned %+v", up)
	}
	list, _ = s.ListDKIMKeys(ctx, a.Key)
	if d := cmp.Diff(up, list); d != "" {
		t.Errorf("after update (-want +got):\n%s", d)
	}
	// nil changes nothing; an error is returned as is and changes nothing.
	if _, err := s.UpdateDKIMKeys(ctx, a.Key, func([]store.DKIMKey) ([]store.DKIMKey, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	if _, err := s.UpdateDKIMKeys(ctx, a.Key, func([]store.DKIMKey) ([]store.DKIMKey, error) { return []store.DKIMKey{}, errStop }); !errors.Is(err, errStop) {
		t.Errorf("fn's error: %v", err)
	}
	if list2, _ := s.ListDKIMKeys(ctx, a.Key); len(list2) != 2 {
		t.Errorf("nil or failed update changed the keys: %d left", len(list2))
	}

	// Identities with keys, in key order, paged.
	ks, err := s.DKIMIdentities(ctx, identity.Key{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]identity.Key{b.Key, a.Key}, ks); d != "" { // eu-west-1 < us-east-1
		t.Errorf("DKIMIdentities (-want +got):\n%s", d)
	}
	if ks, _ := s.DKIMIdentities(ctx, b.Key, 10); len(ks) != 1 || ks[0] != a.Key {
		t.Errorf("DKIMIdentities after %v: %v", b.Key, ks)
	}

	// Deleting the identity deletes its keys, and only its.
	if _, err := s.DeleteIdentity(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListDKIMKeys(ctx, a.Key); len(list) != 0 {
		t.Errorf("keys of a deleted identity: %v", list)
	}
	if gen() == g2 {
		t.Error("deleting an identity with keys did not change the generation")
	}
	if _, err := s.GetDKIMKey(ctx, ka[1].Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("key of a deleted identity: %v, want ErrNotFound", err)
	}
	if list, _ := s.ListDKIMKeys(ctx, b.Key); len(list) != 3 {
		t.Errorf("the other region's keys: %d, want 3", len(list))
	}
}
