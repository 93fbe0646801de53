package sqlite

import (
	"context"
	"testing"
	"time"
)

// TestSignoutsSurviveReopen: a signed-out console session stays signed out
// after the store is closed and opened again (a restart), and records past
// their expiry are dropped.
func TestSignoutsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, "old", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, "live", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, want := range map[string]bool{"live": true, "other": false, "": false} {
		if got, err := s.SessionRevoked(ctx, id); err != nil || got != want {
			t.Errorf("SessionRevoked(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
	var n int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key >= ? AND key < ?`, signoutPrefix, signoutEnd).Scan(&n)
	if n != 1 {
		t.Errorf("%d sign-out records, want 1 (the expired one dropped)", n)
	}
	if _, err := s.Generation(ctx); err != nil {
		t.Errorf("the accounts generation beside them: %v", err)
	}
}
