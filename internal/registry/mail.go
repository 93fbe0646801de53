package registry

import (
	"context"
	"errors"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/mail"
	"github.com/sesame/sesame/internal/store"
)

// The mail side of address verification. The registry asks the mailer's
// optional capabilities, in the manner of http.Flusher.

// LimitChecker is a Mailer that caps verification mail: the registry asks
// it before changing an identity, so that a refused request leaves no
// trace (a v2 CreateEmailIdentity that was throttled can be retried).
type LimitChecker interface {
	CheckLimits(ctx context.Context, k identity.Key) error
}

// CustomMailer is a Mailer that sends custom verification mail and returns
// the message ID.
type CustomMailer interface {
	SendCustomVerification(ctx context.Context, id *identity.Identity, t *store.Template) (string, error)
}

// checkMailLimits refuses a verification mail to the address k that the
// mailer's caps would refuse. A verified address gets no mail, so it is
// never refused; nor is an existing one when create is set, since the
// operation fails with AlreadyExists.
func (r *Registry) checkMailLimits(ctx context.Context, k identity.Key, create bool) error {
	lc, ok := r.Mailer.(LimitChecker)
	if !ok {
		return nil
	}
	if cur, err := r.Store.GetIdentity(ctx, k); err == nil && (create || cur.Verification.Status == identity.Success) {
		return nil
	}
	if err := lc.CheckLimits(ctx, k); err != nil {
		if me := mailError(err); me != nil {
			return me
		}
		return err
	}
	return nil
}

// mailError turns the mailer's refusals into operation errors; nil for
// other errors.
func mailError(err error) *Error {
	var le *mail.LimitError
	switch {
	case errors.As(err, &le) && le.Daily:
		return &Error{Kind: QuotaExceeded, Message: le.Error(), Err: le}
	case errors.As(err, &le):
		return &Error{Kind: Throttled, Message: le.Error(), Err: le}
	case errors.Is(err, mail.ErrTooLarge):
		return wrapf(Rejected, err, "Message length is more than %d bytes long: make the template content smaller.", mail.MaxMessage)
	}
	return nil
}

// ConfirmEmail is the click on a verification link: a Pending (or
// TemporaryFailure) address becomes Success. It returns the status
// afterwards, Failed when the 24-hour window had run out; store.ErrNotFound
// when the identity is gone. It implements mail.Confirmer.
func (r *Registry) ConfirmEmail(ctx context.Context, k identity.Key) (identity.Status, error) {
	now := r.now()
	id, err := r.update(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil || cur.IsDomain() {
			return nil, store.ErrNotFound
		}
		// A copy: returning nil must leave what the store (and its cache)
		// holds as it was.
		next := cur.Clone()
		p := r.Policies.Link
		next.Verification.Expire(now, p)
		if !next.Verification.Apply(identity.Result{Outcome: identity.Found, At: now, Detail: "The verification link was opened."}, p) {
			return nil, nil // Success already, or Failed: nothing to store
		}
		r.schedule(next, now)
		return next, nil
	})
	if err != nil {
		return "", err
	}
	return r.view(id).Verification.Status, nil
}

// MailFailed records that the verification mail of an address could not
// be delivered for good: a Pending address becomes Failed, with the
// relay's answer as the detail, so the API shows it; asking again sends a
// new mail.
func (r *Registry) MailFailed(ctx context.Context, k identity.Key, at time.Time, detail string) error {
	_, err := r.update(ctx, k, func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil || cur.IsDomain() {
			return nil, nil
		}
		c := &cur.Verification
		if c.Status != identity.Pending && c.Status != identity.TemporaryFailure {
			return nil, nil
		}
		c.Status, c.LastChecked, c.Detail = identity.Failed, at, "The verification email could not be delivered: "+detail
		r.schedule(cur, at)
		return cur, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
