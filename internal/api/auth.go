package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/sigv4"
)

// Principal is who signed a request, and for which region.
type Principal struct {
	Account     string
	AccessKeyID string
	Region      string
}

// Authenticator checks SigV4 signatures against the account store.
type Authenticator struct {
	Accounts *account.Manager
	v1, v2   *sigv4.Verifier
}

// NewAuthenticator returns an Authenticator. v1 accepts the scope services
// "ses" and "email"; v2 only "ses" (SES rejects "email" there). Both accept
// only the given regions in the credential scope (config.SESRegions, or
// the operator's list); none given accepts any name shaped like a region.
func NewAuthenticator(m *account.Manager, regions []string) *Authenticator {
	lookup := func(ctx context.Context, id string) (string, bool, error) {
		k, ok, err := m.Resolve(ctx, id)
		return k.Secret, ok, err
	}
	return &Authenticator{
		Accounts: m,
		v1:       &sigv4.Verifier{Lookup: lookup, Services: []string{"ses", "email"}, Regions: regions},
		v2:       &sigv4.Verifier{Lookup: lookup, Services: []string{"ses"}, Regions: regions},
	}
}

// V1 authenticates a Query protocol request.
func (a *Authenticator) V1(r *http.Request, body []byte) (*Principal, error) {
	return a.verify(a.v1, r, body)
}

// V2 authenticates a REST-JSON request.
func (a *Authenticator) V2(r *http.Request, body []byte) (*Principal, error) {
	return a.verify(a.v2, r, body)
}

func (a *Authenticator) verify(v *sigv4.Verifier, r *http.Request, body []byte) (*Principal, error) {
	res, err := v.Verify(r.Context(), r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, authError(se)
		}
		return nil, err
	}
	k, ok, err := a.Accounts.Resolve(r.Context(), res.AccessKeyID)
	if err != nil {
		return nil, err
	}
	if !ok { // revoked between the two looks
		return nil, &Error{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	}
	return &Principal{Account: k.Account, AccessKeyID: res.AccessKeyID, Region: res.Region}, nil
}

// authError maps a signature failure to SES's code. Both protocols use the
// v1 codes: SES serves them from one endpoint and was seen answering v2
// with SignatureDoesNotMatch; the v2 code for an unknown key is unconfirmed,
// and InvalidClientTokenId is the one SES documents.
func authError(e *sigv4.Error) *Error {
	return &Error{Status: e.HTTPStatus(false), Code: e.Code(false), Message: e.Message}
}
