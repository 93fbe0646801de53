package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// TestV2BYODKIM: with a DKIM domain Sesame serves, an Easy DKIM domain
// switches to its own key (EXTERNAL): its Easy DKIM keys go, the key is
// sealed as its one key and not published by Sesame's DNS, and
// GetEmailIdentity reports EXTERNAL with the selector as the one token.
// A new key under another selector replaces it; back to AWS_SES, new
// tokens get keys again. Keys SES refuses are refused.
func TestV2BYODKIM(t *testing.T) {
	t.Parallel()
	dnsCfg := config.SES()
	dnsCfg.DKIMDomain = "dkim.example.net"
	srv, a := start(t, sestest.Options{DNS: dnsCfg})
	c := a.V2(east)
	ctx := t.Context()
	created := try(c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")})).must(t)
	easy := created.DkimAttributes.Tokens
	k := identity.Key{Account: a.AccountId, Region: east, Name: "example.com"}
	if keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, k); len(keys) != 3 {
		t.Fatalf("%d Easy DKIM keys, want 3", len(keys))
	}

	put := func(origin types.DkimSigningAttributesOrigin, attrs *types.DkimSigningAttributes) (*sesv2.PutEmailIdentityDkimSigningAttributesOutput, error) {
		return c.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{
			EmailIdentity: aws.String("example.com"), SigningAttributesOrigin: origin, SigningAttributes: attrs})
	}
	gen := func(bits int) *rsa.PrivateKey {
		pk, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	pkcs8 := func(pk *rsa.PrivateKey) string {
		der, err := x509.MarshalPKCS8PrivateKey(pk)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(der)
	}
	pk := gen(2048)
	out := try(put(types.DkimSigningAttributesOriginExternal, &types.DkimSigningAttributes{
		DomainSigningSelector: aws.String("mail2026"), DomainSigningPrivateKey: aws.String(pkcs8(pk))})).must(t)
	if out.DkimStatus != types.DkimStatusPending || !slices.Equal(out.DkimTokens, []string{"mail2026"}) {
		t.Errorf("EXTERNAL: %+v, want PENDING and the selector", out)
	}
	d := getIdentity(t, c, "example.com").DkimAttributes
	if d.SigningAttributesOrigin != types.DkimSigningAttributesOriginExternal || !slices.Equal(d.Tokens, []string{"mail2026"}) ||
		d.Status != types.DkimStatusPending || d.CurrentSigningKeyLength != types.DkimSigningKeyLengthRsa2048Bit || d.NextSigningKeyLength != "" {
		t.Errorf("GetEmailIdentity after EXTERNAL: %+v", d)
	}
	keys, err := srv.Sesame.Store.ListDKIMKeys(ctx, k)
	if err != nil || len(keys) != 1 || keys[0].State != store.DKIMExternal || keys[0].Record != dkim.Record(&pk.PublicKey) {
		t.Fatalf("keys after EXTERNAL: %+v %v, want the one external key", keys, err)
	}
	for _, name := range append([]string{keys[0].Token, "mail2026"}, easy...) {
		if rec, ok, err := srv.Sesame.Keyring.DKIMKey(ctx, name); ok || err != nil {
			t.Errorf("%s is published after EXTERNAL: %q %v", name, rec, err)
		}
	}

	// Another key and selector (PKCS#1 in a PEM block, 1024 bits): it replaces the first.
	pk2 := gen(1024)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pk2)}))
	// PEM has line breaks and headers, which the model's pattern refuses; SES
	// takes base64 only, so give the body joined.
	body := strings.Join(slices.DeleteFunc(strings.Split(pemKey, "\n"), func(l string) bool { return l == "" || strings.HasPrefix(l, "-----") }), "")
	try(put(types.DkimSigningAttributesOriginExternal, &types.DkimSigningAttributes{
		DomainSigningSelector: aws.String("s2"), DomainSigningPrivateKey: aws.String(body)})).must(t)
	if keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, k); len(keys) != 1 || keys[0].Selector != "s2" || keys[0].Length != dkim.RSA1024 {
		t.Errorf("keys after the second EXTERNAL: %+v", keys)
	}

	for _, tc := range []struct {
		name  string
		attrs *types.DkimSigningAttributes
		msg   string
	}{
		{"4096 bits", &types.DkimSigningAttributes{DomainSigningSelector: aws.String("s3"), DomainSigningPrivateKey: aws.String(pkcs8(gen(4096)))}, "4096 bits"},
		{"not base64", &types.DkimSigningAttributes{DomainSigningSelector: aws.String("s3"), DomainSigningPrivateKey: aws.String("not base64!")}, "base64"},
		{"with a key length", &types.DkimSigningAttributes{DomainSigningSelector: aws.String("s3"), DomainSigningPrivateKey: aws.String(pkcs8(pk)), NextSigningKeyLength: types.DkimSigningKeyLengthRsa1024Bit}, "NextSigningKeyLength"},
		{"selector of 64", &types.DkimSigningAttributes{DomainSigningSelector: aws.String(strings.Repeat("s", 64)), DomainSigningPrivateKey: aws.String(pkcs8(pk))}, "DomainSigningSelector"},
		{"no attributes", nil, "DomainSigningSelector"},
	} {
		_, err := put(types.DkimSigningAttributesOriginExternal, tc.attrs)
		if msg := wantAPIError(t, err, "BadRequestException", 400); !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %q, want it to say %q", tc.name, msg, tc.msg)
		}
	}
	if keys, _ := srv.Sesame.Store.ListDKIMKeys(ctx, k); len(keys) != 1 || keys[0].Selector != "s2" {
		t.Errorf("a refused key changed the keys: %+v", keys)
	}

	// Back to Easy DKIM: three new tokens with keys, published; no external key.
	back := try(put(types.DkimSigningAttributesOriginAwsSes, nil)).must(t)
	checkDkimTokens(t, back.DkimTokens)
	if slices.Equal(back.DkimTokens, easy) || back.DkimStatus != types.DkimStatusPending {
		t.Errorf("back to AWS_SES: %+v, want new tokens, PENDING", back)
	}
	keys, _ = srv.Sesame.Store.ListDKIMKeys(ctx, k)
	if len(keys) != 3 || slices.ContainsFunc(keys, func(key store.DKIMKey) bool { return key.State == store.DKIMExternal }) {
		t.Fatalf("keys back on AWS_SES: %+v", keys)
	}
	if _, ok, err := srv.Sesame.Keyring.DKIMKey(ctx, keys[0].Token); !ok || err != nil {
		t.Errorf("an Easy DKIM key is not published back on AWS_SES: %v", err)
	}
	if d := getIdentity(t, c, "example.com").DkimAttributes; d.SigningAttributesOrigin != types.DkimSigningAttributesOriginAwsSes || !slices.Equal(d.Tokens, back.DkimTokens) {
		t.Errorf("GetEmailIdentity back on AWS_SES: %+v", d)
	}
}
