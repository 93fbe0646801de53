package dkim

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, length := range []string{RSA1024, RSA2048} {
		k, err := Generate(length)
		if err != nil {
			t.Fatal(err)
		}
		if LengthOf(k) != length {
			t.Errorf("LengthOf = %s, want %s", LengthOf(k), length)
		}
		rec := Record(&k.PublicKey)
		if !strings.HasPrefix(rec, "v=DKIM1; k=rsa; p=") || !Matches(rec, k) {
			t.Errorf("%s: record %q does not publish the key", length, rec)
		}
		der, _ := Marshal(k)
		back, err := Unmarshal(der)
		if err != nil || !back.Equal(k) {
			t.Errorf("Unmarshal: %v", err)
		}
	}
	if _, err := Generate("RSA_4096_BIT"); err == nil {
		t.Error("RSA_4096_BIT accepted")
	}
}

func TestParsePrivate(t *testing.T) {
	k, _ := Generate(RSA1024)
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
	der8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs8 := base64.StdEncoding.EncodeToString(der8)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	for name, s := range map[string]string{"pkcs1": pkcs1, "pkcs8": pkcs8, "pem": pemText, "wrapped": pkcs1[:64] + "\n" + pkcs1[64:]} {
		got, err := ParsePrivate(s)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, s := range map[string]string{"not base64": "%%%", "not a key": base64.StdEncoding.EncodeToString([]byte("hello"))} {
		if _, err := ParsePrivate(s); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
}

func TestPublicKey(t *testing.T) {
	k, _ := Generate(RSA1024)
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pkcs1 := x509.MarshalPKCS1PublicKey(&k.PublicKey)
	b := base64.StdEncoding.EncodeToString
	for name, rec := range map[string]string{
		"spki":             "v=DKIM1; k=rsa; p=" + b(spki),
		"pkcs1":            "v=DKIM1;p=" + b(pkcs1),
		"spaces":           "v=DKIM1 ; k = rsa ; p = " + b(spki)[:20] + " " + b(spki)[20:],
		"p only (BYODKIM)": "p=" + b(spki),
	} {
		if pub, err := PublicKey(rec); err != nil || !pub.Equal(&k.PublicKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, rec := range map[string]string{"no p": "v=DKIM1; k=rsa", "revoked": "v=DKIM1; p=", "ed25519": "v=DKIM1; k=ed25519; p=AAAA", "garbage": "p=!!"} {
		if _, err := PublicKey(rec); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
}

func FuzzPublicKey(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ")
	f.Fuzz(func(t *testing.T, rec string) { PublicKey(rec) })
}

func FuzzParsePrivate(f *testing.F) {
	f.Add("MIICXAIBAAKBgQ")
	f.Fuzz(func(t *testing.T, s string) { ParsePrivate(s) })
}
