// Package smtptest runs an SMTP server on loopback for tests, in the manner
// of net/http/httptest: go-smtp's server, with STARTTLS or TLS from the
// first byte on a certificate made for the test, optional AUTH PLAIN, and
// a backend that records what it receives and answers as told.
//
//	srv := smtptest.New(t, smtptest.Options{Username: "u", Password: "p"})
//	// relay to srv.URL, trusting srv.CAFile
//	m := srv.Next(t) // the next message accepted
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a server. The zero value is STARTTLS without AUTH,
// accepting every message.
type Options struct {
	// Implicit is TLS from the first byte (smtps); otherwise STARTTLS.
	Implicit bool
	// Plain offers no TLS at all, as a local MTA or a mail catcher may.
	Plain bool
	// Username and Password, when set, are required through AUTH PLAIN.
	Username, Password string
	// Reply answers the n-th message (from 1) once its data is read: nil
	// accepts it, an *smtp.SMTPError refuses it with that reply.
	Reply func(n int, m Message) error
	// CountOnly keeps no message, only their number (Accepted), so that a
	// benchmark's memory does not grow with its messages.
	CountOnly bool
	// MaxConnections, when set, refuses a connection beyond it at once with
	// 421, as Postfix's smtpd_client_connection_count_limit does (not with
	// Implicit: the reply is in plain text).
	MaxConnections int
}

// Message is what a client sent in one transaction.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// URL is the relay URL of the server, smtp:// or smtps://, with the
	// credentials.
	URL string
	// CAFile is the PEM file of the server's certificate, to trust it.
	CAFile string

	opts     Options
	srv      *smtp.Server
	mu       sync.Mutex
	n        int
	conns    map[string]bool // client addresses seen: one per connection
	count    int             // accepted, kept or not
	accepted []Message
	read     int           // accepted[:read] were returned by Next
	more     chan struct{} // closed when a message is accepted
	open     int           // connections open, with MaxConnections
	refused  int           // connections refused beyond MaxConnections
}

// New starts a server; tb.Cleanup stops it.
func New(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	cert, caFile := newCert(tb)
	s := &Server{opts: o, CAFile: caFile, more: make(chan struct{}), conns: make(map[string]bool)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "smtptest.localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	if o.Plain {
		s.srv.TLSConfig, s.srv.AllowInsecureAuth = nil, true
	}
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.EnableSMTPUTF8 = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: %v", err)
	}
	if o.MaxConnections > 0 {
		ln = &limitListener{Listener: ln, s: s}
	}
	scheme := "smtp"
	if o.Implicit {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
		scheme = "smtps"
	}
	s.Addr = ln.Addr().String()
	u := url.URL{Scheme: scheme, Host: s.Addr}
	if o.Username != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	s.URL = u.String()
	// The listener is bound, so clients can connect at once: connections
	// wait in the backlog until Serve accepts them.
	go s.srv.Serve(ln)
	tb.Cleanup(func() { s.srv.Close() })
	return s
}

// Refused is how many connections were refused beyond MaxConnections.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// limitListener refuses connections beyond Options.MaxConnections.
type limitListener struct {
	net.Listener
	s *Server
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		s.mu.Lock()
		full := s.open >= s.opts.MaxConnections
		if full {
			s.refused++
		} else {
			s.open++
		}
		s.mu.Unlock()
		if !full {
			return &countedConn{Conn: c, s: s}, nil
		}
		c.SetDeadline(time.Now().Add(time.Second))
		io.WriteString(c, "421 4.7.0 smtptest.localhost Error: too many connections\r\n")
		c.Close()
	}
}

// countedConn gives its place back when closed.
type countedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		c.s.open--
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.accepted...)
}

// Attempts is how many messages were offered, accepted or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Accepted is how many messages were accepted, with CountOnly too.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Connections is how many connections clients opened (STARTTLS goes on
// in the same connection).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Next waits up to 10 seconds for the next accepted message.
func (s *Server) Next(tb testing.TB) Message {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if s.read < len(s.accepted) {
			m := s.accepted[s.read]
			s.read++
			s.mu.Unlock()
			return m
		}
		more := s.more
		s.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			tb.Fatalf("smtptest: no message within 10s (%d offered)", s.Attempts())
			return Message{}
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.conns[c.Conn().RemoteAddr().String()] = true
	b.s.mu.Unlock()
	return &session{s: b.s}, nil
}

type session struct {
	s      *Server
	authed bool
	m      Message
}

func (se *session) AuthMechanisms() []string {
	if se.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.opts.Username || password != se.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.Username != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.m = Message{From: from}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.m.To = append(se.m.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.m.Data = b
	s := se.s
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	if s.opts.Reply != nil {
		if err := s.opts.Reply(n, se.m); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.count++
	if !s.opts.CountOnly {
		s.accepted = append(s.accepted, se.m)
	}
	close(s.more)
	s.more = make(chan struct{})
	s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.m = Message{} }
func (se *session) Logout() error { return nil }

// Temporary and Permanent are replies for Options.Reply.
var (
	Temporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	Permanent = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
)

// newCert makes a self-signed certificate for 127.0.0.1 and localhost, and
// writes it to a PEM file for clients to trust.
func newCert(tb testing.TB) (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	file := filepath.Join(tb.TempDir(), "smtptest-ca.pem")
	if err := os.WriteFile(file, pemCert, 0o600); err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}
