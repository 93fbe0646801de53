package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/smtpserver"
)

// smtpFlags are serve's SMTP interface: the listeners that take mail in,
// as SES's email-smtp.REGION.amazonaws.com does. (--smtp-url and
// --smtp-ca-file are the other direction: the relay mail goes out by.)
type smtpFlags struct {
	listen, tlsListen string
	certFile, keyFile string
	region            string
}

func addSMTPFlags(fl *pflag.FlagSet, f *smtpFlags) {
	fl.StringVar(&f.listen, "smtp-listen", "", "address of the SMTP interface with STARTTLS, required before AUTH (SES's port 587 or 2587), e.g. 127.0.0.1:2587; empty: none")
	fl.StringVar(&f.tlsListen, "smtps-listen", "", "address of the SMTP interface with TLS from the first byte (SES's port 465 or 2465), e.g. 127.0.0.1:2465; empty: none")
	fl.StringVar(&f.certFile, "smtp-tls-cert", "", "PEM certificate (chain) of the SMTP interface (default a self-signed one for localhost, made in <data>/"+smtpserver.CertFile+")")
	fl.StringVar(&f.keyFile, "smtp-tls-key", "", "PEM private key of --smtp-tls-cert")
	fl.StringVar(&f.region, "smtp-region", "us-east-1", "region the SMTP interface serves: SMTP passwords are derived for it (sesame accounts smtp-password) and messages sent in it")
}

func (f *smtpFlags) validate() error {
	if !sigv4.ValidRegion(f.region) {
		return fmt.Errorf("--smtp-region %q: want a region such as us-east-1", f.region)
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return errors.New("--smtp-tls-cert and --smtp-tls-key go together: give both, or neither for a self-signed certificate")
	}
	for _, a := range []struct{ flag, v string }{{"--smtp-listen", f.listen}, {"--smtps-listen", f.tlsListen}} {
		if a.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:2587", a.flag, a.v)
		}
	}
	return nil
}

// start opens the SMTP listeners, if any, and serves them until stop.
func (f *smtpFlags) start(s *server.Server, data string, log *slog.Logger, out io.Writer, errc chan<- error) (stop func(), err error) {
	if f.listen == "" && f.tlsListen == "" {
		return func() {}, nil
	}
	cert, fp, err := smtpserver.LoadCertificate(f.certFile, f.keyFile, data, time.Now())
	if err != nil {
		return nil, err
	}
	srv, err := s.SMTP(server.SMTPOptions{Region: f.region, Certificate: cert})
	if err != nil {
		return nil, err
	}
	var lns []net.Listener
	for _, a := range []struct {
		addr     string
		implicit bool
		what     string
	}{{f.listen, false, "STARTTLS"}, {f.tlsListen, true, "TLS"}} {
		if a.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("SMTP listener %s: %w", a.addr, err)
		}
		lns = append(lns, ln)
		if f.certFile == "" && !server.LoopbackListen(a.addr) {
			log.Warn("the SMTP interface listens beyond loopback with a self-signed certificate: clients must be told to trust it (its fingerprint is printed at start); give --smtp-tls-cert and --smtp-tls-key", "listen", a.addr)
		}
		fmt.Fprintf(out, "SMTP interface (%s, region %s): %s\n", a.what, f.region, ln.Addr())
		log.Info("smtp serving", "listen", ln.Addr().String(), "tls", a.what, "region", f.region)
		go func() {
			if err := srv.Serve(ln, a.implicit); err != nil {
				select {
				case errc <- fmt.Errorf("SMTP listener %s: %w", a.addr, err):
				default:
				}
			}
		}()
	}
	fmt.Fprintf(out, "SMTP certificate SHA-256 fingerprint: %s\n", fp)
	// Close, not a graceful shutdown: a client cut off before its 250
	// sends again, and an idle one would hold the shutdown for a minute.
	return func() { srv.Close() }, nil
}
