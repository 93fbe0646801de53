package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sesame/sesame/internal/store"
)

// MaxSent is how many of the newest sent messages the Sent page lists.
const MaxSent = 100

type sentData struct {
	Relayed  bool
	Messages []*store.Message
}

// sent lists the mail the session's account sent in its region, newest
// first: the messages of the send calls, from the outbox that /_aws/ses
// reads, with their envelope and delivery state. Another account's are
// never listed.
func (c *Console) sent(w http.ResponseWriter, r *request) error {
	if c.Sent == nil {
		c.errorPage(w, r.Request, r.s, http.StatusNotFound, "Sending is not configured on this server.")
		return nil
	}
	ms, err := c.Sent.ListMessages(r.Context(), store.MessageQuery{Kind: store.SentMail, Account: r.scope.Account, Region: r.scope.Region, Limit: MaxSent})
	if err != nil {
		return err
	}
	d := sentData{Relayed: c.Mail != nil && !c.Mail.Local(), Messages: ms}
	c.render(w, r.Request, r.s, http.StatusOK, "sent.html", "Sent email", d)
	return nil
}

type sentMessage struct {
	*store.Message
	// Header is the message's header, Body its body, as stored (and
	// relayed).
	Header, Body string
}

// sentOne is one sent message as stored, if it is the session's
// account's; any other ID, another account's or a verification email's,
// is not found, so that IDs reveal nothing.
func (c *Console) sentOne(w http.ResponseWriter, r *request) error {
	var m *store.Message
	err := store.ErrNotFound
	if c.Sent != nil {
		m, err = c.Sent.GetMessage(r.Context(), r.PathValue("id"))
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && (m.Kind != store.SentMail || m.Key.Account != r.scope.Account)) {
		c.errorPage(w, r.Request, r.s, http.StatusNotFound, "There is no such sent email in your account.")
		return nil
	}
	if err != nil {
		return err
	}
	d := sentMessage{Message: m}
	raw := string(m.Raw)
	if i := strings.Index(raw, "\r\n\r\n"); i >= 0 {
		d.Header, d.Body = raw[:i], raw[i+4:]
	} else {
		d.Header = raw
	}
	c.render(w, r.Request, r.s, http.StatusOK, "sentmessage.html", m.Subject, d)
	return nil
}
