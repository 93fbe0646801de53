package server

import (
	"context"

	"github.com/sesame/sesame/internal/account"
)

// DefaultAccount is the name of the account made on the first start.
const DefaultAccount = "default"

// EnsureDefaultAccount creates the default account when the store has no
// account at all, and returns its credentials; nil when accounts exist.
func (s *Server) EnsureDefaultAccount(ctx context.Context) (*account.Credentials, error) {
	accts, err := s.Store.ListAccounts(ctx)
	if err != nil || len(accts) > 0 {
		return nil, err
	}
	c, err := s.Accounts.Create(ctx, DefaultAccount)
	if err != nil {
		// Another replica starting on the same empty database may have
		// made it first, and printed its credentials.
		if accts, lerr := s.Store.ListAccounts(ctx); lerr == nil && len(accts) > 0 {
			return nil, nil
		}
	}
	return c, err
}
