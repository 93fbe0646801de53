package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/sesame/sesame/internal/store"
)

type outboxData struct {
	Local    bool
	Messages []*store.Message
}

// outbox is the account's verification mail in the session's region, when
// no SMTP relay is set. It is the only list of the local outbox served over
// HTTP (/outbox sends here): a tenant sees its own messages, never the link
// of an address another tenant asked to verify.
func (c *Console) outbox(w http.ResponseWriter, r *request) error {
	d := outboxData{Local: c.Mail != nil && c.Mail.Local()}
	if d.Local {
		ms, err := c.messages(r, "", 100)
		if err != nil {
			return err
		}
		d.Messages = ms
	}
	c.render(w, r.Request, r.s, http.StatusOK, "outbox.html", "Verification emails", d)
	return nil
}

// message is one message of the local outbox as sent, if it is the
// session's account's; any other ID, another account's included, is not
// found, so that IDs reveal nothing.
func (c *Console) message(w http.ResponseWriter, r *request) error {
	if c.Mail == nil || !c.Mail.Local() {
		c.errorPage(w, r.Request, r.s, http.StatusNotFound, "Verification emails are delivered through the SMTP relay; none are kept here.")
		return nil
	}
	m, err := c.Mail.Store.GetMessage(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Key.Account != r.scope.Account) {
		c.errorPage(w, r.Request, r.s, http.StatusNotFound, "There is no such verification email in your account.")
		return nil
	}
	if err != nil {
		return err
	}
	c.render(w, r.Request, r.s, http.StatusOK, "message.html", m.Subject, m)
	return nil
}

// messages returns up to n of the newest messages of the session's account
// and region, to one address or (empty) to any.
func (c *Console) messages(r *request, to string, n int) ([]*store.Message, error) {
	return c.Mail.Store.ListMessages(r.Context(), store.MessageQuery{
		Account: r.scope.Account, Region: r.scope.Region, To: to, Limit: n})
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
