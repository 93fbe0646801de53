package main

import (
	"fmt"

	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/redact"
	"github.com/sesame/sesame/internal/server"
)

// checkMail refuses, before anything is opened, a relay URL or public URL
// that cannot work (its password masked in the error), and a local outbox
// that other machines reach: through a --listen address that is not
// loopback, or through a --public-url that is not, as a loopback listener
// behind a reverse proxy is reached from anywhere.
func (f *serveFlags) checkMail() error {
	if f.smtpURL != "" {
		if _, err := mail.ParseRelay(f.smtpURL, f.mail.CAFile); err != nil {
			return err
		}
	}
	if f.publicURL != "" {
		if _, err := server.ParsePublicURL(f.publicURL); err != nil {
			return err
		}
	}
	if f.smtpURL != "" || f.allowLocalOutbox {
		return nil
	}
	const why = "without --smtp-url verification emails stay in the local outbox, where each tenant opens the links of the addresses it names: any address would be verified without its owner"
	if !server.LoopbackListen(f.listen) {
		return fmt.Errorf("--listen %s is reachable from other machines, and %s. Set --smtp-url to a relay, listen on loopback (127.0.0.1:8080), or pass --allow-local-outbox to run so knowingly", f.listen, why)
	}
	if f.publicURL != "" && !server.LoopbackURL(f.publicURL) {
		return fmt.Errorf("--public-url %s is not a loopback URL: other machines reach this server through it (a reverse proxy, say), and %s. Set --smtp-url to a relay, give a loopback --public-url (http://127.0.0.1:8080), or pass --allow-local-outbox to run so knowingly", redact.String(f.publicURL), why)
	}
	return nil
}
