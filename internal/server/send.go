package server

// openSending wires the sending API: email templates and each account's
// sending state live in the store.
func (s *Server) openSending() {
	s.Registry.EmailTemplates = s.Store
	s.Registry.Sending = s.Store
	s.Registry.Outbox = s.Store
}
