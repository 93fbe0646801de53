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

// checked is an address to verify: as given, bare, the identity ARN that
// authorizes it, if any, and the account and region whose identities
// must verify it (the caller's, or an owner's that authorized it).
type checked struct {
	given, addr string
	arn         IdentityARN
	scope       registry.Scope
}

// address parses one address as a header or parameter gives it: a bare
// address or "Name <address>". SES wants 7-bit ASCII addresses: domains
// as Punycode, display names as RFC 2047 encoded-words.
func address(field, v string) (string, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return "", invalidf("Illegal address in %s: %q (%v).", field, v, err)
	}
	if !names.IsASCII(a.Address) {
		return "", invalidf("Illegal address in %s: %q has non-ASCII characters: SES does not support SMTPUTF8; give the domain as Punycode.", field, v)
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
	a := m.arns(p.raw)
	src, srcARN := m.Source, a.source
	if src == "" && p.raw != nil {
		src, srcARN = p.raw.header.Get("From"), a.from
	}
	if src == "" {
		return nil, invalidf("The message has no source: give Source (v1), FromEmailAddress (v2) or a From header.")
	}
	if p.source, err = address("Source", src); err != nil {
		return nil, err
	}
	p.check = append(p.check, checked{given: src, addr: p.source, arn: srcARN})
	if p.raw != nil {
		// "The From, Source, Sender and Return-Path addresses, or their
		// domains, must be verified."
		for _, f := range []struct {
			name string
			arn  IdentityARN
		}{{"From", a.from}, {"Sender", a.from}, {"Return-Path", a.returnPath}} {
			v := p.raw.header.Get(f.name)
			if v == "" {
				continue
			}
			list, err := mail.ParseAddressList(v)
			if err != nil {
				return nil, invalidf("Illegal address in the %s header: %q (%v).", f.name, v, err)
			}
			for _, l := range list {
				e, err := address(f.name, l.String())
				if err != nil {
					return nil, err
				}
				p.check = append(p.check, checked{given: v, addr: e, arn: f.arn})
			}
		}
	}
	if m.ReturnPath != "" {
		e, err := address("ReturnPath", m.ReturnPath)
		if err != nil {
			return nil, err
		}
		p.check = append(p.check, checked{given: m.ReturnPath, addr: e, arn: a.returnPath})
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
// whose quota the store then holds atomically, and the envelope domain.
// Each address is verified in the account that answers for it: the
// caller's, or, through sending authorization, the owner's of the
// identity an ARN names. The quota, rate and pause are the caller's;
// recipients are free of the sandbox only when the caller and every owner
// are out of it ("the AWS accounts of both the identity owner and the
// delegate sender have to be removed from the sandbox").
func (s *Sender) gate(ctx context.Context, sc registry.Scope, p *parsed, action string, now time.Time) (*gateState, error) {
	st, err := s.States.GetSendingState(ctx, sc.Account, sc.Region)
	if err != nil {
		return nil, err
	}
	if st.Paused {
		return nil, &registry.Error{Kind: registry.Paused, Message: fmt.Sprintf("Sending is paused for this account in region %s: enable it with UpdateAccountSendingEnabled (v1) or PutAccountSendingAttributes (v2).", sc.Region)}
	}
	if err := s.scopes(ctx, sc, p, action); err != nil {
		return nil, err
	}
	order := []registry.Scope{sc}
	addrs := map[registry.Scope][]string{}
	for _, c := range p.check {
		if _, ok := addrs[c.scope]; !ok && c.scope != sc {
			order = append(order, c.scope)
		}
		addrs[c.scope] = append(addrs[c.scope], c.addr)
	}
	sandbox := !st.Production
	for _, o := range order[1:] {
		ost, err := s.States.GetSendingState(ctx, o.Account, o.Region)
		if err != nil {
			return nil, err
		}
		sandbox = sandbox || !ost.Production
	}
	if sandbox {
		for _, r := range p.rcpts {
			if !simulator(r) {
				addrs[sc] = append(addrs[sc], r)
			}
		}
	}
	var bad []string
	for _, o := range order {
		if len(addrs[o]) == 0 {
			continue
		}
		b, err := s.Registry.Unverified(ctx, o, addrs[o])
		if err != nil {
			return nil, err
		}
		bad = append(bad, b...)
	}
	if len(bad) > 0 {
		return nil, notVerified(sc.Region, p, bad)
	}
	// The envelope domain is the source identity's, in its owner's account.
	mailFrom, err := s.Registry.EnvelopeDomain(ctx, p.check[0].scope, p.source)
	if err != nil {
		return nil, err
	}
	q := account.QuotaOf(st)
	if !s.allow(sc, q.MaxSendRate, len(p.rcpts), now) {
		return nil, &registry.Error{Kind: registry.Throttled, Message: "Maximum sending rate exceeded."}
	}
	return &gateState{quota: q, mailFrom: mailFrom}, nil
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

type gateState struct {
	quota    account.Quota
	mailFrom string // the envelope sender's domain
}

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
