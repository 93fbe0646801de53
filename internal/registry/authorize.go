package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// MaySend reports whether account sender may use the identity owner
// (account, region, name) for action, one of SendActions: always for its
// own identities, and for another account's only when one of the
// identity's sending-authorization policies allows it and none denies it
// (SES Developer Guide, "Sending authorization": an explicit Deny wins;
// without an Allow the answer is no). An unknown identity is NotFound.
//
// Sesame's accounts have no IAM users or roles, so any principal of an
// account (its ID, arn:aws:iam::<id>:root, or any IAM ARN in it) stands
// for the whole account. Statements with a Condition are not evaluated:
// such an Allow grants nothing and such a Deny denies, so Sesame never
// lets through mail that SES might refuse.
func (r *Registry) MaySend(ctx context.Context, sender string, owner identity.Key, action string) (bool, error) {
	id, err := r.Store.GetIdentity(ctx, owner)
	if errors.Is(err, store.ErrNotFound) {
		return false, wrapf(NotFound, err, "Identity %s does not exist in region %s of account %s.", owner.Name, owner.Region, owner.Account)
	}
	if err != nil {
		return false, err
	}
	if sender == owner.Account {
		return true, nil
	}
	arn := IdentityARN(owner)
	allowed := false
	for name, doc := range id.Policies {
		sts, err := parsePolicy(owner, doc)
		if err != nil {
			// Stored policies were validated; one that no longer
			// parses grants nothing.
			r.log().Warn("stored sending-authorization policy does not parse", "identity", owner.Name, "policy", name, "err", err)
			continue
		}
		for _, st := range sts {
			if !st.covers(sender, action, arn) {
				continue
			}
			if st.Effect == "Deny" {
				return false, nil
			}
			if !st.Conditional {
				allowed = true
			}
		}
	}
	return allowed, nil
}

// covers says whether the statement is about this account, action and
// resource (a conditional Deny covers whatever its condition says).
func (st statement) covers(account, action, arn string) bool {
	return st.principal(account) && st.action(action) && st.resource(arn)
}

func (st statement) principal(account string) bool {
	for _, p := range st.AWS {
		if p == "*" || p == account || strings.HasPrefix(p, fmt.Sprintf("arn:aws:iam::%s:", account)) {
			return true
		}
	}
	return false
}

func (st statement) action(action string) bool {
	for _, a := range st.Actions {
		if glob(a, action, true) {
			return true
		}
	}
	return false
}

func (st statement) resource(arn string) bool {
	for _, r := range st.Resources {
		if glob(r, arn, false) {
			return true
		}
	}
	return false
}

// AuthorizeSend is sending authorization for one address of a send call:
// arn, given in field (SourceArn, FromArn, X-SES-SOURCE-ARN...), names the
// identity that permits addr, and AuthorizeSend returns the scope whose
// identities must verify addr: the caller's own for an identity of its
// own (no policy needed), the owner's for another account's, once a
// policy of that identity allows action for the caller. The ARN must be
// of the call's region (SES: "connect to the Amazon SES endpoint in the
// AWS Region that the identity owner verified the identity in") and its
// identity must be addr itself, its domain or a parent domain.
//
// A refusal is SES's AccessDenied, also for an identity that does not
// exist, so that no account learns another's identities by trying.
func (r *Registry) AuthorizeSend(ctx context.Context, sc Scope, field, arn, addr, action string) (Scope, error) {
	res, err := ParseARN(arn)
	if err != nil || res.Type != ResourceIdentity {
		return Scope{}, errorf(Invalid, "Invalid %s %q: give the ARN of an identity, arn:aws:ses:REGION:ACCOUNT:identity/NAME.", field, arn)
	}
	_, name, err := parseIdentity(res.Name)
	if err != nil {
		return Scope{}, errorf(Invalid, "Invalid %s %q: %q is not an email address or domain.", field, arn, res.Name)
	}
	if res.Region != sc.Region {
		return Scope{}, errorf(Invalid, "%s %q names an identity in %s, and this request is for %s: a delegate sends through the endpoint of the identity's region.", field, arn, res.Region, sc.Region)
	}
	if !covers(name, addr) {
		return Scope{}, errorf(Invalid, "%s %q names the identity %s, which does not cover %s: give the ARN of that address or of its domain.", field, arn, name, addr)
	}
	if res.Account == sc.Account {
		return sc, nil
	}
	owner := identity.Key{Account: res.Account, Region: res.Region, Name: name}
	ok, err := r.MaySend(ctx, sc.Account, owner, action)
	if err != nil && !IsKind(err, NotFound) {
		return Scope{}, err
	}
	if !ok {
		// SES's wording, backtick-then-apostrophe quotes included.
		return Scope{}, errorf(AccessDenied, "User `arn:aws:iam::%s:root' is not authorized to perform `%s' on resource `%s'", sc.Account, action, IdentityARN(owner))
	}
	return Scope{Account: res.Account, Region: res.Region}, nil
}

// covers reports whether the identity name permits the address addr: it is
// the address, its domain or a parent domain, as verification goes.
func covers(name, addr string) bool {
	d := names.DomainOf(addr)
	return name == addr || name == d || slices.Contains(names.Parents(d), name)
}
