package server

import (
	"net/http"
	"path/filepath"
	"strings"

	"github.com/sesame/sesame/internal/console"
)

// withConsole builds the web console and serves it at /console/ in front
// of the API handler h, whose v1 endpoint takes every other path.
func (s *Server) withConsole(opts Options, h http.Handler) (http.Handler, error) {
	key, err := console.LoadKey(filepath.Join(opts.Data, console.KeyFile))
	if err != nil {
		return nil, err
	}
	c := &console.Console{
		Registry: s.Registry, Accounts: s.Accounts, Key: key, Verifier: s.Verifier, Checks: s.Identities,
		Mail: s.Mail, DNS: s.Verifier.DNS, Secure: strings.HasPrefix(opts.PublicURL, "https:"),
		Log: s.Log.With("component", "console"),
	}
	ch := c.Handler()
	mux := http.NewServeMux()
	mux.Handle("/console/", ch)
	mux.Handle("/console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	mux.Handle("/", h)
	return mux, nil
}
