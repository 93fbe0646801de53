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

func testMail(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, newStore(t)) })
	t.Run("UpdateMessages", func(t *testing.T) { testUpdateMessages(t, newStore(t)) })
	t.Run("Links", func(t *testing.T) { testLinks(t, newStore(t)) })
	t.Run("Limits", func(t *testing.T) { testLimits(t, newStore(t)) })
	t.Run("Templates", func(t *testing.T) { testTemplates(t, newStore(t)) })
}

var userKey = identity.Key{Account: "111111111111", Region: "us-east-1", Name: "user@example.com"}

func message(id string, k identity.Key, at time.Time, status store.MessageStatus) *store.Message {
	return &store.Message{
		ID: id, Key: k, From: "no-reply@sesame.test", To: k.Name, Subject: "Verify " + id,
		Link: "http://sesame.test/verify?token=" + id, LinkNonce: "n-" + id,
		Raw: []byte("Subject: x\r\n\r\nbody\r\n"), Created: at, Status: status,
	}
}

func link(nonce string, k identity.Key, at time.Time) *store.Link {
	return &store.Link{Nonce: nonce, Key: k, Created: at, Expires: at.Add(24 * time.Hour)}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := message("a", userKey, t0, store.Queued)
	a.NextAttempt = t0.Add(time.Minute)
	b := message("b", userKey, t0.Add(time.Second), store.Queued)
	b.NextAttempt = t0
	c := message("c", identity.Key{Account: "222222222222", Region: "eu-west-1", Name: "other@example.com"}, t0.Add(2*time.Second), store.Local)
	for _, m := range []*store.Message{a, b, c} {
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddMessage(ctx, message("a", userKey, t0, store.Queued), nil, nil); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate message ID: %v, want ErrExists", err)
	}
	got, err := s.GetMessage(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("GetMessage (-want +got):\n%s", d)
	}
	if _, err := s.GetMessage(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown message: %v", err)
	}
	ids := func(ms []*store.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	all, _ := s.ListMessages(ctx, store.MessageQuery{Limit: 10})
	if d := cmp.Diff([]string{"c", "b", "a"}, ids(all)); d != "" {
		t.Errorf("ListMessages, newest first (-want +got):\n%s", d)
	}
	to, _ := s.ListMessages(ctx, store.MessageQuery{To: "user@example.com", Limit: 1})
	if d := cmp.Diff([]string{"b"}, ids(to)); d != "" {
		t.Errorf("ListMessages To, Limit 1 (-want +got):\n%s", d)
	}
	mine, _ := s.ListMessages(ctx, store.MessageQuery{Account: userKey.Account, Limit: 10})
	if d := cmp.Diff([]string{"b", "a"}, ids(mine)); d != "" {
		t.Errorf("ListMessages Account (-want +got):\n%s", d)
	}
	other, _ := s.ListMessages(ctx, store.MessageQuery{Account: "222222222222", Region: "us-east-1", Limit: 10})
	if len(other) != 0 {
		t.Errorf("ListMessages of another region: %v, want none", ids(other))
	}
	local, _ := s.ListMessages(ctx, store.MessageQuery{Status: store.Local, Limit: 10})
	if d := cmp.Diff([]string{"c"}, ids(local)); d != "" {
		t.Errorf("ListMessages Status (-want +got):\n%s", d)
	}

	due, _ := s.DueMessages(ctx, t0.Add(time.Minute), 10)
	if d := cmp.Diff([]string{"b", "a"}, ids(due)); d != "" {
		t.Errorf("DueMessages, earliest first (-want +got):\n%s", d)
	}
	if next, err := s.NextDue(ctx); err != nil || !next.Equal(t0) {
		t.Errorf("NextDue = %v, %v; want %v", next, err, t0)
	}
	b.Status, b.Attempts, b.NextAttempt, b.LastError, b.Done = store.Sent, 1, time.Time{}, "", t0.Add(time.Minute)
	if err := s.UpdateMessage(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetMessage(ctx, "b"); got.Status != store.Sent || got.Attempts != 1 || !got.Done.Equal(b.Done) || !got.NextAttempt.IsZero() {
		t.Errorf("after UpdateMessage: %+v", got)
	}
	if next, _ := s.NextDue(ctx); !next.Equal(a.NextAttempt) {
		t.Errorf("NextDue after b was sent = %v, want %v", next, a.NextAttempt)
	}
	if err := s.UpdateMessage(ctx, message("nope", userKey, t0, store.Sent)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateMessage of an unknown message: %v", err)
	}
	a.Status = store.Failed
	s.UpdateMessage(ctx, a)
	if next, err := s.NextDue(ctx); err != nil || !next.IsZero() {
		t.Errorf("NextDue with nothing queued = %v, %v; want zero", next, err)
	}
}

// testUpdateMessages: store.UpdateMessages stores the outcomes of several
// messages at once, and a batch with an unknown message stores none.
func testUpdateMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ms []*store.Message
	for i := range 5 {
		m := message(fmt.Sprintf("m%d", i), userKey, t0.Add(time.Duration(i)*time.Second), store.Queued)
		m.NextAttempt = t0
		if err := s.AddMessage(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for i, m := range ms[:3] {
		m.Status, m.Attempts, m.NextAttempt, m.Done = store.Sent, i+1, time.Time{}, t0.Add(time.Hour)
	}
	if err := store.UpdateMessages(ctx, s, ms[:3]); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms[:3] {
		if got, _ := s.GetMessage(ctx, m.ID); got == nil || got.Status != store.Sent || got.Attempts != i+1 || !got.Done.Equal(m.Done) {
			t.Errorf("after UpdateMessages, %s: %+v", m.ID, got)
		}
	}
	if _, ok := s.(store.MessageBatcher); !ok {
		return // one by one: no promise of all or nothing
	}
	ms[3].Status, ms[3].Attempts = store.Failed, 1
	batch := []*store.Message{ms[3], message("nope", userKey, t0, store.Sent)}
	if err := store.UpdateMessages(ctx, s, batch); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateMessages with an unknown message: %v, want ErrNotFound", err)
	}
	if got, _ := s.GetMessage(ctx, ms[3].ID); got == nil || got.Status != store.Queued || got.Attempts != 0 {
		t.Errorf("a batch that failed stored %+v, want it untouched", got)
	}
	if due, _ := s.DueMessages(ctx, t0, 10); len(due) != 2 {
		t.Errorf("DueMessages after the batches: %d, want the 2 untouched", len(due))
	}
}

func testLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := link("n1", userKey, t0)
	first.SuccessURL, first.FailureURL = "https://example.com/ok", "https://example.com/ko"
	if err := s.AddMessage(ctx, message("m1", userKey, t0, store.Local), first, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetLink(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, got); d != "" {
		t.Errorf("GetLink (-want +got):\n%s", d)
	}
	if _, err := s.GetLink(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown link: %v", err)
	}
	// Another identity's link replaces nothing of this one.
	other := identity.Key{Account: userKey.Account, Region: "eu-west-1", Name: userKey.Name}
	s.AddMessage(ctx, message("m2", other, t0.Add(time.Second), store.Local), link("n2", other, t0.Add(time.Second)), nil)
	if got, _ := s.GetLink(ctx, "n1"); !got.Replaced.IsZero() {
		t.Errorf("a link of another region replaced this one: %+v", got)
	}
	// A new link of the same identity replaces the first.
	s.AddMessage(ctx, message("m3", userKey, t0.Add(time.Minute), store.Local), link("n3", userKey, t0.Add(time.Minute)), nil)
	if got, _ := s.GetLink(ctx, "n1"); !got.Replaced.Equal(t0.Add(time.Minute)) {
		t.Errorf("old link not replaced: %+v", got)
	}
	if got, _ := s.GetLink(ctx, "n3"); !got.Replaced.IsZero() {
		t.Errorf("newest link replaced: %+v", got)
	}

	if ok, err := s.UseLink(ctx, "n3", t0.Add(time.Hour)); !ok || err != nil {
		t.Errorf("UseLink = %v, %v", ok, err)
	}
	if ok, err := s.UseLink(ctx, "n3", t0.Add(2*time.Hour)); ok || err != nil {
		t.Errorf("second UseLink = %v, %v; want false", ok, err)
	}
	if got, _ := s.GetLink(ctx, "n3"); !got.Used.Equal(t0.Add(time.Hour)) {
		t.Errorf("Used = %v, want the first use", got.Used)
	}
	if ok, _ := s.UseLink(ctx, "nope", t0); ok {
		t.Error("UseLink of an unknown link succeeded")
	}
}

func testLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	errRecipient := errors.New("recipient limit")
	errAccount := errors.New("account limit")
	limits := func(k identity.Key, now time.Time) []store.Limit {
		return []store.Limit{
			{Account: k.Account, Recipient: k.Name, Since: now.Add(-time.Hour), Max: 2, Err: errRecipient},
			{Account: userKey.Account, Since: now.Add(-24 * time.Hour), Max: 4, Err: errAccount},
		}
	}
	add := func(id string, k identity.Key, at time.Time) error {
		return s.AddMessage(ctx, message(id, k, at, store.Local), link("n"+id, k, at), limits(k, at))
	}
	for i, at := range []time.Duration{0, time.Minute} {
		if err := add(fmt.Sprint("r", i), userKey, t0.Add(at)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := add("r2", userKey, t0.Add(2*time.Minute)); !errors.Is(err, errRecipient) {
		t.Errorf("third message to one recipient within the hour: %v, want the recipient limit", err)
	}
	if _, err := s.GetMessage(ctx, "r2"); !errors.Is(err, store.ErrNotFound) {
		t.Error("a refused message was stored")
	}
	if _, err := s.GetLink(ctx, "nr2"); !errors.Is(err, store.ErrNotFound) {
		t.Error("the link of a refused message was stored")
	}
	if got, _ := s.GetLink(ctx, "nr1"); !got.Replaced.IsZero() {
		t.Error("a refused message replaced the newest link")
	}
	// Another account's messages to the same recipient do not count.
	if err := s.AddMessage(ctx, message("x", identity.Key{Account: "222222222222", Region: "us-east-1", Name: userKey.Name}, t0, store.Local), nil, nil); err != nil {
		t.Fatal(err)
	}
	// An hour later the recipient may get mail again.
	if err := add("r3", userKey, t0.Add(time.Hour)); err != nil {
		t.Errorf("an hour later: %v", err)
	}
	for i, name := range []string{"a@example.com", "b@example.com"} {
		err := add(fmt.Sprint("o", i), identity.Key{Account: userKey.Account, Region: "us-east-1", Name: name}, t0.Add(time.Hour))
		if want := []error{nil, errAccount}[i]; !errors.Is(err, want) {
			t.Errorf("account message %d: %v, want %v", i+4, err, want)
		}
	}
	// A message counts while it is younger than the window: the one at t0
	// no longer does at t0 + 1h.
	n, err := s.CountMessages(ctx, store.Limit{Account: userKey.Account, Since: t0.Add(-time.Second)})
	if err != nil || n != 4 {
		t.Errorf("CountMessages = %d, %v; want 4", n, err)
	}
	if n, _ := s.CountMessages(ctx, store.Limit{Account: userKey.Account, Recipient: userKey.Name, Since: t0.Add(30 * time.Minute)}); n != 1 {
		t.Errorf("CountMessages of one recipient since +30m = %d, want 1", n)
	}
}

func testTemplates(t *testing.T, s store.Store) {
	ctx := context.Background()
	errLimit := errors.New("too many templates")
	// limit is what the registry passes: at most max in a region and
	// maxAccount in all regions of the account.
	limit := func(max, maxAccount int) func(inRegion, inAccount int) error {
		return func(inRegion, inAccount int) error {
			if inRegion >= max || inAccount >= maxAccount {
				return errLimit
			}
			return nil
		}
	}
	tmpl := func(acct, region, name string) *store.Template {
		return &store.Template{
			TemplateKey: store.TemplateKey{Account: acct, Region: region, Name: name},
			From:        "sender@example.com", Subject: "Please verify", Content: "<p>Hello</p>",
			SuccessURL: "https://example.com/ok", FailureURL: "https://example.com/ko",
			Tags: []identity.Tag{{Key: "team", Value: "ops"}}, Created: t0, Updated: t0,
		}
	}
	a := tmpl("111111111111", "us-east-1", "welcome")
	for _, x := range []*store.Template{a, tmpl("111111111111", "us-east-1", "another"), tmpl("111111111111", "eu-west-1", "welcome"), tmpl("222222222222", "us-east-1", "welcome")} {
		if err := s.CreateTemplate(ctx, x, limit(2, 3)); err != nil {
			t.Fatalf("CreateTemplate %v: %v", x.TemplateKey, err)
		}
	}
	if err := s.CreateTemplate(ctx, tmpl("111111111111", "us-east-1", "welcome"), nil); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate: %v, want ErrExists", err)
	}
	if err := s.CreateTemplate(ctx, tmpl("111111111111", "us-east-1", "third"), limit(2, 10)); !errors.Is(err, errLimit) {
		t.Errorf("past the limit: %v, want errLimit", err)
	}
	// The account has 3 templates in two regions: an account-wide cap of 3
	// refuses a first template in a third region.
	if err := s.CreateTemplate(ctx, tmpl("111111111111", "ap-south-1", "first"), limit(2, 3)); !errors.Is(err, errLimit) {
		t.Errorf("past the account-wide limit: %v, want errLimit", err)
	}
	var counts [2]int
	if err := s.CreateTemplate(ctx, tmpl("111111111111", "eu-west-1", "counted"), func(r, a int) error { counts = [2]int{r, a}; return errLimit }); !errors.Is(err, errLimit) || counts != [2]int{1, 3} {
		t.Errorf("counts given to limit: %v (%v), want [1 3] in eu-west-1 and the account", counts, err)
	}
	if _, err := s.GetTemplate(ctx, store.TemplateKey{Account: "111111111111", Region: "eu-west-1", Name: "counted"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused template was stored: %v", err)
	}
	got, err := s.GetTemplate(ctx, a.TemplateKey)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("GetTemplate (-want +got):\n%s", d)
	}
	if _, err := s.GetTemplate(ctx, store.TemplateKey{Account: "111111111111", Region: "us-east-2", Name: "welcome"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown template: %v", err)
	}

	boom := errors.New("boom")
	if _, err := s.UpdateTemplate(ctx, a.TemplateKey, func(t *store.Template) error { t.Subject = "changed"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateTemplate error = %v, want boom", err)
	}
	up, err := s.UpdateTemplate(ctx, a.TemplateKey, func(t *store.Template) error { t.Subject = "New subject"; return nil })
	if err != nil || up.Subject != "New subject" {
		t.Errorf("UpdateTemplate = %+v, %v", up, err)
	}
	if got, _ := s.GetTemplate(ctx, a.TemplateKey); got.Subject != "New subject" || got.Content != a.Content {
		t.Errorf("after update: %+v", got)
	}
	if _, err := s.UpdateTemplate(ctx, store.TemplateKey{Account: "1", Region: "r", Name: "n"}, func(*store.Template) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown template: %v", err)
	}

	var names []string
	after := ""
	for {
		page, err := s.ListTemplates(ctx, "111111111111", "us-east-1", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		names = append(names, page[0].Name)
		after = page[0].Name
	}
	if d := cmp.Diff([]string{"another", "welcome"}, names); d != "" {
		t.Errorf("paged ListTemplates (-want +got):\n%s", d)
	}

	if ok, err := s.DeleteTemplate(ctx, a.TemplateKey); !ok || err != nil {
		t.Errorf("DeleteTemplate = %v, %v", ok, err)
	}
	if ok, _ := s.DeleteTemplate(ctx, a.TemplateKey); ok {
		t.Error("deleted twice")
	}
	if _, err := s.GetTemplate(ctx, store.TemplateKey{Account: "111111111111", Region: "eu-west-1", Name: "welcome"}); err != nil {
		t.Errorf("deleting one region's template touched another: %v", err)
	}
	// A deleted template frees its place under the limit.
	if err := s.CreateTemplate(ctx, tmpl("111111111111", "us-east-1", "third"), limit(2, 3)); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}
