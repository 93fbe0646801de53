package registry

import (
	"context"
	"crypto/rsa"
	"strings"
	"unicode/utf8"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
)

func parseDomain(s string) (string, error) {
	d, err := names.Domain(s)
	if err != nil {
		return "", invalidName(err, "Invalid domain name: %s.")
	}
	return d, nil
}

func parseEmail(s string) (string, error) {
	e, err := names.Email(s)
	if err != nil {
		return "", invalidName(err, "Invalid email address: %s.")
	}
	return e, nil
}

// newIdentity makes a new identity of either kind, its checks started. A
// domain always gets a verification token, so v1 shows it whichever way the
// domain was added.
func (r *Registry) newIdentity(sc Scope, kind names.Kind, name string) *identity.Identity {
	now := r.now()
	id := &identity.Identity{Key: sc.key(name), Kind: kind, Created: now, FeedbackForwardingStatus: true}
	id.MailFrom.Behavior = identity.UseDefaultValue
	// DKIM signing defaults to on for a domain; an address starts with it
	// off, as SES reports it (the model's GetIdentityDkimAttributes
	// example, and GetEmailIdentity of a new address), until
	// SetIdentityDkimEnabled or PutEmailIdentityDkimAttributes turns it on.
	id.DKIM.Enabled = kind == names.KindDomain
	id.Verification.Start(now)
	if kind == names.KindDomain {
		id.Token = identity.NewVerificationToken()
	}
	return id
}

// DefaultKeyLength is the key length of new Easy DKIM keys, and what an
// identity without keys of its own (an address) reports as its next one
// (sesv2 model, NextSigningKeyLength: "RSA_2048_BIT" is the default).
const DefaultKeyLength = "RSA_2048_BIT"

// startDKIM sets up Easy DKIM on a domain: three tokens, kept across calls,
// and the check (re)started unless already verified.
func (r *Registry) startDKIM(id *identity.Identity) {
	if len(id.DKIM.Tokens) == 0 {
		id.DKIM.Tokens = identity.NewDKIMTokens()
		id.DKIM.Enabled = true
		id.DKIM.Origin = identity.EasyDKIM
		id.DKIM.LastKeyGeneration = r.now()
		if id.DKIM.KeyLength == "" {
			id.DKIM.KeyLength = DefaultKeyLength
		}
	}
	id.DKIM.Check.Start(r.now())
}

// VerifyDomainIdentity adds a domain, or asks again for one already there:
// the token stays the same and a Failed or Pending verification gets a new
// 72-hour window (SES's behaviour here is unconfirmed; this is what a user
// who fixed their DNS and asks again would expect). A verified domain stays
// verified.
func (r *Registry) VerifyDomainIdentity(ctx context.Context, sc Scope, domain string) (*identity.Identity, error) {
	d, err := parseDomain(domain)
	if err != nil {
		return nil, err
	}
	return r.startVerification(ctx, sc, names.KindDomain, d)
}

// startVerification adds an identity, or asks again for one already there:
// a Pending or Failed verification gets a new window, a verified one stays
// verified.
func (r *Registry) startVerification(ctx context.Context, sc Scope, kind names.Kind, name string) (*identity.Identity, error) {
	return r.update(ctx, sc.key(name), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			if err := r.checkLimit(ctx, sc); err != nil {
				return nil, err
			}
			cur = r.newIdentity(sc, kind, name)
		} else {
			cur.Verification.Start(r.now())
		}
		r.schedule(cur, r.now())
		return cur, nil
	})
}

// VerifyDomainDkim sets up Easy DKIM on a domain, adding the domain if it is
// not an identity yet. The three tokens stay the same across calls.
func (r *Registry) VerifyDomainDkim(ctx context.Context, sc Scope, domain string) (*identity.Identity, error) {
	d, err := parseDomain(domain)
	if err != nil {
		return nil, err
	}
	id, err := r.update(ctx, sc.key(d), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			if err := r.checkLimit(ctx, sc); err != nil {
				return nil, err
			}
			cur = r.newIdentity(sc, names.KindDomain, d)
		}
		r.startDKIM(cur)
		r.schedule(cur, r.now())
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return id, r.ensureKeys(ctx, id)
}

// VerifyEmailIdentity adds an address, or asks again for one already there,
// and sends a verification email with a fresh link. A verified address
// stays verified and gets no email.
func (r *Registry) VerifyEmailIdentity(ctx context.Context, sc Scope, address string) (*identity.Identity, error) {
	e, err := parseEmail(address)
	if err != nil {
		return nil, err
	}
	if err := r.checkMailLimits(ctx, sc.key(e), false); err != nil {
		return nil, err
	}
	id, err := r.startVerification(ctx, sc, names.KindEmail, e)
	if err != nil {
		return nil, err
	}
	return id, r.sendVerification(ctx, id)
}

// CreateOptions are the optional members of v2 CreateEmailIdentity.
type CreateOptions struct {
	Tags             []identity.Tag
	ConfigurationSet string
	// KeyLength is DkimSigningAttributes.NextSigningKeyLength.
	KeyLength string
	// Selector and PrivateKey are DkimSigningAttributes'
	// DomainSigningSelector and DomainSigningPrivateKey: Bring Your Own
	// DKIM instead of Easy DKIM.
	Selector, PrivateKey string
	// Origin is DkimSigningAttributes.DomainSigningAttributesOrigin: empty,
	// AWS_SES, EXTERNAL, or AWS_SES_<REGION> for a DEED replica of the
	// identity in that region (deed.go).
	Origin string
	// DKIMAttributes is set when DkimSigningAttributes was given at all.
	DKIMAttributes bool
}

// CreateEmailIdentity is v2's create: an existing identity is an error; a
// domain gets Easy DKIM (and a TXT token, for v1 readers); an address gets
// its verification email.
func (r *Registry) CreateEmailIdentity(ctx context.Context, sc Scope, name string, o CreateOptions) (*identity.Identity, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errorf(Invalid, "EmailIdentity is required: give an email address or a domain.")
	}
	kind, n, err := names.Identity(name)
	if err != nil {
		if strings.Contains(name, "@") {
			return nil, invalidName(err, "Invalid email address: %s.")
		}
		return nil, invalidName(err, "Invalid domain name: %s.")
	}
	if err := validateTags(o.Tags); err != nil {
		return nil, err
	}
	if o.ConfigurationSet != "" {
		if err := r.ConfigSetExists(ctx, sc, o.ConfigurationSet); err != nil {
			return nil, err
		}
	}
	if o.DKIMAttributes && kind != names.KindDomain {
		return nil, errorf(Invalid, "DkimSigningAttributes can only be given for a domain, not for the email address %s.", n)
	}
	var external *rsa.PrivateKey
	var parent *identity.Identity
	switch {
	case o.Origin != "" && o.Origin != identity.EasyDKIM && o.Origin != identity.ExternalDKIM:
		if o.Selector != "" || o.PrivateKey != "" || o.KeyLength != "" {
			return nil, errorf(Invalid, "DomainSigningAttributesOrigin %s replicates its parent's Easy DKIM: leave DomainSigningSelector, DomainSigningPrivateKey and NextSigningKeyLength out.", o.Origin)
		}
		if parent, err = r.replicaParent(ctx, sc, n, o.Origin); err != nil {
			return nil, err
		}
	case o.Selector != "" || o.PrivateKey != "" || o.Origin == identity.ExternalDKIM:
		if o.KeyLength != "" {
			return nil, errorf(Invalid, "NextSigningKeyLength is for Easy DKIM: leave it out with DomainSigningSelector and DomainSigningPrivateKey (Bring Your Own DKIM).")
		}
		if external, err = parseExternal(o.Selector, o.PrivateKey); err != nil {
			return nil, err
		}
		if r.DKIMKeys == nil {
			return nil, errorf(Invalid, "This server keeps no DKIM keys, so it cannot sign with your own (DomainSigningPrivateKey); leave DkimSigningAttributes out to use Easy DKIM.")
		}
	}
	switch o.KeyLength {
	case "", "RSA_1024_BIT", "RSA_2048_BIT":
	default:
		return nil, errorf(Invalid, "Invalid NextSigningKeyLength %q: use RSA_1024_BIT or RSA_2048_BIT.", o.KeyLength)
	}
	if kind == names.KindEmail {
		if err := r.checkMailLimits(ctx, sc.key(n), true); err != nil {
			return nil, err
		}
	}
	id, err := r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur != nil {
			return nil, errorf(AlreadyExists, "Email identity %s already exist.", n)
		}
		if err := r.checkLimit(ctx, sc); err != nil {
			return nil, err
		}
		id := r.newIdentity(sc, kind, n)
		id.Tags = o.Tags
		id.ConfigurationSet = o.ConfigurationSet
		switch {
		case external != nil:
			r.useExternal(id, o.Selector, external)
		case parent != nil:
			r.useReplica(id, parent, o.Origin)
		case kind == names.KindDomain:
			id.DKIM.KeyLength = o.KeyLength
			r.startDKIM(id)
		}
		r.schedule(id, r.now())
		return id, nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case external != nil:
		err = r.DKIMKeys.SetExternalKey(ctx, id, external)
	case parent != nil: // the parent's keys sign
	default:
		err = r.ensureKeys(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return id, r.sendVerification(ctx, id)
}

func validateTags(tags []identity.Tag) error {
	if len(tags) > 50 {
		return errorf(Invalid, "Too many tags: %d given, at most 50.", len(tags))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case utf8.RuneCountInString(t.Key) < 1 || utf8.RuneCountInString(t.Key) > 128:
			return errorf(Invalid, "Tag key %q must be 1 to 128 characters long.", t.Key)
		case utf8.RuneCountInString(t.Value) > 256:
			return errorf(Invalid, "The value of tag %q must be at most 256 characters long.", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errorf(Invalid, "Tag key %q may not start with \"aws:\", which is reserved.", t.Key)
		case seen[t.Key]:
			return errorf(Invalid, "Tag key %q is given twice.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}
