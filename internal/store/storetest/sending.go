package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

func testSending(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("EmailTemplates", func(t *testing.T) { testEmailTemplates(t, newStore(t)) })
	t.Run("SendingStates", func(t *testing.T) { testSendingStates(t, newStore(t)) })
}

func testEmailTemplates(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := store.TemplateKey{Account: "111111111111", Region: "us-east-1", Name: "welcome"}
	a := &store.EmailTemplate{TemplateKey: k, Subject: "Hi {{name}}", Text: "Hello {{name}}", HTML: "<p>Hello {{name}}</p>",
		Tags: []identity.Tag{{Key: "team", Value: "web"}}, Created: t0, Updated: t0}
	if err := s.CreateEmailTemplate(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEmailTemplate(ctx, a, nil); !errors.Is(err, store.ErrExists) {
		t.Errorf("second create: err = %v, want ErrExists", err)
	}
	// A custom verification template of the same name is another thing.
	if _, err := s.GetTemplate(ctx, k); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTemplate of an email template's name: err = %v, want ErrNotFound", err)
	}
	got, err := s.GetEmailTemplate(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("GetEmailTemplate (-want +got):\n%s", d)
	}
	for _, other := range []store.TemplateKey{
		{Account: "111111111111", Region: "eu-west-1", Name: "welcome"},
		{Account: "222222222222", Region: "us-east-1", Name: "welcome"},
	} {
		if _, err := s.GetEmailTemplate(ctx, other); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetEmailTemplate(%v): err = %v, want ErrNotFound", other, err)
		}
	}

	// The limit sees the count in the region, and its error stores nothing.
	errFull := errors.New("full")
	var seen int
	b := &store.EmailTemplate{TemplateKey: store.TemplateKey{Account: k.Account, Region: k.Region, Name: "b"}, Subject: "s", Created: t0, Updated: t0}
	if err := s.CreateEmailTemplate(ctx, b, func(n int) error { seen = n; return errFull }); !errors.Is(err, errFull) {
		t.Errorf("create over the limit: err = %v, want the limit's", err)
	}
	if seen != 1 {
		t.Errorf("limit saw %d templates in the region, want 1", seen)
	}
	if _, err := s.GetEmailTemplate(ctx, b.TemplateKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("template refused by the limit was stored: err = %v", err)
	}
	if err := s.CreateEmailTemplate(ctx, b, func(int) error { return nil }); err != nil {
		t.Fatal(err)
	}

	// Update replaces the parts and keeps Created.
	up := &store.EmailTemplate{TemplateKey: k, Subject: "New", Text: "t", Updated: t0.Add(1)}
	if err := s.UpdateEmailTemplate(ctx, up); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetEmailTemplate(ctx, k)
	want := &store.EmailTemplate{TemplateKey: k, Subject: "New", Text: "t", Created: t0, Updated: t0.Add(1)}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("after update (-want +got):\n%s (err %v)", cmp.Diff(want, got), err)
	}
	if err := s.UpdateEmailTemplate(ctx, &store.EmailTemplate{TemplateKey: store.TemplateKey{Account: k.Account, Region: k.Region, Name: "nope"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown template: err = %v, want ErrNotFound", err)
	}

	list, err := s.ListEmailTemplates(ctx, k.Account, k.Region, "", 10)
	if err != nil || len(list) != 2 || list[0].Name != "b" || list[1].Name != "welcome" {
		t.Errorf("ListEmailTemplates = %v, %v; want b, welcome", list, err)
	}
	list, err = s.ListEmailTemplates(ctx, k.Account, k.Region, "b", 10)
	if err != nil || len(list) != 1 || list[0].Name != "welcome" {
		t.Errorf("ListEmailTemplates after b = %v, %v; want welcome", list, err)
	}
	if list, _ := s.ListEmailTemplates(ctx, k.Account, k.Region, "", 1); len(list) != 1 {
		t.Errorf("ListEmailTemplates limit 1 gave %d", len(list))
	}

	if ok, err := s.DeleteEmailTemplate(ctx, k); !ok || err != nil {
		t.Errorf("DeleteEmailTemplate = %v, %v; want true", ok, err)
	}
	if ok, err := s.DeleteEmailTemplate(ctx, k); ok || err != nil {
		t.Errorf("second DeleteEmailTemplate = %v, %v; want false", ok, err)
	}
}

func testSendingStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	const acct, region = "111111111111", "us-east-1"
	got, err := s.GetSendingState(ctx, acct, region)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&store.SendingState{Account: acct, Region: region}); !cmp.Equal(want, got) {
		t.Errorf("state never written (-want +got):\n%s", cmp.Diff(want, got))
	}
	st, err := s.UpdateSendingState(ctx, acct, region, func(st *store.SendingState) error {
		st.Production, st.MaxSendRate, st.Updated = true, 14, t0
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &store.SendingState{Account: acct, Region: region, Production: true, MaxSendRate: 14, Updated: t0}
	if !cmp.Equal(want, st) {
		t.Errorf("UpdateSendingState returned (-want +got):\n%s", cmp.Diff(want, st))
	}
	// fn sees the stored state; its error stores nothing.
	errNo := errors.New("no")
	_, err = s.UpdateSendingState(ctx, acct, region, func(st *store.SendingState) error {
		if !st.Production || st.MaxSendRate != 14 {
			t.Errorf("fn saw %+v, not the stored state", st)
		}
		st.Paused = true
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Errorf("fn's error: got %v", err)
	}
	got, err = s.GetSendingState(ctx, acct, region)
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("after a refused update (-want +got):\n%s (err %v)", cmp.Diff(want, got), err)
	}
	// Another region and another account keep the zero state.
	for _, o := range [][2]string{{acct, "eu-west-1"}, {"222222222222", region}} {
		got, err := s.GetSendingState(ctx, o[0], o[1])
		if err != nil || got.Production || got.MaxSendRate != 0 {
			t.Errorf("GetSendingState(%s, %s) = %+v, %v; want the zero state", o[0], o[1], got, err)
		}
	}
}
