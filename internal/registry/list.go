package registry

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// ListQuery is a page request. Kind zero lists every kind.
type ListQuery struct {
	Kind      names.Kind
	NextToken string
	Limit     int
	// NameContains and Status filter the page (v2's IDENTITY_NAME_CONTAINS
	// and VERIFICATION_STATUS); empty means no filter.
	NameContains string
	Status       identity.Status
}

func (q ListQuery) match(id *identity.Identity) bool {
	if q.NameContains != "" && !strings.Contains(strings.ToLower(id.Name), strings.ToLower(q.NameContains)) {
		return false
	}
	return q.Status == "" || id.Status() == q.Status
}

// A NextToken is the opaque form of "kind:last name". It carries the kind
// so that a token is not used with another IdentityType by mistake.
func encodeToken(kind names.Kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(rune('0'+int(kind))) + ":" + last))
}

func decodeToken(tok string, kind names.Kind) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	s := string(b)
	if err != nil || len(s) < 2 || s[1] != ':' || s[0] != byte('0'+int(kind)) {
		return "", errorf(Invalid, "Invalid NextToken %q: pass the NextToken of the previous page unchanged, with the same identity type (v1 IdentityType, v2 IDENTITY_TYPE filter).", tok)
	}
	return s[2:], nil
}

// List returns one page of an account's identities in a region, in name
// order, and the token of the next page ("" on the last page).
func (r *Registry) List(ctx context.Context, sc Scope, q ListQuery) ([]*identity.Identity, string, error) {
	after := ""
	if q.NextToken != "" {
		var err error
		if after, err = decodeToken(q.NextToken, q.Kind); err != nil {
			return nil, "", err
		}
	}
	// Read in batches until the page is full: filters may skip many.
	batch := q.Limit + 1
	if q.NameContains != "" || q.Status != "" {
		batch = max(batch, 1000)
	}
	var ids []*identity.Identity
	for {
		page, err := r.Store.ListIdentities(ctx, store.ListQuery{Account: sc.Account, Region: sc.Region, Kind: q.Kind, After: after, Limit: batch})
		if err != nil {
			return nil, "", err
		}
		for _, id := range page {
			if id = r.view(id); q.match(id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > q.Limit || len(page) < batch {
			break
		}
		after = page[len(page)-1].Name
	}
	next := ""
	if len(ids) > q.Limit {
		ids = ids[:q.Limit]
		next = encodeToken(q.Kind, ids[len(ids)-1].Name)
	}
	return ids, next, nil
}

// ListVerifiedEmailAddresses returns every verified address of the account
// in the region (the deprecated v1 call has no paging).
func (r *Registry) ListVerifiedEmailAddresses(ctx context.Context, sc Scope) ([]string, error) {
	var out []string
	q := ListQuery{Kind: names.KindEmail, Limit: 1000}
	for {
		ids, next, err := r.List(ctx, sc, q)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if id.Verification.Status == identity.Success {
				out = append(out, id.Name)
			}
		}
		if next == "" {
			return out, nil
		}
		q.NextToken = next
	}
}

// Delete removes an identity and reports whether it existed. Deleting an
// unknown identity is not an error here: v1 succeeds, v2 turns false into
// NotFound.
func (r *Registry) Delete(ctx context.Context, sc Scope, name string) (bool, error) {
	_, n, err := parseIdentity(name)
	if err != nil {
		return false, err
	}
	return r.Store.DeleteIdentity(ctx, sc.key(n))
}

// DeleteEmail is v1 DeleteVerifiedEmailAddress: the name must be an address.
func (r *Registry) DeleteEmail(ctx context.Context, sc Scope, address string) error {
	if !strings.Contains(address, "@") {
		return errorf(Invalid, "Invalid email address %q: missing final '@domain'.", address)
	}
	e, err := parseEmail(address)
	if err != nil {
		return err
	}
	_, err = r.Store.DeleteIdentity(ctx, sc.key(e))
	return err
}
