package server

import (
	"net/http"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/api/retro"
	"github.com/sesame/sesame/internal/send"
)

// openSending wires the sending API: email templates and each account's
// sending state live in the store; accepted messages go into mail's one
// outbox, relayed by its queue when there is a relay (--smtp-url) and
// captured otherwise. Call it after openMail.
func (s *Server) openSending(opts Options) {
	s.Registry.EmailTemplates = s.Store
	s.Registry.Sending = s.Store
	s.Registry.Outbox = s.Store
	s.Sender = &send.Sender{Registry: s.Registry, States: s.Store, Outbox: s.Store, Now: opts.Now, Log: s.Log.With("component", "send")}
	if s.Mail != nil && s.Mail.Queue != nil {
		s.Sender.Queue = s.Mail.Queue
	}
}

// sendRoutes serves /_aws/ses, the captured mail of each account
// (api/retro), to signed requests.
func (s *Server) sendRoutes(mux *http.ServeMux, auth *api.Authenticator) {
	mux.Handle(retro.Path, &retro.Handler{Outbox: s.Store, Sending: s.Store, Auth: auth, Log: s.Log.With("component", "retro")})
}
