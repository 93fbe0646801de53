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
	return s.Accounts.Create(ctx, DefaultAccount)
}
