package server

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame/sesame/internal/smtpserver"
)

// SMTPOptions configure the SMTP interface (smtpserver) of a region.
type SMTPOptions struct {
	// Region is the region the listener serves; it must be served.
	Region string
	// Certificate is the TLS certificate (smtpserver.LoadCertificate).
	Certificate tls.Certificate
	// Hostname is the name of the banner; default the machine's.
	Hostname string
	// Limits bound connections and messages; zero fields take
	// smtpserver's defaults.
	Limits smtpserver.Limits
}

// SMTP returns the SMTP interface on s's accounts and sender: messages go
// through the same gate, outbox, capture and relay as SendRawEmail.
func (s *Server) SMTP(o SMTPOptions) (*smtpserver.Server, error) {
	if !slices.Contains(s.Registry.Regions, o.Region) {
		return nil, fmt.Errorf("SMTP region %q is not served: choose one of %s", o.Region, strings.Join(s.Registry.Regions, ", "))
	}
	return smtpserver.New(smtpserver.Options{Region: o.Region, Keys: s.Accounts, Sender: s.Sender, Hostname: o.Hostname, Limits: o.Limits,
		TLS: &tls.Config{Certificates: []tls.Certificate{o.Certificate}, MinVersion: tls.VersionTLS12},
		Log: s.Log.With("component", "smtp", "region", o.Region)})
}
