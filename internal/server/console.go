package server

import (
	"net/http"
	"path/filepath"
	"strings"

	"github.com/sesame/sesame/internal/console"
)

// console builds the web console, which routes serves at /console/.
func (s *Server) console(opts Options) (http.Handler, error) {
	key, err := console.LoadKey(filepath.Join(opts.Data, console.KeyFile))
	if err != nil {
		return nil, err
	}
	c := &console.Console{
		Registry: s.Registry, Accounts: s.Accounts, Key: key, Verifier: s.Verifier, Checks: s.Identities,
		Mail: s.Mail, Sent: s.Store, Keys: s.Store, Signouts: s.Store, DNS: s.Verifier.DNS, Secure: strings.HasPrefix(opts.PublicURL, "https:"),
		Log: s.Log.With("component", "console"),
	}
	return c.Handler(), nil
}
