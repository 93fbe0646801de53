package registry

import (
	"context"
	"errors"
	"time"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/store"
)

// SendingAccount is an account's sending state in a region, as v1's
// GetSendQuota and GetAccountSendingEnabled and v2's GetAccount show it.
type SendingAccount struct {
	// Production is false in the sandbox, where every account starts.
	Production bool
	Enabled    bool
	Quota      account.Quota
	// SentLast24Hours counts recipients, as SES's quota does.
	SentLast24Hours float64
}

var errNoSending = errors.New("sending is not configured on this server")

// Day is the window of the daily quota: rolling, not a calendar day.
const Day = 24 * time.Hour

// SendingAccount returns the account's sending state in the scope's region.
func (r *Registry) SendingAccount(ctx context.Context, sc Scope) (*SendingAccount, error) {
	if r.Sending == nil || r.Outbox == nil {
		return nil, errNoSending
	}
	st, err := r.Sending.GetSendingState(ctx, sc.Account, sc.Region)
	if err != nil {
		return nil, err
	}
	n, err := r.Outbox.CountMessages(ctx, store.Limit{Kind: store.SentMail, Account: sc.Account, Region: sc.Region, Since: r.now().Add(-Day)})
	if err != nil {
		return nil, err
	}
	return &SendingAccount{Production: st.Production, Enabled: !st.Paused, Quota: account.QuotaOf(st), SentLast24Hours: float64(n)}, nil
}

// SetSendingEnabled is v1 UpdateAccountSendingEnabled and v2
// PutAccountSendingAttributes: it pauses or resumes the account's sending
// in the region.
func (r *Registry) SetSendingEnabled(ctx context.Context, sc Scope, enabled bool) error {
	if r.Sending == nil {
		return errNoSending
	}
	_, err := r.Sending.UpdateSendingState(ctx, sc.Account, sc.Region, func(s *store.SendingState) error {
		s.Paused, s.Updated = !enabled, r.now()
		return nil
	})
	return err
}

// DataPoint is one 15 minutes of GetSendStatistics.
type DataPoint struct {
	Timestamp                                      time.Time
	DeliveryAttempts, Bounces, Complaints, Rejects int64
}

// SendStatistics is v1 GetSendStatistics: the recipients of the messages
// accepted in each 15 minutes of the last two weeks that had any, oldest
// first. Bounces and complaints stay 0 until Sesame has feedback events;
// nothing accepted is rejected later.
func (r *Registry) SendStatistics(ctx context.Context, sc Scope) ([]DataPoint, error) {
	if r.Sending == nil {
		return nil, errNoSending
	}
	vs, err := r.Sending.SentVolume(ctx, sc.Account, sc.Region, r.now().Add(-14*Day))
	if err != nil {
		return nil, err
	}
	var out []DataPoint
	for _, v := range vs {
		at := v.Created.Truncate(15 * time.Minute)
		if len(out) == 0 || !out[len(out)-1].Timestamp.Equal(at) {
			out = append(out, DataPoint{Timestamp: at})
		}
		out[len(out)-1].DeliveryAttempts += int64(v.Recipients)
	}
	return out, nil
}

// Unverified returns those of addrs (bare, canonical addresses) that may
// not send or receive in the sandbox: neither the address nor its domain
// nor a parent domain is verified in the account and region. It is the
// rule of checkSender, for many addresses in one read.
func (r *Registry) Unverified(ctx context.Context, sc Scope, addrs []string) ([]string, error) {
	var cands []string
	for _, a := range addrs {
		d := names.DomainOf(a)
		cands = append(append(cands, a, d), names.Parents(d)...)
	}
	found, err := r.Store.GetIdentities(ctx, sc.Account, sc.Region, cands)
	if err != nil {
		return nil, err
	}
	ok := func(name string) bool { id := found[name]; return id != nil && r.view(id).VerifiedForSending() }
	var out []string
	for _, a := range addrs {
		d := names.DomainOf(a)
		verified := ok(a) || ok(d)
		for _, p := range names.Parents(d) {
			verified = verified || ok(p)
		}
		if !verified {
			out = append(out, a)
		}
	}
	return out, nil
}
