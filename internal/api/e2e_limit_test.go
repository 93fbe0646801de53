// Loading 10,000 identities into SQLite takes about 1 s, but over 10 s
// under the race detector (the pure-Go SQLite is instrumented too), so
// this test runs only in plain builds.

//go:build !race

package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
)

// TestIdentityLimit: at most 10,000 identities per account and region,
// and by default 10,000 per account in all regions together.
func TestIdentityLimit(t *testing.T) {
	t.Parallel()
	srv, a := start(t)
	ctx := t.Context()
	// Load 9,999 identities straight into the database: none of them is
	// in the registry's cache, so the cache cannot be stale.
	ids := make([]*identity.Identity, registry.MaxIdentities-1)
	now := time.Now().UTC()
	for i := range ids {
		ids[i] = &identity.Identity{Key: identity.Key{Account: a.AccountId, Region: east, Name: fmt.Sprintf("bulk%05d.example", i)}, Kind: names.KindDomain, Created: now, Token: "x"}
		ids[i].Verification.Start(now)
	}
	if err := srv.Sesame.Store.Import(ctx, ids); err != nil {
		t.Fatal(err)
	}
	verifyDomain(t, a.V1(east), "last.example") // the 10,000th
	verifyDomain(t, a.V1(east), "last.example") // asking again is not a new identity

	wantNoRoom(t, a, east, "one-too-many.example", "reached in region us-east-1")
	// Another region is no way around it: the account-wide cap holds
	// (--max-account-identities).
	for _, r := range []string{west, "ap-southeast-5"} {
		wantNoRoom(t, a, r, "one-too-many.example", "in all regions (10000)")
	}
	// Other accounts have their own limits.
	verifyDomain(t, srv.NewAccount("tenant-b").V1(east), "one-too-many.example")
	// Deleting one makes room, in any region; then the region has room
	// but the account has none.
	try(a.V1(east).DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String("bulk00000.example")})).must(t)
	verifyDomain(t, a.V1(west), "one-too-many.example")
	wantNoRoom(t, a, east, "one-too-many.example", "in all regions (10000)")
}
