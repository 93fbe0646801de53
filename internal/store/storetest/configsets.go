package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

func testConfigSets(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := store.ConfigSetKey{Account: "111111111111", Region: "us-east-1", Name: "marketing"}
	c := &store.ConfigSet{ConfigSetKey: k, Created: t0, Tags: []identity.Tag{{Key: "team", Value: "ops"}}, Options: []byte(`{"SendingOptions":{"SendingEnabled":true}}`)}
	if err := s.CreateConfigSet(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConfigSet(ctx, c, nil); !errors.Is(err, store.ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	got, err := s.GetConfigSet(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("GetConfigSet (-want +got):\n%s", diff)
	}
	// Another region and another account are other sets.
	west := store.ConfigSetKey{Account: k.Account, Region: "eu-west-1", Name: k.Name}
	if _, err := s.GetConfigSet(ctx, west); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("other region: %v, want ErrNotFound", err)
	}
	// The limit sees the region's count and can refuse.
	errFull := errors.New("full")
	var seen int
	err = s.CreateConfigSet(ctx, &store.ConfigSet{ConfigSetKey: store.ConfigSetKey{Account: k.Account, Region: k.Region, Name: "b"}}, func(n int) error { seen = n; return errFull })
	if !errors.Is(err, errFull) || seen != 1 {
		t.Errorf("limit: %v after seeing %d, want errFull after 1", err, seen)
	}
	if err := s.CreateConfigSet(ctx, &store.ConfigSet{ConfigSetKey: store.ConfigSetKey{Account: k.Account, Region: k.Region, Name: "a"}}, nil); err != nil {
		t.Fatal(err)
	}
	up, err := s.UpdateConfigSet(ctx, k, func(c *store.ConfigSet) error { c.Tags = nil; return nil })
	if err != nil || len(up.Tags) != 0 {
		t.Fatalf("UpdateConfigSet: %+v %v", up, err)
	}
	if got, _ := s.GetConfigSet(ctx, k); len(got.Tags) != 0 {
		t.Errorf("tags after update: %v", got.Tags)
	}
	if _, err := s.UpdateConfigSet(ctx, west, func(*store.ConfigSet) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of an unknown set: %v, want ErrNotFound", err)
	}
	l, err := s.ListConfigSets(ctx, k.Account, k.Region, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range l {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"a", "marketing"}, names); diff != "" {
		t.Errorf("ListConfigSets (-want +got):\n%s", diff)
	}
	if l, _ := s.ListConfigSets(ctx, k.Account, k.Region, "a", 10); len(l) != 1 || l[0].Name != "marketing" {
		t.Errorf("ListConfigSets after a: %v", l)
	}
	if ok, err := s.DeleteConfigSet(ctx, k); !ok || err != nil {
		t.Errorf("DeleteConfigSet: %v %v", ok, err)
	}
	if ok, err := s.DeleteConfigSet(ctx, k); ok || err != nil {
		t.Errorf("second DeleteConfigSet: %v %v, want false", ok, err)
	}
}

// testIdentitySettings: what an identity holds beyond its checks survives
// the store (SQLite keeps it in the identity's JSON).
func testIdentitySettings(t *testing.T, s store.Store) {
	a := domain("111111111111", "us-east-1", "example.com")
	a.ConfigurationSet = "marketing"
	a.FeedbackForwardingStatus = false
	a.Notifications = identity.Notifications{BounceTopic: "arn:aws:sns:us-east-1:111111111111:b", ComplaintTopic: "arn:aws:sns:us-east-1:111111111111:c", HeadersInDelivery: true}
	a.Policies = map[string]string{"p1": `{"Version":"2012-10-17"}`}
	put(t, s, a)
	got, err := s.GetIdentity(context.Background(), a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
