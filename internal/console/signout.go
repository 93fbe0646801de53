package console

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Signouts keeps the console sessions signed out before their expiry, so
// that signing out kills the cookie at once, even a copy of it: the cookie
// is signed, not stored, and would otherwise stay valid until it expires.
// *sqlite.Store is one, which keeps them across restarts.
type Signouts interface {
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

func (c *Console) signout(w http.ResponseWriter, r *request) error {
	if err := c.signouts.RevokeSession(r.Context(), r.s.ID, time.Unix(r.s.Expires, 0)); err != nil {
		return err // not "signed out" when the cookie still works
	}
	c.ss.write(w, c.ss.fresh("", "", ""))
	c.Log.Info("console sign-out", "account", r.s.Account, "access_key_id", r.s.KeyID)
	http.Redirect(w, r.Request, "/console/signin?why=signedout", http.StatusSeeOther)
	return nil
}

// signedIn returns the request's session if it is signed in and not signed
// out, else nil: the pages that send a signed-in visitor on must not take a
// signed-out cookie for a session.
func (c *Console) signedIn(r *http.Request) (*session, error) {
	s := c.ss.read(r)
	if s == nil || !s.signedIn() {
		return nil, nil
	}
	out, err := c.signouts.SessionRevoked(r.Context(), s.ID)
	if err != nil || out {
		return nil, err
	}
	return s, nil
}

// memSignouts keeps sign-outs in memory, for a Console without a store
// (tests); they last until the process ends.
type memSignouts struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (m *memSignouts) RevokeSession(_ context.Context, id string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]time.Time{}
	}
	now := time.Now()
	for k, e := range m.m {
		if e.Before(now) {
			delete(m.m, k)
		}
	}
	m.m[id] = expires
	return nil
}

func (m *memSignouts) SessionRevoked(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.m[id]
	return ok, nil
}
