package mail

import (
	"fmt"
	"time"
)

// Limits cap the verification mail an account may cause, against abuse of
// Sesame as a mail cannon. Both are counted from the outbox, so they hold
// across restarts and processes. A zero field turns its cap off.
//
// SES documents neither cap for verification mail. Sesame's choices:
//   - PerRecipient is per account and address: a tenant cannot bomb an
//     address, yet retries stay possible (SES: asking again sends a new
//     mail and does not fail), and one tenant's mail never throttles, nor
//     reveals anything to, another tenant.
//   - PerAccount is SES's sandbox sending quota, 200 messages per 24 hours.
type Limits struct {
	PerRecipient    int
	RecipientWindow time.Duration
	PerAccount      int
	AccountWindow   time.Duration
}

// DefaultLimits are 5 mails per address per hour and 200 per account per
// 24 hours.
func DefaultLimits() Limits {
	return Limits{PerRecipient: 5, RecipientWindow: time.Hour, PerAccount: 200, AccountWindow: 24 * time.Hour}
}

// LimitError is a refused verification mail. Daily tells the account cap
// (SES: "Daily message quota exceeded.") from the per-address rate (SES:
// "Maximum sending rate exceeded."); each protocol has its code for each.
type LimitError struct {
	Daily     bool
	Max       int
	Window    time.Duration
	Recipient string
}

func (e *LimitError) Error() string {
	if e.Daily {
		return fmt.Sprintf("Daily message quota exceeded. This account may cause at most %d verification emails per %s; try again later.", e.Max, per(e.Window))
	}
	return fmt.Sprintf("Maximum sending rate exceeded. At most %d verification emails may go to %s per %s; use the link of the last one, or try again later.", e.Max, e.Recipient, per(e.Window))
}

// per writes a window for people: "hour", "24 hours", "10 minutes".
func per(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d == time.Minute:
		return "minute"
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
