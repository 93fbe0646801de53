package registry

import (
	"context"
	"errors"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// SetDKIMEnabled turns DKIM signing on or off. A domain must have Easy DKIM
// set up; an address needs a domain that has. The DKIM status does not
// change. An unknown identity is NotFound, anything else Invalid, both
// "Domain X is not verified for DKIM signing."
func (r *Registry) SetDKIMEnabled(ctx context.Context, sc Scope, name string, enabled bool) (*identity.Identity, error) {
	_, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	d := n
	if k, _, _ := names.Identity(n); k == names.KindEmail {
		d = names.DomainOf(n)
	}
	const msg = "Domain %s is not verified for DKIM signing. Set up Easy DKIM on it first (VerifyDomainDkim or CreateEmailIdentity)."
	notSetUp := func() error { return errorf(Invalid, msg, d) }
	// An unknown identity: v1 InvalidParameterValue, v2 NotFoundException.
	unknown := func() error { return wrapf(NotFound, store.ErrNotFound, msg, d) }
	cur, err := r.Store.GetIdentity(ctx, sc.key(n))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknown()
	}
	if err != nil {
		return nil, err
	}
	v, err := r.DKIMOf(ctx, sc, cur)
	if err != nil {
		return nil, err
	}
	if len(v.Tokens) == 0 {
		return nil, notSetUp()
	}
	return r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			return nil, unknown()
		}
		cur.DKIM.Enabled = enabled
		return cur, nil
	})
}

// ParseBehavior accepts the v1 (UseDefaultValue) and v2 (USE_DEFAULT_VALUE)
// spellings; empty means UseDefaultValue.
func ParseBehavior(s string) (identity.Behavior, error) {
	switch s {
	case "", "UseDefaultValue", "USE_DEFAULT_VALUE":
		return identity.UseDefaultValue, nil
	case "RejectMessage", "REJECT_MESSAGE":
		return identity.RejectMessage, nil
	}
	return "", errorf(Invalid, "Invalid BehaviorOnMXFailure %q: use UseDefaultValue or RejectMessage (v2: USE_DEFAULT_VALUE or REJECT_MESSAGE).", s)
}

// SetMailFrom sets, changes or (with an empty domain) removes the custom
// MAIL FROM domain of an identity. It must be a subdomain of the identity's
// domain (for an address, of the address's domain). Setting it again
// restarts a check that failed.
func (r *Registry) SetMailFrom(ctx context.Context, sc Scope, name, mailFrom, behavior string) (*identity.Identity, error) {
	_, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	b, err := ParseBehavior(behavior)
	if err != nil {
		return nil, err
	}
	var mf string
	if mailFrom != "" {
		if mf, err = names.Domain(mailFrom); err != nil {
			return nil, invalidName(err, "Invalid MAIL FROM domain: %s.")
		}
		parent := n
		if k, _, _ := names.Identity(n); k == names.KindEmail {
			parent = names.DomainOf(n)
		}
		if !names.IsSubdomain(mf, parent) {
			return nil, errorf(Invalid, "Provided MAIL-FROM domain %s or its parents are not verified for identity %s. The MAIL FROM domain must be a subdomain of %s, such as mail.%s.", mf, n, parent, parent)
		}
	}
	return r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			// v1 InvalidParameterValue; v2 NotFoundException, which the
			// model lists for every v2 Put* of an identity.
			return nil, wrapf(NotFound, store.ErrNotFound, "Identity %s does not exist in region %s. Create it first.", n, sc.Region)
		}
		cur.MailFrom.Behavior = b
		switch {
		case mf == "":
			cur.MailFrom.Domain = ""
			cur.MailFrom.Check.Stop()
		case mf != cur.MailFrom.Domain:
			cur.MailFrom.Domain = mf
			cur.MailFrom.Check.Stop()
			cur.MailFrom.Check.Start(r.now())
		default:
			cur.MailFrom.Check.Start(r.now())
		}
		r.schedule(cur, r.now())
		return cur, nil
	})
}

// SetEasyDKIM is v2 PutEmailIdentityDkimSigningAttributes with the origin
// AWS_SES: it sets up Easy DKIM on a domain identity (three tokens, kept if
// there already are some) and restarts a DKIM check that failed. keyLength
// (NextSigningKeyLength) may be empty, RSA_1024_BIT or RSA_2048_BIT.
func (r *Registry) SetEasyDKIM(ctx context.Context, sc Scope, name, keyLength string) (*identity.Identity, error) {
	kind, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	if kind != names.KindDomain {
		return nil, errorf(Invalid, "The EmailIdentity value must be a valid domain: DKIM signing attributes are set on the domain of %s.", n)
	}
	switch keyLength {
	case "", "RSA_1024_BIT", "RSA_2048_BIT":
	default:
		return nil, errorf(Invalid, "Invalid NextSigningKeyLength %q: use RSA_1024_BIT or RSA_2048_BIT.", keyLength)
	}
	id, err := r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			return nil, wrapf(NotFound, store.ErrNotFound, "Email identity %s does not exist.", n)
		}
		leaveExternal(cur) // from BYODKIM: new tokens and keys
		if err := r.changeKeyLength(cur, keyLength); err != nil {
			return nil, err
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

// KeyLengthWindow is how often an identity's Easy DKIM key length may
// change: "You can change the key length once every 24 hours" (SES,
// Easy DKIM), the first change to 1024 bits excepted.
const KeyLengthWindow = 24 * time.Hour

// changeKeyLength sets the length of an identity's next Easy DKIM keys
// (NextSigningKeyLength; the keys that sign keep theirs until the next
// rotation). A domain with tokens may change it once in KeyLengthWindow,
// counted from the last change or key generation, except for a first
// change down to RSA_1024_BIT; asking for the length it has already is
// refused, as SES does.
func (r *Registry) changeKeyLength(cur *identity.Identity, keyLength string) error {
	if keyLength == "" {
		return nil
	}
	if len(cur.DKIM.Tokens) == 0 || cur.DKIM.KeyLength == "" {
		cur.DKIM.KeyLength = keyLength
		return nil
	}
	if keyLength == cur.DKIM.KeyLength {
		return errorf(Invalid, "The next signing key length of %s is already %s: give the other length (RSA_1024_BIT or RSA_2048_BIT) to change it, or leave NextSigningKeyLength out.", cur.Name, keyLength)
	}
	now := r.now()
	last := cur.DKIM.LastKeyGeneration
	if cur.DKIM.KeyLengthChanged.After(last) {
		last = cur.DKIM.KeyLengthChanged
	}
	firstDowngrade := keyLength == "RSA_1024_BIT" && cur.DKIM.KeyLengthChanged.IsZero()
	if !firstDowngrade && now.Before(last.Add(KeyLengthWindow)) {
		return errorf(Invalid, "The key length of %s can change once every 24 hours: it last changed at %s; try again after %s.",
			cur.Name, last.Format(time.RFC3339), last.Add(KeyLengthWindow).Format(time.RFC3339))
	}
	cur.DKIM.KeyLength = keyLength
	cur.DKIM.KeyLengthChanged = now
	return nil
}
