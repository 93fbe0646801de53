// Package registry implements SES's identity operations once, for the v1
// Query API, the v2 REST API and the console: parsing of names, the rules of
// each operation, and errors that each protocol turns into its own codes.
package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// MaxIdentities is SES's limit of identities per account and region; it
// cannot be raised in SES either.
const MaxIdentities = 10000

// The default account-wide caps (Caps): SES counts identities and
// templates per region only, so an account could otherwise hold 10,000
// identities and 50 templates of up to 10 MB in each region served.
// Sesame holds the same numbers across all of an account's regions unless
// the operator raises them.
const (
	DefaultAccountIdentities = MaxIdentities
	DefaultAccountTemplates  = MaxTemplates
)

// Caps bound what one account stores in all its regions together,
// on top of SES's per-region limits (MaxIdentities, MaxTemplates). Zero
// fields take the defaults above.
type Caps struct {
	Identities int
	Templates  int
}

func (l Caps) identities() int { return cmp.Or(l.Identities, DefaultAccountIdentities) }
func (l Caps) templates() int  { return cmp.Or(l.Templates, DefaultAccountTemplates) }

// MaxAttributeIdentities is the most identities one Get*Attributes call may
// name.
const MaxAttributeIdentities = 100

// Mailer sends the verification email of an address identity (and a fresh
// one each time verification is asked again).
type Mailer interface {
	SendVerification(ctx context.Context, id *identity.Identity) error
}

// Registry holds the identity operations.
type Registry struct {
	Store    store.Identities
	DNS      config.DNS
	Policies identity.Policies
	// Caps are the account-wide caps; the zero value is the defaults.
	Caps Caps
	// Regions, if set, are the only regions where identities and
	// templates may be created. The API refuses other regions already at
	// the signature (sigv4); this holds the console, which signs nothing,
	// to the same list.
	Regions []string
	Now     func() time.Time
	Log     *slog.Logger
	// Mailer sends verification emails; nil sends none.
	Mailer Mailer
	// Templates stores custom verification templates; nil serves none.
	Templates store.Templates
	// ConfigSets stores configuration sets; nil: there are none.
	ConfigSets store.ConfigSets
	// EmailTemplates stores email templates; Sending and Outbox serve the
	// account's sending state (sending.go). Nil serves none.
	EmailTemplates store.EmailTemplates
	Sending        store.Sending
	Outbox         store.Outbox
	// DKIMKeys makes the keys behind Easy DKIM tokens; nil makes none.
	DKIMKeys DKIMKeys
	// Changed, if set, is told about every identity whose checks must run
	// now, so the verifier need not wait for its next poll.
	Changed func(identity.Key)
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Registry) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Scope is who asks: an account in a region.
type Scope struct {
	Account string
	Region  string
}

func (s Scope) key(name string) identity.Key {
	return identity.Key{Account: s.Account, Region: s.Region, Name: name}
}

// view returns id as a reader sees it now: a copy with the windows that ran
// out applied, even before the verifier has come by.
func (r *Registry) view(id *identity.Identity) *identity.Identity {
	if id == nil {
		return nil
	}
	// The store hands out copies already; copy again only to expire.
	probe := *id
	if !probe.Expire(r.now(), r.Policies) {
		return id
	}
	c := id.Clone()
	c.Expire(r.now(), r.Policies)
	return c
}

// parseIdentity canonicalises an identity given to an operation.
func parseIdentity(s string) (names.Kind, string, error) {
	k, n, err := names.Identity(s)
	if err != nil {
		return 0, "", invalidName(err, "Identity %q is invalid. Must be a verified email address or domain (%s).", s)
	}
	return k, n, nil
}

// Get returns one identity; unknown identities are NotFound.
func (r *Registry) Get(ctx context.Context, sc Scope, name string) (*identity.Identity, error) {
	_, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	id, err := r.Store.GetIdentity(ctx, sc.key(n))
	if errors.Is(err, store.ErrNotFound) {
		return nil, wrapf(NotFound, err, "Email identity %s does not exist.", n)
	}
	if err != nil {
		return nil, err
	}
	return r.view(id), nil
}

// GetMany returns the known identities among the given names, keyed by the
// name as given; unknown names are left out, as SES does. Malformed names
// and more than 100 names are Invalid.
func (r *Registry) GetMany(ctx context.Context, sc Scope, given []string) (map[string]*identity.Identity, error) {
	if len(given) > MaxAttributeIdentities {
		return nil, errorf(Invalid, "Too many identities: %d given, at most %d per request. Split the list into several requests.", len(given), MaxAttributeIdentities)
	}
	canon := make([]string, len(given))
	for i, g := range given {
		_, n, err := parseIdentity(g)
		if err != nil {
			return nil, err
		}
		canon[i] = n
	}
	found, err := r.Store.GetIdentities(ctx, sc.Account, sc.Region, canon)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*identity.Identity, len(found))
	for i, g := range given {
		if id := found[canon[i]]; id != nil {
			out[g] = r.view(id)
		}
	}
	return out, nil
}

// parentDomain returns the domain identity an address belongs to, if any.
func (r *Registry) parentDomain(ctx context.Context, sc Scope, email string) (*identity.Identity, error) {
	d, err := r.Store.GetIdentity(ctx, sc.key(names.DomainOf(email)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.view(d), nil
}

// DKIMView is the DKIM state of an identity: whether signing is on, the
// status and the tokens.
type DKIMView struct {
	Enabled bool
	Status  identity.Status
	Tokens  []string
	// Selector and KeyRecord are set under BYODKIM (Tokens is then the
	// selector): the TXT record the customer publishes at
	// <selector>._domainkey.<domain>.
	Selector, KeyRecord string
}

// dkimView is the DKIM of the domain d, signing on if enabled.
func dkimView(d *identity.Identity, enabled bool) DKIMView {
	return DKIMView{Enabled: enabled, Status: d.DKIM.Check.Status, Tokens: d.DKIM.Tokens,
		Selector: d.DKIM.Selector(), KeyRecord: d.DKIM.KeyRecord}
}

// DKIMOf returns the DKIM that signs id's mail, for the console and the
// doctor: an address's is its domain's tokens and status, and its mail is
// signed when signing is on for the domain or for the address
// (SetIdentityDkimEnabled: "If Easy DKIM signing is enabled for a domain,
// then Amazon SES uses DKIM to sign all email that it sends from addresses
// on that domain").
func (r *Registry) DKIMOf(ctx context.Context, sc Scope, id *identity.Identity) (DKIMView, error) {
	d := id
	if !id.IsDomain() {
		p, err := r.parentDomain(ctx, sc, id.Name)
		if err != nil {
			return DKIMView{}, err
		}
		d = p
	}
	if d == nil || len(d.DKIM.Tokens) == 0 {
		return DKIMView{Status: identity.NotStarted}, nil
	}
	return dkimView(d, id.DKIM.Enabled || d.DKIM.Enabled), nil
}

// OwnDKIM is the DKIM state SES reports for the identity itself (v1
// GetIdentityDkimAttributes, v2 GetEmailIdentity): a domain's Easy DKIM;
// for an address, whether signing is enabled, NotStarted and no tokens,
// as the model's GetIdentityDkimAttributes example shows for
// user@example.com next to its verified domain.
func OwnDKIM(id *identity.Identity) DKIMView {
	if !id.IsDomain() {
		return DKIMView{Enabled: id.DKIM.Enabled, Status: identity.NotStarted}
	}
	if len(id.DKIM.Tokens) == 0 {
		return DKIMView{Status: identity.NotStarted}
	}
	return dkimView(id, id.DKIM.Enabled)
}

// update runs fn on the identity in a transaction, then tells the verifier
// and the mailer what changed.
func (r *Registry) update(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error) {
	id, err := r.Store.UpdateIdentity(ctx, k, fn)
	if err != nil {
		return nil, err
	}
	if r.Changed != nil && !id.Next.IsZero() && !id.Next.After(r.now()) {
		r.Changed(k)
	}
	return id, nil
}

// schedule sets when the verifier looks at id next: now if a DNS check is
// running, at the deadline of an email link, never otherwise.
func (r *Registry) schedule(id *identity.Identity, now time.Time) {
	id.Next = time.Time{}
	if id.IsDomain() {
		if id.Verification.Active() || id.DKIM.Check.Active() || (id.MailFrom.Domain != "" && id.MailFrom.Check.Active()) {
			id.Next = now
		}
		return
	}
	if id.MailFrom.Domain != "" && id.MailFrom.Check.Active() {
		id.Next = now
	} else if d := id.Verification.Deadline(r.Policies.Link); !d.IsZero() {
		id.Next = d
	}
}

// checkRegion refuses to store anything new in a region not served.
func (r *Registry) checkRegion(sc Scope) error {
	if len(r.Regions) > 0 && !slices.Contains(r.Regions, sc.Region) {
		return errorf(Invalid, "Region %s is not served by this server: use one of %s.", sc.Region, strings.Join(r.Regions, ", "))
	}
	return nil
}

// checkLimit refuses a new identity in a region not served, past
// MaxIdentities in the region, or past the account-wide cap in all
// regions.
func (r *Registry) checkLimit(ctx context.Context, sc Scope) error {
	if err := r.checkRegion(sc); err != nil {
		return err
	}
	n, err := r.Store.CountAccountIdentities(ctx, sc.Account, sc.Region)
	if err != nil {
		return err
	}
	if n >= MaxIdentities {
		return errorf(LimitExceeded, "Maximum number of identities (%d) reached in region %s. Delete identities you no longer use.", MaxIdentities, sc.Region)
	}
	n, err = r.Store.CountAccountIdentities(ctx, sc.Account, "")
	if err != nil {
		return err
	}
	if max := r.Caps.identities(); n >= max {
		return wrapf(LimitExceeded, ErrAccountLimit, "Maximum number of identities of this account in all regions (%d) reached. Delete identities you no longer use, in any region, or ask the operator of this server to raise the cap.", max)
	}
	return nil
}

// sendVerification queues the verification email of a pending address.
// The mailer stores the message before it returns, so an error here means
// nothing was queued: the caller fails and the client may ask again.
func (r *Registry) sendVerification(ctx context.Context, id *identity.Identity) error {
	if r.Mailer == nil || id.IsDomain() || id.Verification.Status != identity.Pending {
		return nil
	}
	if err := r.Mailer.SendVerification(ctx, id); err != nil {
		if me := mailError(err); me != nil {
			return me
		}
		return fmt.Errorf("verification email for %s not queued: %w", id.Name, err)
	}
	return nil
}
