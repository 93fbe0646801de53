package registry

import (
	"context"
	"errors"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// replicaParent is the parent identity of a DEED replica (Deterministic
// Easy DKIM): CreateEmailIdentity in region sc.Region with
// DomainSigningAttributesOrigin AWS_SES_<PARENT REGION> reuses the Easy
// DKIM tokens and keys of the identity of the same name and account in
// that region, so that one set of three CNAMEs serves both. SES reports a
// bad parent in VerificationInfo.ErrorType (REPLICATION_*); Sesame knows
// at once and refuses the call with that name in the message.
func (r *Registry) replicaParent(ctx context.Context, sc Scope, name, origin string) (*identity.Identity, error) {
	d := identity.DKIM{Origin: origin}
	region := d.ParentRegion()
	switch {
	case !config.IsSESRegion(region):
		return nil, errorf(Invalid, "Invalid DomainSigningAttributesOrigin %s: replicate from AWS_SES_<REGION> of an SES region, such as AWS_SES_US_EAST_1.", origin)
	case region == sc.Region:
		return nil, errorf(Invalid, "REPLICATION_PRIMARY_INVALID_REGION: %s replicates from this region (%s) itself; give the region of the parent identity, or leave DomainSigningAttributesOrigin out for Easy DKIM.", origin, sc.Region)
	}
	p, err := r.Store.GetIdentity(ctx, Scope{Account: sc.Account, Region: region}.key(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(Invalid, "REPLICATION_PRIMARY_NOT_FOUND: %s has no identity %s in %s to replicate; create it there first.", sc.Account, name, region)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case p.DKIM.External():
		return nil, errorf(Invalid, "REPLICATION_PRIMARY_BYO_DKIM_NOT_SUPPORTED: %s in %s signs with its own key (BYODKIM), which cannot be replicated; give this identity the same key with EXTERNAL instead.", name, region)
	case p.DKIM.ParentRegion() != "":
		return nil, errorf(Invalid, "REPLICATION_REPLICA_AS_PRIMARY_NOT_SUPPORTED: %s in %s is itself a replica of %s; replicate from %s.", name, region, p.DKIM.ParentRegion(), identity.ReplicaOrigin(p.DKIM.ParentRegion()))
	case len(p.DKIM.Tokens) == 0:
		return nil, errorf(Invalid, "REPLICATION_PRIMARY_NOT_FOUND: %s in %s has no Easy DKIM to replicate; set it up there first (PutEmailIdentityDkimSigningAttributes with AWS_SES).", name, region)
	}
	return p, nil
}

// useReplica gives id the Easy DKIM of its parent p: the same tokens (so
// the same CNAMEs, and the same keys behind them) and key length. The
// replica has no keys of its own; the parent's sign for it.
func (r *Registry) useReplica(id, p *identity.Identity, origin string) {
	id.DKIM.Origin = origin
	id.DKIM.Tokens = append([]string(nil), p.DKIM.Tokens...)
	id.DKIM.KeyLength = p.DKIM.KeyLength
	id.DKIM.LastKeyGeneration = p.DKIM.LastKeyGeneration
	id.DKIM.Enabled = true
	id.DKIM.Check.Start(r.now())
}

// KeysOf is the identity whose DKIM keys sign for id's domain: its DEED
// parent's for a replica, its own otherwise.
func KeysOf(id *identity.Identity) identity.Key {
	k := id.Key
	if p := id.DKIM.ParentRegion(); p != "" {
		k.Region = p
	}
	return k
}
