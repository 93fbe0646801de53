package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame/sesame/internal/identity"
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
