package registry

import (
	"context"
	"crypto/rsa"
	"regexp"

	"github.com/sesame/sesame/internal/dkim"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// selectorPattern is the model's Selector: 1 to 63 characters, letters,
// digits and inner hyphens (one DNS label).
var selectorPattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// maxPrivateKey is the model's PrivateKey max length.
const maxPrivateKey = 20480

// parseExternal checks a BYODKIM selector and private key as SES does.
func parseExternal(selector, privateKey string) (*rsa.PrivateKey, error) {
	if selector == "" || privateKey == "" {
		return nil, errorf(Invalid, "Bring Your Own DKIM needs both DomainSigningSelector and DomainSigningPrivateKey.")
	}
	if !selectorPattern.MatchString(selector) {
		return nil, errorf(Invalid, "Invalid DomainSigningSelector %q: give 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (one DNS label).", selector)
	}
	if len(privateKey) > maxPrivateKey {
		return nil, errorf(Invalid, "Invalid DomainSigningPrivateKey: %d characters, at most %d.", len(privateKey), maxPrivateKey)
	}
	pk, err := dkim.ParsePrivate(privateKey)
	if err != nil {
		return nil, wrapf(Invalid, err, "Invalid DomainSigningPrivateKey: %v. Give a 1024 to 2048-bit RSA private key (PKCS#1 or PKCS#8) in base64, without PEM header lines.", err)
	}
	return pk, nil
}

// SetExternalDKIM is v2 PutEmailIdentityDkimSigningAttributes with the
// origin EXTERNAL (BYODKIM): the domain signs with the customer's key as
// <selector>, once the customer publishes its public half at
// <selector>._domainkey.<domain> (Sesame never publishes it). The check
// starts again and mail is unsigned until it succeeds (SES: "mail is
// unsigned while the new method is Pending"); Easy DKIM tokens and keys
// are dropped. The private key is sealed with the identity's DKIM keys.
func (r *Registry) SetExternalDKIM(ctx context.Context, sc Scope, name, selector, privateKey string) (*identity.Identity, error) {
	kind, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	if kind != names.KindDomain {
		return nil, errorf(Invalid, "The EmailIdentity value must be a valid domain: DKIM signing attributes are set on the domain of %s.", n)
	}
	pk, err := parseExternal(selector, privateKey)
	if err != nil {
		return nil, err
	}
	if r.DKIMKeys == nil {
		return nil, errorf(Invalid, "This server keeps no DKIM keys, so it cannot sign with your own (EXTERNAL); use AWS_SES.")
	}
	id, err := r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			return nil, wrapf(NotFound, store.ErrNotFound, "Email identity %s does not exist.", n)
		}
		r.useExternal(cur, selector, pk)
		r.schedule(cur, r.now())
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return id, r.DKIMKeys.SetExternalKey(ctx, id, pk)
}

// useExternal switches id to BYODKIM with selector and pk: Tokens is the
// selector (the model's DkimAttributes.Tokens), and the check starts
// again whatever it was.
func (r *Registry) useExternal(id *identity.Identity, selector string, pk *rsa.PrivateKey) {
	now := r.now()
	record := dkim.Record(&pk.PublicKey)
	if id.DKIM.External() && id.DKIM.Selector() == selector && id.DKIM.KeyRecord == record {
		id.DKIM.Check.Start(now) // the same key again: a check that failed restarts
		return
	}
	id.DKIM.Origin = identity.ExternalDKIM
	id.DKIM.Tokens = []string{selector}
	id.DKIM.KeyRecord = record
	id.DKIM.Enabled = true
	id.DKIM.LastKeyGeneration = now
	id.DKIM.Check.Stop()
	id.DKIM.Check.Start(now)
}

// leaveExternal switches a BYODKIM domain (or a DEED replica) back to no
// DKIM, so that startDKIM makes Easy DKIM tokens (and ensureKeys keys) of
// its own again.
func leaveExternal(id *identity.Identity) {
	if !id.DKIM.External() && id.DKIM.ParentRegion() == "" {
		return
	}
	id.DKIM.Origin = identity.EasyDKIM
	id.DKIM.Tokens, id.DKIM.KeyRecord = nil, ""
	id.DKIM.Check.Stop()
}
