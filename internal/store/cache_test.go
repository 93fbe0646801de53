package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
	"github.com/sesame/sesame/internal/store/sqlite"
)

// What a Store method does to the identities the cache holds.
const (
	reads  = "reads"  // served from the cache when it can
	writes = "writes" // must invalidate (or refresh) what it changes
	other  = "other"  // passes through: nothing the cache holds changes
)

// cacheMethods is every method of store.Store. A method added to the
// interface fails TestCacheMethods until it is listed here; one that writes
// identities also needs its case in TestCacheWritesInvalidate.
var cacheMethods = map[string]string{
	"GetIdentity": reads, "GetIdentities": reads,
	"UpdateIdentity": writes, "DeleteIdentity": writes, "Import": writes, "ClaimDue": writes, "SaveChecks": writes,
	"ListIdentities": other, "CountAccountIdentities": other, "CountIdentities": other, "DueIdentities": other,
	"ListChecks":    other,
	"CreateAccount": other, "GetAccount": other, "ListAccounts": other, "AddKey": other, "GetKey": other,
	"ListKeys": other, "RevokeKey": other, "Generation": other,
	"GetLink": other, "UseLink": other,
	"AddMessage": other, "CountMessages": other, "GetMessage": other, "ListMessages": other, "DueMessages": other,
	"ClaimMessages": other, "NextDue": other, "UpdateMessage": other,
	"CreateTemplate": other, "GetTemplate": other, "UpdateTemplate": other, "DeleteTemplate": other, "ListTemplates": other,
	"CreateEmailTemplate": other, "GetEmailTemplate": other, "UpdateEmailTemplate": other, "DeleteEmailTemplate": other,
	"ListEmailTemplates": other, "GetSendingState": other, "UpdateSendingState": other, "SentVolume": other, "HideSent": other,
	"RevokeSession": other, "SessionRevoked": other,
	"CreateConfigSet": other, "GetConfigSet": other, "UpdateConfigSet": other, "DeleteConfigSet": other, "ListConfigSets": other,
	"AddDKIMKeys": other, "GetDKIMKey": other, "ListDKIMKeys": other, "UpdateDKIMKeys": other, "DKIMIdentities": other, "DKIMGeneration": other,
	"Close": other,
}

// TestCacheMethods holds the cache to the interface: it embeds nothing, so
// no method of Store reaches the store without going through code of the
// cache, and every method is classified.
func TestCacheMethods(t *testing.T) {
	ct := reflect.TypeFor[store.Cache]()
	for i := range ct.NumField() {
		if f := ct.Field(i); f.Anonymous {
			t.Errorf("Cache embeds %s: its methods would reach the store without the cache knowing; implement each one", f.Type)
		}
	}
	st := reflect.TypeFor[store.Store]()
	in := map[string]bool{}
	for i := range st.NumMethod() {
		m := st.Method(i).Name
		in[m] = true
		if _, ok := cacheMethods[m]; !ok {
			t.Errorf("Store.%s is new: decide in cache.go whether it reads, writes or leaves alone the cached identities, and list it in cacheMethods", m)
		}
	}
	for m := range cacheMethods {
		if !in[m] {
			t.Errorf("cacheMethods lists %s, which Store does not have", m)
		}
	}
}

func testDomain(name string, now time.Time) *identity.Identity {
	id := &identity.Identity{
		Key:  identity.Key{Account: "111111111111", Region: "us-east-1", Name: name},
		Kind: names.KindDomain, Created: now, Token: identity.NewVerificationToken(), Next: now,
		DKIM: identity.DKIM{Enabled: true, Tokens: identity.NewDKIMTokens()},
	}
	id.Verification.Start(now)
	return id
}

// TestCacheWritesInvalidate: after each write, reads through the cache see
// what the store holds, though the identity was cached before the write.
func TestCacheWritesInvalidate(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	cases := map[string]func(ctx context.Context, c *store.Cache, id *identity.Identity) error{
		"UpdateIdentity": func(ctx context.Context, c *store.Cache, id *identity.Identity) error {
			_, err := c.UpdateIdentity(ctx, id.Key, func(cur *identity.Identity) (*identity.Identity, error) {
				cur.Token = "updated"
				return cur, nil
			})
			return err
		},
		"DeleteIdentity": func(ctx context.Context, c *store.Cache, id *identity.Identity) error {
			_, err := c.DeleteIdentity(ctx, id.Key)
			return err
		},
		"Import": func(ctx context.Context, c *store.Cache, id *identity.Identity) error {
			re := id.Clone()
			re.Token = "imported"
			return c.Import(ctx, []*identity.Identity{re})
		},
		"ClaimDue": func(ctx context.Context, c *store.Cache, id *identity.Identity) error {
			ids, err := c.ClaimDue(ctx, now, now.Add(time.Minute), 10)
			if err == nil && len(ids) != 1 {
				t.Errorf("ClaimDue leased %d identities, want 1", len(ids))
			}
			return err
		},
		"SaveChecks": func(ctx context.Context, c *store.Cache, id *identity.Identity) error {
			return c.SaveChecks(ctx, []store.CheckUpdate{{Key: id.Key, Apply: func(cur *identity.Identity) *identity.Identity {
				cur.Token = "checked"
				cur.Next = time.Time{}
				return cur
			}}})
		},
	}
	for m, what := range cacheMethods {
		if _, ok := cases[m]; what == writes && !ok {
			t.Errorf("Store.%s writes identities and has no case here", m)
		}
	}
	for m, write := range cases {
		t.Run(m, func(t *testing.T) {
			ctx := t.Context()
			db, err := sqlite.Open(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			c := store.NewCache(db, 10)
			defer c.Close()
			id := testDomain("example.com", now)
			if err := db.Import(ctx, []*identity.Identity{id}); err != nil {
				t.Fatal(err)
			}
			// Both reads fill the cache.
			if _, err := c.GetIdentity(ctx, id.Key); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetIdentities(ctx, id.Account, id.Region, []string{id.Name}); err != nil {
				t.Fatal(err)
			}
			if err := write(ctx, c, id); err != nil {
				t.Fatal(err)
			}
			want, werr := db.GetIdentity(ctx, id.Key)
			got, gerr := c.GetIdentity(ctx, id.Key)
			if (werr == nil) != (gerr == nil) {
				t.Errorf("after %s, GetIdentity through the cache returns error %v; the store, %v", m, gerr, werr)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("after %s, GetIdentity through the cache differs from the store (-store +cache):\n%s", m, d)
			}
			many, err := c.GetIdentities(ctx, id.Account, id.Region, []string{id.Name})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, many[id.Name]); d != "" {
				t.Errorf("after %s, GetIdentities through the cache differs from the store (-store +cache):\n%s", m, d)
			}
		})
	}
}

// TestCacheAbsent: an identity the store does not have is remembered as
// absent (a sender's address under its verified domain is looked up at
// every message): a write straight to the store, which the cache does not
// see, stays unseen, as a cached identity's would; a write through the
// cache, Forget (a replica's write heard of) or ForgetAll makes it seen.
func TestCacheAbsent(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewCache(db, 10)
	defer c.Close()
	seen := func(id *identity.Identity) (one, many bool) {
		t.Helper()
		_, gerr := c.GetIdentity(ctx, id.Key)
		if gerr != nil && !errors.Is(gerr, store.ErrNotFound) {
			t.Fatal(gerr)
		}
		got, err := c.GetIdentities(ctx, id.Account, id.Region, []string{id.Name, "other.example"})
		if err != nil {
			t.Fatal(err)
		}
		return gerr == nil, got[id.Name] != nil
	}
	for name, reveal := range map[string]func(id *identity.Identity){
		"Forget":    func(id *identity.Identity) { c.Forget(id.Key) },
		"ForgetAll": func(*identity.Identity) { c.ForgetAll() },
		"UpdateIdentity": func(id *identity.Identity) {
			if _, err := c.UpdateIdentity(ctx, id.Key, func(cur *identity.Identity) (*identity.Identity, error) {
				cur.Token = "updated"
				return cur, nil
			}); err != nil {
				t.Fatal(err)
			}
		},
		"Import": func(id *identity.Identity) {
			if err := c.Import(ctx, []*identity.Identity{id}); err != nil {
				t.Fatal(err)
			}
		},
	} {
		id := testDomain(strings.ToLower(name)+".example", now)
		if one, many := seen(id); one || many {
			t.Fatalf("%s: an identity never stored is found", name)
		}
		if err := db.Import(ctx, []*identity.Identity{id}); err != nil { // behind the cache's back
			t.Fatal(err)
		}
		if one, many := seen(id); one || many {
			t.Errorf("%s: the cache did not remember the identity as absent (GetIdentity %v, GetIdentities %v)", name, one, many)
		}
		reveal(id)
		if one, many := seen(id); !one || !many {
			t.Errorf("after %s: the identity is not found (GetIdentity %v, GetIdentities %v)", name, one, many)
		}
	}
}

// TestCacheOffRemembersNothing: a cache of no identities (Max 0, as on a
// store no watcher follows) does not remember absent ones either.
func TestCacheOffRemembersNothing(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewCache(db, 0)
	defer c.Close()
	id := testDomain("later.example", time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	if _, err := c.GetIdentity(ctx, id.Key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before: %v", err)
	}
	if err := db.Import(ctx, []*identity.Identity{id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetIdentity(ctx, id.Key); err != nil {
		t.Errorf("written behind a cache of size 0: %v", err)
	}
}
