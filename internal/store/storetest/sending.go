package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

func testSending(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("EmailTemplates", func(t *testing.T) { testEmailTemplates(t, newStore(t)) })
	t.Run("SendingStates", func(t *testing.T) { testSendingStates(t, newStore(t)) })
	t.Run("SentMail", func(t *testing.T) { testSentMail(t, newStore(t)) })
	t.Run("SentQuotaWindow", func(t *testing.T) { testSentQuotaWindow(t, newStore(t)) })
}

// testSentQuotaWindow: the quota's count (kept by the minute) is exact to
// the nanosecond whatever the window's start: every recipient of a message
// created after Since, none before or at it, in the account's region only,
// over messages spread across minutes and two days.
func testSentQuotaWindow(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := t0.Add(-36 * time.Hour)
	var all []*store.Message
	for i := range 60 {
		// Uneven gaps: several messages share a minute, some minutes none.
		at := start.Add(time.Duration(i*i) * 37 * time.Second)
		rcpts := []string{"a@example.net", "b@example.net", "c@example.net"}[:1+i%3]
		region := "us-east-1"
		if i%7 == 0 {
			region = "eu-west-1"
		}
		m := sentMessage(fmt.Sprint("q", i), region, at, rcpts...)
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
		all = append(all, m)
	}
	for _, since := range []time.Time{start.Add(-time.Minute), start, all[10].Created, all[10].Created.Add(-time.Nanosecond),
		all[20].Created.Add(time.Nanosecond), all[30].Created.Add(29 * time.Second), all[59].Created, all[59].Created.Add(time.Minute)} {
		want := 0
		for _, m := range all {
			if m.Key.Region == "us-east-1" && m.Created.After(since) {
				want += m.Counted
			}
		}
		got, err := s.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: since})
		if err != nil || got != want {
			t.Errorf("count since %s = %d, %v; want %d", since.Sub(start), got, err, want)
		}
	}
	// A new minute drops the minutes older than store.SentMinutesKept: a
	// window reaching back that far (none does: the quota's is a day) no
	// longer sees them.
	later := all[59].Created.Add(time.Duration(store.SentMinutesKept+1) * time.Minute)
	if err := s.AddMessage(ctx, sentMessage("q-later", "us-east-1", later, "a@example.net"), nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: start.Add(-time.Minute)})
	if err != nil || got != 1 {
		t.Errorf("count over three days after the prune = %d, %v; want 1 (the new message alone)", got, err)
	}
}

func sentMessage(id, region string, at time.Time, rcpts ...string) *store.Message {
	k := identity.Key{Account: "111111111111", Region: region, Name: "example.com"}
	return &store.Message{ID: id, Kind: store.SentMail, Key: k, From: "app@example.com", To: rcpts[0], Recipients: rcpts, Counted: len(rcpts),
		Subject: "s", Raw: []byte("Subject: s\r\n\r\nbody\r\n"), Created: at, Status: store.Local,
		Sent: &store.SentInfo{MessageID: id, Action: "SendEmail", Source: "App <app@example.com>", To: rcpts[:1], Bcc: rcpts[1:], Subject: "s", Text: "body"}}
}

// testSentMail: sent mail shares the outbox (and so the queue) with
// verification mail, but not its counts, lists or caps.
func testSentMail(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := sentMessage("s1", "us-east-1", t0, "x@example.net", "y@example.net", "z@example.net")
	a.Status, a.NextAttempt = store.Queued, t0
	b := sentMessage("s2", "us-east-1", t0.Add(time.Minute), "x@example.net")
	c := sentMessage("s3", "eu-west-1", t0.Add(time.Minute), "x@example.net")
	v := message("v1", userKey, t0, store.Local)
	// To the mailbox simulator alone: not counted by the quota.
	sim := sentMessage("s0", "ap-south-1", t0.Add(time.Minute), "success@simulator.amazonses.com")
	sim.Counted = 0
	for _, m := range []*store.Message{a, b, c, v, sim} {
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetMessage(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("GetMessage of sent mail (-want +got):\n%s", d)
	}
	// One queue: sent mail is due like verification mail.
	if due, err := s.DueMessages(ctx, t0, 10); err != nil || len(due) != 1 || due[0].ID != "s1" {
		t.Errorf("DueMessages = %v, %v; want s1", due, err)
	}
	// The quota counts recipients in the region; verification caps count
	// verification mail alone.
	for _, c := range []struct {
		l    store.Limit
		want int
	}{
		{store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: t0.Add(-time.Hour)}, 4},
		{store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: t0}, 1},
		{store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "eu-west-1", Since: t0.Add(-time.Hour)}, 1},
		{store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "ap-south-1", Since: t0.Add(-time.Hour)}, 0},
		{store.Limit{Account: "111111111111", Since: t0.Add(-time.Hour)}, 1},
	} {
		if n, err := s.CountMessages(ctx, c.l); err != nil || n != c.want {
			t.Errorf("CountMessages(%+v) = %d, %v; want %d", c.l, n, err, c.want)
		}
	}
	// A limit on sent mail refuses and stores nothing.
	errQuota := errors.New("quota")
	d := sentMessage("s4", "us-east-1", t0.Add(2*time.Minute), "x@example.net")
	lim := store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: t0.Add(-time.Hour), Max: 4, Err: errQuota}
	if err := s.AddMessage(ctx, d, nil, []store.Limit{lim}); !errors.Is(err, errQuota) {
		t.Errorf("AddMessage over the quota: %v, want its error", err)
	}
	if _, err := s.GetMessage(ctx, "s4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("message refused by the quota was stored: %v", err)
	}
	list, err := s.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Limit: 10})
	if err != nil || len(list) != 2 || list[0].ID != "s2" || list[1].ID != "s1" {
		t.Errorf("ListMessages of sent mail = %v, %v; want s2, s1", list, err)
	}
	if list, _ := s.ListMessages(ctx, store.MessageQuery{Limit: 10}); len(list) != 1 || list[0].ID != "v1" {
		t.Errorf("ListMessages of verification mail = %v; want v1 alone", list)
	}
	// Hiding takes messages out of the list, not out of the quota.
	if n, err := s.HideSent(ctx, "111111111111", "s2"); n != 1 || err != nil {
		t.Errorf("HideSent(s2) = %d, %v; want 1", n, err)
	}
	if list, _ := s.ListMessages(ctx, store.MessageQuery{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Limit: 10}); len(list) != 1 || list[0].ID != "s1" {
		t.Errorf("after hiding s2: %v, want s1", list)
	}
	if n, err := s.HideSent(ctx, "222222222222", ""); n != 0 || err != nil {
		t.Errorf("HideSent of another account = %d, %v; want 0", n, err)
	}
	if n, err := s.HideSent(ctx, "111111111111", ""); n != 3 || err != nil {
		t.Errorf("HideSent of all = %d, %v; want 3 (s0, s1, s3)", n, err)
	}
	if list, _ := s.ListMessages(ctx, store.MessageQuery{Limit: 10}); len(list) != 1 {
		t.Errorf("hiding sent mail hid verification mail: %v", list)
	}
	if n, _ := s.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: "111111111111", Region: "us-east-1", Since: t0.Add(-time.Hour)}); n != 4 {
		t.Errorf("hidden messages left the quota: %d recipients, want 4", n)
	}
	vol, err := s.SentVolume(ctx, "111111111111", "us-east-1", t0.Add(-time.Hour))
	want := []store.Volume{{Created: t0, Recipients: 3}, {Created: t0.Add(time.Minute), Recipients: 1}}
	if err != nil || !cmp.Equal(want, vol) {
		t.Errorf("SentVolume (-want +got):\n%s (err %v)", cmp.Diff(want, vol), err)
	}
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
