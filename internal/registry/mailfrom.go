package registry

import (
	"context"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
)

// EnvelopeDomain is the domain of the envelope sender (MAIL FROM) of mail
// that addr sends in sc. The identity that decides is the most specific
// one with a custom MAIL FROM domain: the address, then its domain, then
// parent domains (an address inherits its domain's setting unless it has
// its own). While that domain's MX check is Success (the verifier's
// verdict, after expiry) it is the envelope domain; otherwise
// BehaviorOnMXFailure decides: UseDefaultValue gives the default,
// RejectMessage refuses the send with MailFromNotVerified. Without any
// custom MAIL FROM domain the default is the operator's, DNS.MailFromDefault.
func (r *Registry) EnvelopeDomain(ctx context.Context, sc Scope, addr string) (string, error) {
	d := names.DomainOf(addr)
	cands := append([]string{addr, d}, names.Parents(d)...)
	found, err := r.Store.GetIdentities(ctx, sc.Account, sc.Region, cands)
	if err != nil {
		return "", err
	}
	def := r.DNS.DefaultMailFrom(sc.Region)
	for _, n := range cands {
		id := r.view(found[n])
		if id == nil || id.MailFrom.Domain == "" {
			continue
		}
		mf := id.MailFrom
		if mf.Check.Status == identity.Success {
			return mf.Domain, nil
		}
		if mf.Behavior == identity.RejectMessage {
			status := mf.Check.Status
			if status == "" {
				status = identity.Pending
			}
			return "", errorf(MailFromNotVerified, "The MAIL FROM domain %s of identity %s is not verified (its status is %s) and its BehaviorOnMXFailure is RejectMessage, so the message was not sent: publish the MX record \"10 %s\" at %s, or set BehaviorOnMXFailure to UseDefaultValue to send with %s meanwhile.",
				mf.Domain, n, status, r.DNS.MX(sc.Region), mf.Domain, def)
		}
		return def, nil
	}
	return def, nil
}
