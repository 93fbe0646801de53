package send

import (
	"context"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

// SimulatorDomain is SES's mailbox simulator
// (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html):
// its addresses may be mailed from the sandbox, and are never relayed.
const SimulatorDomain = "simulator.amazonses.com"

func rejectf(format string, a ...any) error {
	return &registry.Error{Kind: registry.Rejected, Message: fmt.Sprintf(format, a...)}
}

func invalidf(format string, a ...any) error {
	return &registry.Error{Kind: registry.Invalid, Message: fmt.Sprintf(format, a...)}
}

// parsed is a message's addresses, checked and canonical.
type parsed struct {
	source string // the bare source address: the identity that sends
	// check are the addresses that must be verified, as given (header
	// values keep their display names, as SES's error lists them) and
	// bare.
	check []checked
	rcpts []string // envelope recipients, bare, To then Cc then Bcc
	to    []string // bare To addresses, for the record
	raw   *rawMessage
}

type checked struct{ given, addr string }

// address parses one address as a header or parameter gives it: a bare
// address or "Name <address>". SES wants 7-bit ASCII addresses: domains
// as Punycode, display names as RFC 2047 encoded-words.
func address(field, v string) (string, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return "", invalidf("Illegal address in %s: %q (%v).", field, v, err)
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= 0x80 {
			return "", invalidf("Illegal address in %s: %q has non-ASCII characters: SES does not support SMTPUTF8; give the domain as Punycode.", field, v)
		}
	}
	e, err := names.Email(a.Address)
	if err != nil {
		return "", invalidf("Illegal address in %s: %q (%v).", field, v, err)
	}
	return e, nil
}

func (s *Sender) parse(m *Message) (*parsed, error) {
	p := &parsed{}
	var err error
	if len(m.Raw) > 0 {
		if p.raw, err = parseRaw(m.Raw, m.Max); err != nil {
			return nil, err
		}
	}
	if p.raw != nil && m.ConfigurationSet == "" {
		// A raw message (SendRawEmail, SMTP) may name its configuration
		// set in a header instead
		// (https://docs.aws.amazon.com/ses/latest/dg/using-configuration-sets-in-email.html).
		m.ConfigurationSet = strings.TrimSpace(p.raw.header.Get("X-Ses-Configuration-Set"))
	}
	src := m.Source
	if src == "" && p.raw != nil {
		src = p.raw.header.Get("From")
	}
	if src == "" {
		return nil, invalidf("The message has no source: give Source (v1), FromEmailAddress (v2) or a From header.")
	}
	if p.source, err = address("Source", src); err != nil {
		return nil, err
	}
	p.check = append(p.check, checked{src, p.source})
	if p.raw != nil {
		// "The From, Source, Sender and Return-Path addresses, or their
		// domains, must be verified."
		for _, f := range []string{"From", "Sender", "Return-Path"} {
			v := p.raw.header.Get(f)
			if v == "" {
				continue
			}
			list, err := mail.ParseAddressList(v)
			if err != nil {
				return nil, invalidf("Illegal address in the %s header: %q (%v).", f, v, err)
			}
			for _, a := range list {
				e, err := address(f, a.String())
				if err != nil {
					return nil, err
				}
				p.check = append(p.check, checked{v, e})
			}
		}
	}
	if m.ReturnPath != "" {
		e, err := address("ReturnPath", m.ReturnPath)
		if err != nil {
			return nil, err
		}
		p.check = append(p.check, checked{m.ReturnPath, e})
	}
	for _, r := range m.ReplyTo {
		if _, err := address("ReplyToAddresses", r); err != nil {
			return nil, err
		}
	}
	to, cc, bcc := m.To, m.Cc, m.Bcc
	if p.raw != nil && len(to)+len(cc)+len(bcc) == 0 {
		to, cc, bcc = p.raw.list("To"), p.raw.list("Cc"), p.raw.list("Bcc")
	}
	for _, l := range []struct {
		field string
		vs    []string
	}{{"ToAddresses", to}, {"CcAddresses", cc}, {"BccAddresses", bcc}} {
		for _, v := range l.vs {
			e, err := address(l.field, v)
			if err != nil {
				return nil, err
			}
			p.rcpts = append(p.rcpts, e)
			if l.field == "ToAddresses" {
				p.to = append(p.to, e)
			}
		}
	}
	switch n := len(p.rcpts); {
	case n == 0:
		return nil, invalidf("The message has no recipient: give at least one To, Cc or Bcc address.")
	case n > MaxRecipients:
		return nil, invalidf("Recipient count exceeds %d: SES allows at most %d recipients across To, Cc and Bcc; send several messages.", MaxRecipients, MaxRecipients)
	}
	return p, nil
}

func simulator(addr string) bool { return names.DomainOf(addr) == SimulatorDomain }

// gate decides whether sc may send p now; it returns the account's state,
// whose quota the store then holds atomically.
func (s *Sender) gate(ctx context.Context, sc registry.Scope, p *parsed, now time.Time) (*gateState, error) {
	st, err := s.States.GetSendingState(ctx, sc.Account, sc.Region)
	if err != nil {
		return nil, err
	}
	if st.Paused {
		return nil, &registry.Error{Kind: registry.Paused, Message: fmt.Sprintf("Sending is paused for this account in region %s: enable it with UpdateAccountSendingEnabled (v1) or PutAccountSendingAttributes (v2).", sc.Region)}
	}
	addrs := make([]string, 0, len(p.check)+len(p.rcpts))
	for _, c := range p.check {
		addrs = append(addrs, c.addr)
	}
	if !st.Production {
		for _, r := range p.rcpts {
			if !simulator(r) {
				addrs = append(addrs, r)
			}
		}
	}
	bad, err := s.Registry.Unverified(ctx, sc, addrs)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, notVerified(sc.Region, p, bad)
	}
	q := account.QuotaOf(st)
	if !s.allow(sc, q.MaxSendRate, len(p.rcpts), now) {
		return nil, &registry.Error{Kind: registry.Throttled, Message: "Maximum sending rate exceeded."}
	}
	return &gateState{quota: q}, nil
}

// notVerified is SES's MessageRejected: "Email address is not verified.
// The following identities failed the check in region REGION: a, b". The
// region is in upper case, identities are separated by ", " and a header
// value with a display name is listed as given and bare (observed).
func notVerified(region string, p *parsed, bad []string) error {
	isBad := map[string]bool{}
	for _, b := range bad {
		isBad[b] = true
	}
	var list []string
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			list = append(list, v)
		}
	}
	for _, c := range p.check {
		if isBad[c.addr] {
			add(c.given)
			add(c.addr)
		}
	}
	for _, r := range p.rcpts {
		if isBad[r] {
			add(r)
		}
	}
	return rejectf("Email address is not verified. The following identities failed the check in region %s: %s", strings.ToUpper(region), strings.Join(list, ", "))
}

type gateState struct{ quota account.Quota }

// limits is the daily quota as the store checks it, in the transaction
// that stores the message: recipients in the last 24 hours, this
// message's included, at most Max24HourSend.
func (g *gateState) limits(sc registry.Scope, now time.Time, p *parsed) []store.Limit {
	if g.quota.Max24HourSend < 0 {
		return nil
	}
	// Simulator mail "counts against the rate limit but not the daily
	// quota".
	n := 0
	for _, r := range p.rcpts {
		if !simulator(r) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	max := int(math.Floor(g.quota.Max24HourSend)) - n + 1
	return []store.Limit{{Kind: store.SentMail, Account: sc.Account, Region: sc.Region, Since: now.Add(-registry.Day), Max: max,
		Err: &registry.Error{Kind: registry.QuotaExceeded, Message: "Daily message quota exceeded."}}}
}

// bucket is the rate limit of one account in one region: MaxSendRate
// recipients a second, with a burst of one second's worth (SES tolerates
// short bursts; by how much is unpublished). It is per process.
type bucket struct {
	rate float64
	lim  *rate.Limiter
}

func (s *Sender) allow(sc registry.Scope, perSecond float64, n int, now time.Time) bool {
	if perSecond < 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rates == nil {
		s.rates = map[registry.Scope]*bucket{}
	}
	b := s.rates[sc]
	if b == nil || b.rate != perSecond {
		burst := max(int(math.Ceil(perSecond)), 1)
		b = &bucket{perSecond, rate.NewLimiter(rate.Limit(perSecond), burst)}
		s.rates[sc] = b
	}
	// A message to more recipients than the burst could never pass:
	// count it as the burst, so it waits for a full bucket instead.
	return b.lim.AllowN(now, min(n, b.lim.Burst()))
}

// EnvelopeAddress checks an SMTP envelope address (MAIL FROM, RCPT TO) as
// a Source or a destination of the API is checked: well-formed, 7-bit
// ASCII. It returns it canonical.
func EnvelopeAddress(field, v string) (string, error) { return address(field, v) }
