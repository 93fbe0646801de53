package api

import (
	"context"
	"errors"
	"net/http"

	"golang.org/x/time/rate"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/sigv4"
)

// Principal is who signed a request, and for which region.
type Principal struct {
	Account     string
	AccessKeyID string
	Region      string
}

// Authenticator checks SigV4 signatures against the account store, reads
// request bodies within Limits, and keeps each account to its rate.
type Authenticator struct {
	Accounts *account.Manager
	v1, v2   *sigv4.Verifier
	limits   Limits
	budget   *budget
	large    largeBodies
	rates    *accountRates
}

// NewAuthenticator returns an Authenticator. v1 accepts the scope services
// "ses" and "email"; v2 only "ses" (SES rejects "email" there). Both accept
// only the given regions in the credential scope (config.SESRegions, or
// the operator's list); none given accepts any name shaped like a region.
func NewAuthenticator(m *account.Manager, l Limits, regions []string) *Authenticator {
	lookup := func(ctx context.Context, id string) (string, bool, error) {
		k, ok, err := m.Resolve(ctx, id)
		return k.Secret, ok, err
	}
	l = l.withDefaults()
	rates := &accountRates{rate: rate.Limit(l.AccountRate), burst: l.AccountBurst}
	if l.AccountRate < 0 {
		rates.rate = -1
	}
	return &Authenticator{
		Accounts: m,
		v1:       &sigv4.Verifier{Lookup: lookup, Services: []string{"ses", "email"}, Regions: regions},
		v2:       &sigv4.Verifier{Lookup: lookup, Services: []string{"ses"}, Regions: regions},
		limits:   l,
		budget:   newBudget(l),
		rates:    rates,
	}
}

// Limits returns the limits in force, defaults filled in.
func (a *Authenticator) Limits() Limits { return a.limits }

// V1 authenticates a Query protocol request; see authenticate.
func (a *Authenticator) V1(w http.ResponseWriter, r *http.Request, c *Call, large BodyRule) error {
	return a.authenticate(a.v1, w, r, c, large)
}

// V2 authenticates a REST-JSON request; see authenticate.
func (a *Authenticator) V2(w http.ResponseWriter, r *http.Request, c *Call, large BodyRule) error {
	return a.authenticate(a.v2, w, r, c, large)
}

// authenticate sets c.Principal and c.Body, in an order that lets no
// unauthenticated request cost the server more than its headers: the
// signature's header or query is parsed and its key looked up first; only
// then is the body read (see readBody), and last the signature compared,
// since it covers the body's hash. The account's rate is charged once the
// signature holds, so that no one can spend another account's requests.
func (a *Authenticator) authenticate(v *sigv4.Verifier, w http.ResponseWriter, r *http.Request, c *Call, large BodyRule) error {
	p, err := v.Begin(r.Context(), r)
	if err != nil {
		return authError(err)
	}
	body, err := a.readBody(w, r, c, p.AccessKeyID(), large)
	if err != nil {
		return err
	}
	res, err := p.Finish(body)
	if err != nil {
		return authError(err)
	}
	k, ok, err := a.Accounts.Resolve(r.Context(), res.AccessKeyID)
	if err != nil {
		return err
	}
	if !ok { // revoked between the two looks
		return &Error{Status: http.StatusForbidden, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	}
	if !a.rates.allow(k.Account) {
		return Throttled("Rate exceeded")
	}
	c.Principal = &Principal{Account: k.Account, AccessKeyID: res.AccessKeyID, Region: res.Region}
	c.Body = body
	return nil
}

// authError maps a signature failure to SES's code. Both protocols use the
// v1 codes: SES serves them from one endpoint and was seen answering v2
// with SignatureDoesNotMatch; the v2 code for an unknown key is unconfirmed,
// and InvalidClientTokenId is the one SES documents.
func authError(err error) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &Error{Status: se.HTTPStatus(false), Code: se.Code(false), Message: se.Message}
	}
	return err
}
