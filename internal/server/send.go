package server

import (
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
