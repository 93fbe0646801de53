package registry

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// TestErrors: every operation error is a value whose kind and cause
// errors.Is and errors.As find, so protocols never read the message; and
// the message says what names (or mail) found wrong once, not cut out of
// another error's text.
func TestErrors(t *testing.T) {
	r := newTest(t)
	ctx := t.Context()
	if _, err := r.VerifyDomainIdentity(ctx, east, "example.com"); err != nil {
		t.Fatal(err)
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name    string
		call    func() error
		kind    Kind
		causes  []error // each must match errors.Is
		message string  // the whole message
	}{
		{
			name:    "malformed domain",
			call:    func() error { _, err := r.VerifyDomainIdentity(ctx, east, "-x.example.com"); return err },
			kind:    Invalid,
			causes:  []error{names.ErrInvalid},
			message: `Invalid domain name: domain "-x.example.com": label "-x" starts with a hyphen; remove it.`,
		},
		{
			name: "address too long",
			call: func() error {
				_, err := r.VerifyEmailIdentity(ctx, east, strings.Repeat("a", 65)+"@example.com")
				return err
			},
			kind:    Invalid,
			causes:  []error{names.ErrTooLong},
			message: `Invalid email address: email "` + strings.Repeat("a", 65) + `@example.com": local address is 65 octets; the limit is 64 (RFC 5321).`,
		},
		{
			name:   "malformed identity",
			call:   func() error { _, err := r.Get(ctx, east, ""); return err },
			kind:   Invalid,
			causes: []error{names.ErrEmpty},
		},
		{
			name:    "unknown identity",
			call:    func() error { _, err := r.Get(ctx, west, "example.com"); return err },
			kind:    NotFound,
			causes:  []error{store.ErrNotFound},
			message: "Email identity example.com does not exist.",
		},
		{
			name:   "MAIL FROM of an unknown identity is not found (v1 InvalidParameterValue, v2 NotFoundException)",
			call:   func() error { _, err := r.SetMailFrom(ctx, west, "example.com", "mail.example.com", ""); return err },
			kind:   NotFound,
			causes: []error{store.ErrNotFound},
		},
		{
			name:   "unknown template",
			call:   func() error { _, err := r.GetTemplate(ctx, east, "nope"); return err },
			kind:   NotFound,
			causes: []error{ErrTemplate},
		},
		{
			name: "template content",
			call: func() error {
				_, err := r.CreateTemplate(ctx, east, "t", TemplateInput{From: s("a@example.com"), Subject: s("s"), Content: s("<script>x</script>"),
					SuccessURL: s("https://example.com/ok"), FailureURL: s("https://example.com/ko")})
				return err
			},
			kind:   InvalidContent,
			causes: []error{mail.ErrContent},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *registry.Error", err, err)
			}
			if e.Kind != tt.kind || !errors.Is(err, tt.kind) || !IsKind(err, tt.kind) {
				t.Errorf("kind %v, want %v", e.Kind, tt.kind)
			}
			for _, k := range []Kind{Invalid, NotFound, AlreadyExists, LimitExceeded, InvalidContent} {
				if k != tt.kind && errors.Is(err, k) {
					t.Errorf("errors.Is(err, %v) is true; the kind is %v", k, tt.kind)
				}
			}
			for _, c := range tt.causes {
				if !errors.Is(err, c) {
					t.Errorf("errors.Is(err, %v) = false: the cause is lost", c)
				}
				// A names error is there whole, reason and all.
				var ne *names.Error
				if errors.Is(c, names.ErrInvalid) || errors.Is(c, names.ErrTooLong) || errors.Is(c, names.ErrEmpty) {
					if !errors.As(err, &ne) || ne.Err != c || ne.Reason == "" || !strings.Contains(e.Message, ne.Reason) {
						t.Errorf("errors.As(err, *names.Error) = %+v: want the names error, its reason in the message", ne)
					}
				}
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message\n%q, want\n%q", e.Message, tt.message)
			}
			if strings.Contains(e.Message, names.ErrInvalid.Error()+":") || strings.Contains(e.Message, names.ErrTooLong.Error()+":") {
				t.Errorf("message %q repeats the sentinel's text", e.Message)
			}
		})
	}
}

// TestMailErrors: the mailer's refusals keep their value, so a protocol
// can read the cap that refused with errors.As.
func TestMailErrors(t *testing.T) {
	le := &mail.LimitError{Daily: true, Max: 200, Window: 24 * time.Hour}
	e := mailError(fmt.Errorf("queue: %w", le))
	var got *mail.LimitError
	if e == nil || e.Kind != QuotaExceeded || !errors.As(e, &got) || got != le {
		t.Errorf("mailError(daily limit) = %#v, want QuotaExceeded unwrapping to the *mail.LimitError", e)
	}
	e = mailError(fmt.Errorf("build: %w", mail.ErrTooLarge))
	if e == nil || e.Kind != Rejected || !errors.Is(e, mail.ErrTooLarge) {
		t.Errorf("mailError(too large) = %#v, want Rejected unwrapping to mail.ErrTooLarge", e)
	}
	if e := mailError(errors.New("disk full")); e != nil {
		t.Errorf("mailError(other) = %#v, want nil", e)
	}
}
