package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
)

// byodkimDomain stores a domain that signs with its own key as selector.
func (w *world) byodkimDomain(account, selector string, pub string) *identity.Identity {
	w.t.Helper()
	k := identity.Key{Account: account, Region: "us-east-1", Name: "example.test"}
	id := &identity.Identity{Key: k, Kind: names.KindDomain, Created: w.clock.Now(), Token: identity.NewVerificationToken(),
		DKIM: identity.DKIM{Enabled: true, Origin: identity.ExternalDKIM, Tokens: []string{selector}, KeyRecord: pub}}
	id.DKIM.Check.Start(w.clock.Now())
	if _, err := w.store.UpdateIdentity(context.Background(), k, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// TestBYODKIMKey: the verifier looks for a BYODKIM key at
// <selector>._domainkey.<domain> on the domain's servers and wants the
// public half of the identity's private key there: none is pending,
// another key is pending with INVALID_VALUE and fails when the window
// ends, the key itself (p= only) succeeds.
func TestBYODKIMKey(t *testing.T) {
	w := newWorld(t)
	own, _ := dkim.Generate(dkim.RSA1024)
	other, _ := dkim.Generate(dkim.RSA1024)
	ownRec, otherRec := dkim.Record(&own.PublicKey), dkim.Record(&other.PublicKey)
	a := w.byodkimDomain("111111111111", "sel1", ownRec)
	b := w.byodkimDomain("222222222222", "sel2", ownRec)

	got := w.check(a.Key)
	if got.DKIM.Check.Status != identity.Pending || got.DKIM.Check.ErrorType == "" {
		t.Fatalf("no key published: %s %s", got.DKIM.Check.Status, got.DKIM.Check.ErrorType)
	}
	w.add(`sel1._domainkey.example.test. TXT "` + otherRec + `"`)
	got = w.check(a.Key)
	if c := got.DKIM.Check; c.Status != identity.Pending || c.ErrorType != identity.InvalidValue || !strings.Contains(c.Detail, "not the public half") {
		t.Fatalf("another key published: %s %s %q", c.Status, c.ErrorType, c.Detail)
	}
	w.add(`sel2._domainkey.example.test. TXT "p=` + strings.TrimPrefix(ownRec, "v=DKIM1; k=rsa; p=") + `"`)
	if c := w.check(b.Key).DKIM.Check; c.Status != identity.Success {
		t.Errorf("the key's half, p= only: %s %s %q", c.Status, c.ErrorType, c.Detail)
	}
	w.clock.Advance(72 * time.Hour)
	if c := w.check(a.Key).DKIM.Check; c.Status != identity.Failed || c.ErrorType != identity.InvalidValue {
		t.Errorf("another key after the window: %s %s", c.Status, c.ErrorType)
	}
	if c := w.check(b.Key).DKIM.Check; c.Status != identity.Success {
		t.Errorf("the verified key after the window: %s", c.Status)
	}
}
