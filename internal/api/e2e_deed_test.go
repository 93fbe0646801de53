package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// TestV2DEED: CreateEmailIdentity in eu-west-1 with
// DomainSigningAttributesOrigin AWS_SES_US_EAST_1 replicates the Easy DKIM
// of the identity in us-east-1 (Deterministic Easy DKIM): the same three
// tokens, so the same CNAMEs, and its mail is signed with the parent's
// current key; it has no keys of its own. A missing parent, the same
// region, a BYODKIM parent and a replica as parent are refused with SES's
// REPLICATION_* names. Back to AWS_SES, the replica gets tokens of its own.
func TestV2DEED(t *testing.T) {
	t.Parallel()
	dnsCfg := config.SES()
	dnsCfg.DKIMDomain = "dkim.example.net"
	srv, a := start(t, sestest.Options{DNS: dnsCfg})
	ce, cw := a.V2(east), a.V2(west)
	ctx := t.Context()
	replicate := func(c *sesv2.Client, name string, origin types.DkimSigningAttributesOrigin) (*sesv2.CreateEmailIdentityOutput, error) {
		return c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(name),
			DkimSigningAttributes: &types.DkimSigningAttributes{DomainSigningAttributesOrigin: origin}})
	}
	msg := func(err error) string { return wantAPIError(t, err, "BadRequestException", 400) }

	_, err := replicate(cw, "example.com", types.DkimSigningAttributesOriginAwsSesUsEast1)
	if m := msg(err); !strings.Contains(m, "REPLICATION_PRIMARY_NOT_FOUND") {
		t.Errorf("no parent: %q", m)
	}
	parent := try(ce.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})).must(t)
	_, err = replicate(ce, "example.org", types.DkimSigningAttributesOriginAwsSesUsEast1)
	if m := msg(err); !strings.Contains(m, "REPLICATION_PRIMARY_INVALID_REGION") {
		t.Errorf("the same region: %q", m)
	}

	out := try(replicate(cw, "example.com", types.DkimSigningAttributesOriginAwsSesUsEast1)).must(t)
	if d := out.DkimAttributes; !slices.Equal(d.Tokens, parent.DkimAttributes.Tokens) || d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSesUsEast1 {
		t.Fatalf("replica DkimAttributes %+v, want the parent's tokens %q and origin AWS_SES_US_EAST_1", d, parent.DkimAttributes.Tokens)
	}
	d := getIdentity(t, cw, "example.com").DkimAttributes
	if d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSesUsEast1 || d.Status != types.DkimStatusPending ||
		d.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit || !slices.Equal(d.Tokens, parent.DkimAttributes.Tokens) {
		t.Errorf("GetEmailIdentity of the replica: %+v", d)
	}
	replica := identity.Key{Account: a.AccountId, Region: west, Name: "example.com"}
	if keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, replica); len(keys) != 0 {
		t.Errorf("the replica has %d keys of its own, want none", len(keys))
	}
	_, err = replicate(a.V2("ap-south-1"), "example.com", types.DkimSigningAttributesOriginAwsSesEuWest1)
	if m := msg(err); !strings.Contains(m, "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED") {
		t.Errorf("a replica as parent: %q", m)
	}

	// Once verified, the replica's mail is signed with the parent's current key.
	if _, err := srv.Sesame.Identities.UpdateIdentity(ctx, replica, func(cur *identity.Identity) (*identity.Identity, error) {
		cur.DKIM.Check.Status = identity.Success
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	s, err := srv.Sesame.Keyring.SigningKey(ctx, registry.Scope{Account: a.AccountId, Region: west}, "app@example.com")
	if err != nil || s == nil {
		t.Fatalf("the replica's signing key: %+v %v", s, err)
	}
	keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, identity.Key{Account: a.AccountId, Region: east, Name: "example.com"})
	i := slices.IndexFunc(keys, func(k store.DKIMKey) bool { return k.State == store.DKIMCurrent })
	if i < 0 || s.Selector != keys[i].Token || s.Domain != "example.com" {
		t.Errorf("the replica signs with s=%s d=%s, want the parent's current token", s.Selector, s.Domain)
	}

	// A BYODKIM parent cannot be replicated.
	pk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	try(ce.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("byo.example"),
		DkimSigningAttributes: &types.DkimSigningAttributes{DomainSigningSelector: aws.String("s1"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(pk)))}})).must(t)
	_, err = replicate(cw, "byo.example", types.DkimSigningAttributesOriginAwsSesUsEast1)
	if m := msg(err); !strings.Contains(m, "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED") {
		t.Errorf("a BYODKIM parent: %q", m)
	}

	// Back to Easy DKIM of its own: new tokens, with keys.
	back := try(cw.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{EmailIdentity: aws.String("example.com"),
		SigningAttributesOrigin: types.DkimSigningAttributesOriginAwsSes})).must(t)
	if slices.Equal(back.DkimTokens, parent.DkimAttributes.Tokens) || len(back.DkimTokens) != 3 {
		t.Errorf("back to AWS_SES: tokens %q, want three of its own", back.DkimTokens)
	}
	if keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, replica); len(keys) != 3 {
		t.Errorf("back to AWS_SES: %d keys, want 3", len(keys))
	}
	if d := getIdentity(t, cw, "example.com").DkimAttributes; d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes {
		t.Errorf("back to AWS_SES: origin %s", d.SigningAttributesOrigin)
	}
}
