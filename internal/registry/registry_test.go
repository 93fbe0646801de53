package registry

import (
	"testing"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store/sqlite"
)

var (
	t0   = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	east = Scope{Account: "111111111111", Region: "us-east-1"}
	west = Scope{Account: "111111111111", Region: "eu-west-1"}
)

// newTest returns a registry over a real SQLite store in a temporary
// directory, with templates.
func newTest(t *testing.T) *Registry {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Registry{Store: st, Templates: st, ConfigSets: st, DNS: config.SES(), Policies: identity.SESPolicies(), Now: func() time.Time { return t0 }}
}
