package console

import (
	"net/http"
	"time"

	"github.com/sesame/sesame/internal/store"
)

type outboxData struct {
	Local    bool
	Messages []*store.Message
}

// outbox is the account's verification mail in the session's region, when
// no SMTP relay is set: the mail package's /outbox lists every account's,
// which the console must not show.
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
