package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/knottest"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/sestest"
	"github.com/sesame/sesame/internal/store"
)

// byoIP is the customer's Knot of TestBYODKIMEndToEnd.
const byoIP = "127.0.22.1"

// TestBYODKIMEndToEnd: a domain created with its own key
// (DkimSigningAttributes' selector and private key) stays PENDING while
// <selector>._domainkey on the customer's Knot publishes another key, is
// SUCCESS once it publishes the key's public half, and its mail is then
// signed d=<domain>; s=<selector> and verifies against that record. With
// SES's own DKIM domain: BYODKIM needs no Sesame DNS, and Sesame
// publishes nothing. Back to AWS_SES, the domain has three tokens and the
// key is gone.
func TestBYODKIMEndToEnd(t *testing.T) {
	t.Parallel()
	customer := knottest.Start(t, byoIP, "example.test", strings.ReplaceAll(knotZone, "127.0.0.1", byoIP))
	srv := sestest.New(t, sestest.Options{DNS: config.SES(),
		Verify: server.VerifyOptions{Run: true, Resolver: customer.Addr, AuthPort: customer.Port, RateLimit: 1000,
			Recheck: time.Second, Timeout: 500 * time.Millisecond, Budget: 3 * time.Second}})
	ctx := t.Context()
	a := srv.NewAccount("ops")
	v1, v2 := a.V1("us-east-1"), a.V2("us-east-1")

	pk, err := rsa.GenerateKey(rand.Reader, 1024) // its record fits one TXT string
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	created, err := v2.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.test"),
		DkimSigningAttributes: &v2types.DkimSigningAttributes{DomainSigningSelector: aws.String("sel1"),
			DomainSigningPrivateKey: aws.String(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(pk)))}})
	if err != nil {
		t.Fatal(err)
	}
	if d := created.DkimAttributes; d.SigningAttributesOrigin != v2types.DkimSigningAttributesOriginExternal ||
		len(d.Tokens) != 1 || d.Tokens[0] != "sel1" || d.Status != v2types.DkimStatusPending {
		t.Fatalf("CreateEmailIdentity DkimAttributes %+v: want EXTERNAL, the selector, PENDING", d)
	}
	k := identity.Key{Account: a.AccountId, Region: "us-east-1", Name: "example.test"}
	keys, err := srv.Sesame.Store.ListDKIMKeys(ctx, k)
	if err != nil || len(keys) != 1 || keys[0].State != store.DKIMExternal || keys[0].Selector != "sel1" {
		t.Fatalf("stored keys %+v %v: want the one external key", keys, err)
	}
	if der := x509.MarshalPKCS1PrivateKey(pk); bytes.Contains(keys[0].Sealed, der[len(der)-64:]) {
		t.Error("the private key is stored in the clear")
	}
	for _, name := range []string{keys[0].Token, "sel1"} {
		if rec, ok, err := srv.Sesame.Keyring.DKIMKey(ctx, name); ok || err != nil {
			t.Errorf("Sesame publishes the BYODKIM key as %s: %q %v", name, rec, err)
		}
	}

	// Another key at the selector: not verified (INVALID_VALUE), mail unsigned.
	customer.Update(fmt.Sprintf(`add sel1._domainkey.example.test. 60 TXT "%s"`, dkim.Record(&other.PublicKey)))
	deadline := time.Now().Add(15 * time.Second)
	for out := getV2(t, v2, "example.test"); out.VerificationInfo == nil || out.VerificationInfo.ErrorType != v2types.VerificationErrorInvalidValue; out = getV2(t, v2, "example.test") {
		if time.Now().After(deadline) {
			t.Fatalf("with another key published: %+v %+v, want INVALID_VALUE", out.DkimAttributes, out.VerificationInfo)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := getV2(t, v2, "example.test").DkimAttributes; d.Status != v2types.DkimStatusPending {
		t.Fatalf("with another key published: DKIM %s, want PENDING", d.Status)
	}

	// The key's own public half, as SES documents it (p= only): SUCCESS.
	p := strings.TrimPrefix(dkim.Record(&pk.PublicKey), "v=DKIM1; k=rsa; ")
	customer.Update(`del sel1._domainkey.example.test. TXT`, fmt.Sprintf(`add sel1._domainkey.example.test. 60 TXT "%s"`, p))
	out := waitStatus(t, v2, "example.test", "SUCCESS", 15*time.Second)
	for deadline := time.Now().Add(15 * time.Second); out.DkimAttributes.Status != v2types.DkimStatusSuccess; out = getV2(t, v2, "example.test") {
		if time.Now().After(deadline) {
			t.Fatalf("DKIM status %s, want SUCCESS", out.DkimAttributes.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := out.DkimAttributes; d.SigningAttributesOrigin != v2types.DkimSigningAttributesOriginExternal || len(d.Tokens) != 1 || d.Tokens[0] != "sel1" ||
		d.CurrentSigningKeyLength != v2types.DkimSigningKeyLengthRsa1024Bit || !d.SigningEnabled {
		t.Errorf("GetEmailIdentity DkimAttributes %+v", d)
	}

	if _, err := srv.Sesame.Store.UpdateSendingState(ctx, a.AccountId, "us-east-1", func(s *store.SendingState) error {
		s.Production, s.MaxSendRate = true, -1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	o, err := v1.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("app@example.test"),
		Destination: &types.Destination{ToAddresses: []string{"to@example.org"}},
		Message:     &types.Message{Subject: &types.Content{Data: aws.String("own key")}, Body: &types.Body{Text: &types.Content{Data: aws.String("hello")}}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.Sesame.Store.GetMessage(ctx, aws.ToString(o.MessageId))
	if err != nil {
		t.Fatal(err)
	}
	res := &chainResolver{t: t, port: customer.Port, zones: map[string]string{"example.test.": customer.Addr}}
	vs, err := msgdkim.VerifyWithOptions(bytes.NewReader(m.Raw), &msgdkim.VerifyOptions{LookupTXT: res.LookupTXT})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.test" {
		t.Fatalf("verifications %+v %v\n%s", vs, err, m.Raw)
	}
	if h := string(m.Raw[:bytes.Index(m.Raw, []byte("\r\n\r\n"))]); !strings.Contains(h, " s=sel1;") {
		t.Errorf("not signed with s=sel1:\n%s", h)
	}

	// Back to Easy DKIM: three new tokens, pending; the external key is gone.
	back, err := v2.PutEmailIdentityDkimSigningAttributes(ctx, &sesv2.PutEmailIdentityDkimSigningAttributesInput{EmailIdentity: aws.String("example.test"),
		SigningAttributesOrigin: v2types.DkimSigningAttributesOriginAwsSes})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.DkimTokens) != 3 || back.DkimStatus != v2types.DkimStatusPending {
		t.Errorf("back to AWS_SES: %+v", back)
	}
	if d := getV2(t, v2, "example.test").DkimAttributes; d.SigningAttributesOrigin != v2types.DkimSigningAttributesOriginAwsSes || len(d.Tokens) != 3 {
		t.Errorf("back to AWS_SES: DkimAttributes %+v", d)
	}
	if keys, err := srv.Sesame.Store.ListDKIMKeys(ctx, k); err != nil || len(keys) != 0 {
		t.Errorf("back to AWS_SES with SES's DKIM domain: keys %+v %v, want none", keys, err)
	}
}
