package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// TestV2DKIMKeys: with a DKIM domain Sesame serves, the tokens of
// CreateEmailIdentity get keys of NextSigningKeyLength, GetEmailIdentity
// reports the length that signs and when the keys were made, and the key
// length changes at most once a day (the first change down to 1024
// excepted), taking effect at the next rotation.
func TestV2DKIMKeys(t *testing.T) {
	t.Parallel()
	clock := sestest.NewClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	dnsCfg := config.SES()
	dnsCfg.DKIMDomain = "dkim.example.net"
	srv, a := start(t, sestest.Options{DNS: dnsCfg, Now: clock.Now})
	c := a.V2(east)
	ctx := t.Context()
	out := try(c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com"),
		DkimSigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit}})).must(t)
	k := identity.Key{Account: a.AccountId, Region: east, Name: "example.com"}
	keys, err := srv.Sesame.Store.ListDKIMKeys(ctx, k)
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys of the tokens: %d, %v", len(keys), err)
	}
	current := 0
	for _, key := range keys {
		if key.Length != "RSA_1024_BIT" || !strings.HasPrefix(key.Record, "v=DKIM1; k=rsa; p=") || !slices.Contains(out.DkimAttributes.Tokens, key.Token) {
			t.Errorf("key %+v", key)
		}
		if key.State == store.DKIMCurrent {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d current keys, want 1", current)
	}
	d := getIdentity(t, c, "example.com").DkimAttributes
	if d.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa1024Bit || d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa1024Bit ||
		d.LastKeyGenerationTimestamp == nil || !d.LastKeyGenerationTimestamp.Equal(clock.Now()) {
		t.Errorf("DkimAttributes %+v", d)
	}

	put := func(length types.DkimSigningKeyLength) error {
		_, err := c.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{EmailIdentity: aws.String("example.com"),
			SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes, SigningAttributes: &types.DkimSigningAttributes{NextSigningKeyLength: length}})
		return err
	}
	// The length it has already: refused.
	if msg := wantAPIError(t, put(types.DkimSigningKeyLengthRsa1024Bit), "BadRequestException", 400); !strings.Contains(msg, "already RSA_1024_BIT") {
		t.Errorf("same length: %q", msg)
	}
	// Within a day of the keys' generation: refused, saying when.
	clock.Advance(23 * time.Hour)
	if msg := wantAPIError(t, put(types.DkimSigningKeyLengthRsa2048Bit), "BadRequestException", 400); !strings.Contains(msg, "once every 24 hours") {
		t.Errorf("within a day: %q", msg)
	}
	clock.Advance(time.Hour)
	try(0, put(types.DkimSigningKeyLengthRsa2048Bit)).must(t)
	// The next length changes; the key that signs keeps its own until the next rotation.
	d = getIdentity(t, c, "example.com").DkimAttributes
	if d.NextSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit || d.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa1024Bit {
		t.Errorf("after the change: next %s current %s, want 2048 then 1024", d.NextSigningKeyLength, d.CurrentSigningKeyLength)
	}
	if after, _ := srv.Sesame.Store.ListDKIMKeys(ctx, k); len(after) != 3 || after[0].Record != keys[0].Record {
		t.Error("changing the length changed the keys")
	}
	// And not again within a day of that change, even down to 1024.
	clock.Advance(12 * time.Hour)
	wantAPIError(t, put(types.DkimSigningKeyLengthRsa1024Bit), "BadRequestException", 400)

	// Deleting the identity deletes its keys, and nothing is published for them.
	try(c.DeleteEmailIdentity(ctx, &sesv2.DeleteEmailIdentityInput{EmailIdentity: aws.String("example.com")})).must(t)
	if rec, ok, err := srv.Sesame.Keyring.DKIMKey(ctx, keys[0].Token); ok || err != nil {
		t.Errorf("the key of a deleted identity is still published: %q %v", rec, err)
	}
}
