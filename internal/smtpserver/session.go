package smtpserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/auth/throttle"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/send"
)

// session is one client connection, between two STARTTLS (go-smtp makes
// a new one after it).
type session struct {
	s      *Server
	remote string
	keyID  string // after AUTH
	acct   string
	from   string
	rcpts  []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return errInvalidCredentials
			}
			return ss.login(user, pass)
		}), nil
	case sasl.Login:
		return &loginServer{check: ss.login}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// login checks an access key ID and its SMTP password for the region. A
// client's failures are throttled as the console's sign-ins are: past a
// few, each further attempt is refused unchecked for a while.
func (ss *session) login(keyID, password string) error {
	addr := throttle.Addr(ss.remote)
	keys := []throttle.Key{addr}
	wellFormed := account.WellFormedKeyID(keyID)
	if wellFormed {
		keys = append(keys, throttle.PairKey(keyID, addr))
	}
	wait, tk := ss.s.fails.Begin(ss.s.now(), keys...)
	if wait > 0 {
		return tooManyLogins(wait)
	}
	var k account.Key
	var ok bool
	if wellFormed {
		var err error
		if k, ok, err = ss.s.opts.Keys.Resolve(context.Background(), keyID); err != nil {
			ss.s.log.Error("resolving an access key for SMTP AUTH", "err", err)
			return reply(454, "Temporary service failure")
		}
	}
	want := ""
	if ok {
		want = sigv4.SMTPPassword(k.Secret, ss.s.opts.Region)
	}
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 {
		ss.s.log.Info("smtp auth refused", "access_key_id", account.LoggedKeyID(keyID), "remote", ss.remote, "region", ss.s.opts.Region)
		if tk.Held > 0 {
			// Counted on the throttle's shared overflow entry, which
			// holds failures back: refused as an attempt of its own
			// would be.
			return tooManyLogins(tk.Held)
		}
		return errInvalidCredentials
	}
	ss.s.fails.Succeeded(tk)
	ss.keyID, ss.acct = keyID, k.Account
	ss.s.log.Info("smtp auth", "account", k.Account, "access_key_id", keyID, "remote", ss.remote)
	return nil
}

// authorized says whether the session may send now: it authenticated and
// its key is still active, so a revoked key stops working at once, in
// sessions already open too.
func (ss *session) authorized() error {
	if ss.keyID == "" {
		return reply(530, "Authentication required")
	}
	k, ok, err := ss.s.opts.Keys.Resolve(context.Background(), ss.keyID)
	if err != nil {
		ss.s.log.Error("resolving an access key for SMTP", "err", err)
		return reply(451, "Temporary service failure")
	}
	if !ok || k.Account != ss.acct {
		ss.keyID = ""
		return errInvalidCredentials
	}
	return nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.authorized(); err != nil {
		return err
	}
	// The envelope sender is SendRawEmail's Source: it must be verified,
	// and feedback goes to it. The null sender (<>) names no identity.
	a, err := send.EnvelopeAddress("MAIL FROM", from)
	if from == "" || err != nil {
		return reply(553, "<"+from+"> Invalid email address")
	}
	ss.from = a
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.authorized(); err != nil {
		return err
	}
	a, err := send.EnvelopeAddress("RCPT TO", to)
	if err != nil {
		return reply(553, "<"+to+"> address unknown")
	}
	// A recipient given twice gets the message once (and counts once).
	if !slices.Contains(ss.rcpts, a) {
		ss.rcpts = append(ss.rcpts, a)
	}
	return nil
}

// chunk is how message data is read and counted against the memory
// budget.
const chunk = 64 << 10

func (ss *session) Data(r io.Reader) error {
	if err := ss.authorized(); err != nil {
		return err
	}
	var buf bytes.Buffer
	var held int64
	defer func() { ss.s.memory.give(held) }()
	for {
		if !ss.s.memory.take(chunk) {
			ss.s.log.Warn("smtp message refused: the data memory budget is spent", "remote", ss.remote)
			return reply(451, "Temporary service failure")
		}
		held += chunk
		buf.Grow(chunk)
		if _, err := io.CopyN(&buf, r, chunk); err == io.EOF {
			break
		} else if err != nil {
			return dataError(err)
		}
	}
	m := &send.Message{Action: "SendRawEmail", Max: ss.s.opts.MaxMessageBytes, Source: ss.from, To: ss.rcpts, Raw: buf.Bytes()}
	id, err := ss.s.opts.Sender.Send(context.Background(), registry.Scope{Account: ss.acct, Region: ss.s.opts.Region}, m)
	if err != nil {
		return sendError(ss.s, err)
	}
	return reply(250, "Ok "+id)
}

// dataError is the reply to a read of DATA that failed: too long, too
// slow, or a connection that is gone (whose reply nobody reads).
func dataError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, smtp.ErrDataTooLarge):
		return errTooLong
	case errors.As(err, &ne) && ne.Timeout():
		return reply(451, "Timeout waiting for data from client")
	}
	return err
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }

func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client's): "Username:", then "Password:", each answered in base64.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // an initial response is the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// tooManyLogins is the reply to an AUTH held back for wait.
func tooManyLogins(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return reply(454, "Temporary authentication failure: too many failed logins from this address, or for this access key ID from it; try again in "+strconv.Itoa(secs)+" seconds.")
}
