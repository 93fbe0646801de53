package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
)

// TestAccountLimits: the account-wide caps count every region of the
// account, refuse with LimitExceeded marked ErrAccountLimit, and leave
// other accounts alone.
func TestAccountLimits(t *testing.T) {
	r := newTest(t)
	r.Caps = Caps{Identities: 2, Templates: 1}
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "a.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateEmailIdentity(ctx, west, "b.example", CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	third := Scope{Account: east.Account, Region: "ap-south-1"}
	for name, call := range map[string]func() error{
		"VerifyDomainIdentity": func() error { _, err := r.VerifyDomainIdentity(ctx, third, "c.example"); return err },
		"VerifyDomainDkim":     func() error { _, err := r.VerifyDomainDkim(ctx, east, "c.example"); return err },
		"CreateEmailIdentity":  func() error { _, err := r.CreateEmailIdentity(ctx, west, "c.example", CreateOptions{}); return err },
	} {
		err := call()
		if !errors.Is(err, LimitExceeded) || !errors.Is(err, ErrAccountLimit) {
			t.Errorf("%s: %v, want LimitExceeded of the account-wide cap", name, err)
		}
	}
	// Asking again is not a new identity; another account is not counted.
	if _, err := r.VerifyDomainIdentity(ctx, east, "a.example"); err != nil {
		t.Errorf("again: %v", err)
	}
	if _, err := r.VerifyDomainIdentity(ctx, Scope{Account: "222222222222", Region: "ap-south-1"}, "c.example"); err != nil {
		t.Errorf("another account: %v", err)
	}

}

// TestAccountTemplateLimits: the same for templates.
func TestAccountTemplateLimits(t *testing.T) {
	r := newTest(t)
	r.Caps = Caps{Templates: 1}
	ctx := t.Context()
	s := func(v string) *string { return &v }
	in := TemplateInput{From: s("sender@example.com"), Subject: s("s"), Content: s("<p>hi</p>"),
		SuccessURL: s("https://example.com/ok"), FailureURL: s("https://example.com/ko")}
	for _, sc := range []Scope{east, west} {
		id := r.newIdentity(sc, names.KindEmail, "sender@example.com")
		id.Verification.Status = identity.Success
		if _, err := r.Store.UpdateIdentity(ctx, id.Key, func(*identity.Identity) (*identity.Identity, error) { return id, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CreateTemplate(ctx, east, "welcome", in); err != nil {
		t.Fatal(err)
	}
	_, err := r.CreateTemplate(ctx, west, "welcome", in)
	if !errors.Is(err, LimitExceeded) || !errors.Is(err, ErrAccountLimit) || !errors.Is(err, ErrTemplate) {
		t.Errorf("second template in another region: %v, want LimitExceeded of the account-wide cap on templates", err)
	}
	if ok, err := r.DeleteTemplate(ctx, east, "welcome"); !ok || err != nil {
		t.Fatalf("delete: %v, %v", ok, err)
	}
	if _, err := r.CreateTemplate(ctx, west, "welcome", in); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}

// TestRegions: with Regions set, nothing new is stored in another region,
// whoever asks (the console reaches the registry without a signature).
func TestRegions(t *testing.T) {
	r := newTest(t)
	r.Regions = []string{west.Region}
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, west, "a.example"); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"VerifyDomainIdentity": func() error { _, err := r.VerifyDomainIdentity(ctx, east, "a.example"); return err },
		"VerifyDomainDkim":     func() error { _, err := r.VerifyDomainDkim(ctx, east, "a.example"); return err },
		"CreateEmailIdentity":  func() error { _, err := r.CreateEmailIdentity(ctx, east, "a.example", CreateOptions{}); return err },
		"CreateTemplate": func() error {
			s := "x"
			_, err := r.CreateTemplate(ctx, east, "t", TemplateInput{From: &s, Subject: &s, Content: &s, SuccessURL: &s, FailureURL: &s})
			return err
		},
	} {
		if err := call(); !errors.Is(err, Invalid) || !strings.Contains(err.Error(), "Region us-east-1 is not served by this server: use one of eu-west-1.") {
			t.Errorf("%s in us-east-1: %v, want Invalid naming the regions served", name, err)
		}
	}
}
