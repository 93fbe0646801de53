package send

import (
	"strings"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

// envelope makes the outbox entry: the envelope sender is SES's bounce
// address, the MessageId at mailFrom (the identity's verified custom MAIL
// FROM domain, or the default; registry.EnvelopeDomain), as SES's
// "<MessageId>@amazonses.com" Return-Path shows; the recipients
// are every To, Cc and Bcc but the mailbox simulator's, which SES answers
// itself and Sesame never relays. A message only to the simulator is
// done at once: Sent, as SES's simulator accepts it.
func envelope(sc registry.Scope, p *parsed, m *Message, id, mailFrom string, raw []byte, now time.Time) *store.Message {
	var rcpts, simulated []string
	for _, r := range p.rcpts {
		if simulator(r) {
			simulated = append(simulated, r+": "+simulatorOutcome(r))
		} else {
			rcpts = append(rcpts, r)
		}
	}
	info := &store.SentInfo{MessageID: id, Action: m.Action, Source: m.Source, To: m.To, Cc: m.Cc, Bcc: m.Bcc,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Template: m.Template, TemplateData: m.TemplateData, Raw: len(m.Raw) > 0, Simulated: simulated}
	if info.Source == "" {
		info.Source = p.source
	}
	if info.Raw && len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		info.To = p.to
	}
	msg := &store.Message{ID: id, Kind: store.SentMail, Key: identity.Key{Account: sc.Account, Region: sc.Region, Name: names.DomainOf(p.source)},
		From: id + "@" + mailFrom, Recipients: p.rcpts, Counted: len(rcpts), Subject: m.Subject, Raw: raw, Created: now, Status: store.Local, Sent: info}
	if len(rcpts) == 0 {
		msg.Status, msg.Done = store.Sent, now
		msg.LastError = "delivered to SES's mailbox simulator, which is not relayed"
	} else {
		msg.Recipients = rcpts
	}
	msg.To = msg.Recipients[0]
	return msg
}

// simulatorOutcome is what SES's mailbox simulator does with a message to
// addr (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html);
// labels (bounce+x@) are accepted. The feedback events themselves come
// with event publishing.
func simulatorOutcome(addr string) string {
	local, _, _ := strings.Cut(names.LocalOf(addr), "+")
	switch strings.ToLower(local) {
	case "success":
		return "delivered"
	case "bounce":
		return "hard bounce, 550 5.1.1 unknown user"
	case "ooto":
		return "delivered, then an automatic reply to the Return-Path"
	case "complaint":
		return "delivered, then a complaint"
	case "suppressionlist":
		return "hard bounce: the address is on the global suppression list"
	}
	return "not a simulator address: no outcome"
}
